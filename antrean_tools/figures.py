"""The office's figures for a period, computed in SQL over the store (read-only).

What each figure means, for the office head: docs/figures.md. In short:

- a ticket counts under the period of its business day; `issued` under the
  service it was issued for (its code's letter), every other figure under
  the service it ended in, per counter under the counter of its last call,
  per hour under the office-local hour it was issued in;
- wait: from issue to the ticket's FIRST call (the calls table), for every
  ticket that was called; service time: from its last call or recall to
  its completion, for every served ticket;
- recalls, no-shows marked and undone (requeued or called again), requeues
  and transfers are counted from the calls table;
- median and p90 are nearest-rank percentiles computed in SQL with window
  functions: the value at rank ceil(p/100 * n) of the n sorted values (so
  the median of an even count is the lower middle value, and every figure
  is a wait that really happened); the mean is the plain average.

Tickets from before the calls table (schema 1) have no calls: their wait
and service time fall back to the ticket's latest call.

The office's own queue (total, service, counter, hour, day, booking) is the
tickets issued at the office; a mobile unit's tickets (tagged with their
visit, synced home) have figures per visit and per visit and service, since
they waited and were served somewhere else. `booking` splits the office's
tickets into booked (issued for a redeemed booking) and walk-in. Bookings of
the period are counted apart: booked, redeemed, not came (never redeemed,
its day over), pending (its day not over yet), cancelled.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

DIMENSIONS = ("total", "service", "counter", "hour", "day", "booking", "visit", "visit_service")
BOOKING_KEYS = ("booked", "walk_in")
BOOKING_COUNTS = ("booked", "redeemed", "not_came", "pending", "cancelled")


@dataclass(frozen=True, slots=True)
class Spread:
    """How long something took, over n tickets (seconds); None without any."""

    n: int = 0
    median: float | None = None
    p90: float | None = None
    mean: float | None = None
    max: float | None = None


@dataclass(frozen=True, slots=True)
class Group:
    """The figures of one group of tickets (a service, a counter, an hour, a day, all)."""

    issued: int = 0
    priority: int = 0
    served: int = 0
    no_shows: int = 0  # ended as a no-show
    cancelled: int = 0
    expired: int = 0
    open: int = 0  # waiting or at a counter when the report was made
    calls: int = 0  # call_next / call_ticket, first calls and calls again
    recalls: int = 0
    no_show_marks: int = 0  # every no-show pressed, undone ones included
    no_shows_undone: int = 0  # a no-show followed by a requeue or a call again
    requeues: int = 0
    transfers: int = 0
    wait: Spread = field(default_factory=Spread)
    service: Spread = field(default_factory=Spread)


@dataclass(frozen=True, slots=True)
class Period:
    """The figures of the business days start..end (inclusive)."""

    start: date
    end: date
    groups: dict[str, dict[str, Group]]  # dimension -> key -> figures
    day_hour: dict[str, dict[int, int]]  # day -> office-local hour -> tickets issued
    stock: dict[str, Any]
    progress: dict[str, Any]
    bookings: dict[str, Any] = field(default_factory=dict)
    visits: dict[str, dict[str, Any]] = field(default_factory=dict)  # visit id -> where, when

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON types (`antrean report --json`)."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "percentile": "nearest-rank",
            "groups": {
                dim: {key: asdict(g) for key, g in groups.items()}
                for dim, groups in self.groups.items()
            },
            "day_hour": {
                d: {str(h): n for h, n in hours.items()} for d, hours in self.day_hour.items()
            },
            "stock": self.stock,
            "progress": self.progress,
            "bookings": self.bookings,
            "visits": self.visits,
        }


def utc_offset_modifier(tz: ZoneInfo, day: date) -> str:
    """SQLite's modifier for office-local time; Indonesia keeps no daylight saving."""
    offset = tz.utcoffset(datetime.combine(day, time(12)))
    minutes = int(offset.total_seconds() // 60) if offset else 0
    return f"{minutes:+d} minutes"


# One row per ticket of the period, with what the calls table says about it.
_TICKETS = """
WITH c AS (
    SELECT ticket,
        MIN(CASE WHEN kind = 'call' THEN id END) AS first_call,
        MAX(CASE WHEN kind IN ('call', 'recall') THEN id END) AS last_call,
        SUM(kind = 'call') AS calls, SUM(kind = 'recall') AS recalls,
        SUM(kind = 'no_show') AS no_show_marks, SUM(kind = 'requeue') AS requeues,
        SUM(kind = 'transfer') AS transfers
    FROM calls WHERE day BETWEEN :start AND :end GROUP BY ticket
),
t AS (
    SELECT tk.id, tk.day, tk.service, tk.priority, tk.status, tk.counter, tk.visit,
        -- the letter before the number: a unit's codes start with its prefix (KA001)
        substr(rtrim(tk.code, '0123456789'), -1) AS issued_for,
        tk.booked_from IS NOT NULL AS booked,
        CAST(strftime('%H', tk.issued_at, :offset) AS INTEGER) AS hour,
        ROUND((julianday(COALESCE(fc.at, tk.called_at)) - julianday(tk.issued_at)) * 86400, 3)
            AS wait_s,
        CASE WHEN tk.status = 'served' THEN ROUND((julianday(tk.finished_at)
            - julianday(COALESCE(lc.at, tk.recalled_at, tk.called_at))) * 86400, 3) END
            AS service_s,
        COALESCE(c.calls, 0) AS calls, COALESCE(c.recalls, 0) AS recalls,
        COALESCE(c.no_show_marks, 0) AS no_show_marks, COALESCE(c.requeues, 0) AS requeues,
        COALESCE(c.transfers, 0) AS transfers
    FROM tickets tk
    LEFT JOIN c ON c.ticket = tk.id
    LEFT JOIN calls fc ON fc.id = c.first_call
    LEFT JOIN calls lc ON lc.id = c.last_call
    WHERE tk.day BETWEEN :start AND :end
)
SELECT * FROM t
"""
# The period's tickets are worked out once into a temporary table (the
# connection's own temp database: a read-only store allows it), then grouped.
_TEMP = "temp.period_tickets"
# The office's own tickets; a mobile unit's (with a visit) are grouped per visit.
_HERE = "CASE WHEN visit IS NULL THEN {} END"
# dimension -> the key a ticket is grouped by (its own column expression, never input)
_KEYS = {
    "total": _HERE.format("''"),
    "service": _HERE.format("service"),
    "counter": _HERE.format("CAST(counter AS TEXT)"),
    "hour": _HERE.format("CAST(hour AS TEXT)"),
    "day": _HERE.format("day"),
    "booking": _HERE.format("CASE WHEN booked THEN 'booked' ELSE 'walk_in' END"),
    "visit": "visit",
    "visit_service": "visit || '/' || service",
}
# A service's `issued` is what was issued for it (its code's letter), as the quota counts.
_ISSUED_KEYS = {
    "service": _HERE.format("issued_for"),
    "visit_service": "visit || '/' || issued_for",
}

_COUNTS = """
SELECT {key}, COUNT(*), SUM(priority), SUM(status = 'served'), SUM(status = 'no_show'),
    SUM(status = 'cancelled'), SUM(status = 'expired'), SUM(status IN ('waiting', 'called')),
    SUM(calls), SUM(recalls), SUM(no_show_marks),
    SUM(no_show_marks - (status = 'no_show')), SUM(requeues), SUM(transfers)
FROM temp.period_tickets WHERE {key} IS NOT NULL GROUP BY 1
"""

# Nearest rank: the value at rank ceil(p * n / 100), in integers (n * p + 99) / 100.
# One window (one sort) gives both the rank and the group's count.
_SPREAD = """
WITH v AS (
    SELECT {key} AS key, {column} AS value, ROW_NUMBER() OVER w AS rank,
        COUNT(*) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS n
    FROM temp.period_tickets WHERE {column} IS NOT NULL AND {key} IS NOT NULL
    WINDOW w AS (PARTITION BY {key} ORDER BY {column})
)
SELECT key, n, MAX(CASE WHEN rank = (n * 50 + 99) / 100 THEN value END),
    MAX(CASE WHEN rank = (n * 90 + 99) / 100 THEN value END), AVG(value), MAX(value)
FROM v GROUP BY key
"""

# Constant SQL joined from constant parts (S608 sees a concatenation, not input).
_ISSUED_FOR = "SELECT {key}, COUNT(*), SUM(priority) FROM temp.period_tickets GROUP BY 1"
_DAY_HOUR = (
    f"SELECT day, hour, COUNT(*) FROM {_TEMP} WHERE visit IS NULL"  # noqa: S608
    " GROUP BY day, hour ORDER BY day, hour"
)


def period_figures(
    db: sqlite3.Connection,
    start: date,
    end: date,
    tz: ZoneInfo,
    services: list[str] | None = None,
    counters: list[int] | None = None,
    drive: Any = None,
    today: date | None = None,
) -> Period:
    """Every figure of the business days start..end, read from the store `db`.

    `today` (the office's business day now) tells a booking that did not come
    from one whose day is not over; without it every day of the period is over.
    """
    params = {"start": str(start), "end": str(end), "offset": utc_offset_modifier(tz, start)}
    db.execute(f"DROP TABLE IF EXISTS {_TEMP}")
    db.execute(f"CREATE TABLE {_TEMP} AS {_TICKETS}", params)
    try:
        period = _period(db, start, end, services, counters, drive)
    finally:
        db.execute(f"DROP TABLE IF EXISTS {_TEMP}")
    period.bookings.update(booking_figures(db, start, end, today or end + timedelta(days=1)))
    return period


def _period(
    db: sqlite3.Connection,
    start: date,
    end: date,
    services: list[str] | None,
    counters: list[int] | None,
    drive: Any,
) -> Period:
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    visits = visits_of(db, start, end)
    for dim, key in _ordered_keys(services or [], counters or [], visits):
        rows[(dim, key)] = {}
    names = list(Group.__dataclass_fields__)[:13]  # the counts; wait and service follow
    for dim, key_sql in _KEYS.items():
        for key, *counts in db.execute(_COUNTS.format(key=key_sql)):
            rows.setdefault((dim, key), {}).update(dict(zip(names, counts, strict=True)))
        for column, name in (("wait_s", "wait"), ("service_s", "service")):
            query = _SPREAD.format(key=key_sql, column=column)
            for key, n, median, p90, mean, most in db.execute(query):
                rows.setdefault((dim, key), {})[name] = Spread(n, median, p90, mean, most)
    for dim, key_sql in _ISSUED_KEYS.items():
        issued_for = {s: (n, p) for s, n, p in db.execute(_ISSUED_FOR.format(key=key_sql)) if s}
        for (d, key), values in rows.items():
            if d == dim:
                values["issued"], values["priority"] = issued_for.get(key, (0, 0))
        for key, (n, p) in issued_for.items():
            rows.setdefault((dim, key), {}).update(issued=n, priority=p)
    groups: dict[str, dict[str, Group]] = {dim: {} for dim in DIMENSIONS}
    for (dim, key), values in rows.items():
        wait, service = values.pop("wait", Spread()), values.pop("service", Spread())
        counts = {k: v or 0 for k, v in values.items()}
        groups[dim][key] = Group(**counts, wait=wait, service=service)
    if "" not in groups["total"]:
        groups["total"][""] = Group()
    groups["hour"] = dict(sorted(groups["hour"].items(), key=lambda kv: int(kv[0])))
    groups["day"] = dict(sorted(groups["day"].items()))
    groups["visit_service"] = dict(sorted(groups["visit_service"].items()))
    for key in groups["visit"]:
        visits.setdefault(key, {"day": None, "unit": None, "place": key, "kelurahan": None})
    day_hour: dict[str, dict[int, int]] = {}
    for day, hour, n in db.execute(_DAY_HOUR):
        day_hour.setdefault(day, {})[int(hour)] = n
    return Period(
        start,
        end,
        groups,
        day_hour,
        stock_figures(db, start, end),
        progress_figures(db, start, end, drive),
        visits=visits,
    )


def visits_of(db: sqlite3.Connection, start: date, end: date) -> dict[str, dict[str, Any]]:
    """The mobile unit's visits of the period (not cancelled): where, when, for whom."""
    out: dict[str, dict[str, Any]] = {}
    for (body,) in db.execute(
        "SELECT body FROM visits WHERE day BETWEEN ? AND ? AND status != 'cancelled'"
        " ORDER BY day, id",
        (str(start), str(end)),
    ):
        v = json.loads(body)
        out[v["id"]] = {
            "day": v["day"],
            "unit": v["unit"],
            "place": v.get("place_name", v["place"]),
            "kelurahan": v["kelurahan"],
            "expected": v.get("expected", 0),
            "status": v.get("status"),
        }
    return out


def booking_figures(db: sqlite3.Connection, start: date, end: date, today: date) -> dict[str, Any]:
    """Bookings for the period's days: booked, redeemed, not came, pending, cancelled.

    In total, per service and per kelurahan. `booked` is every booking not
    cancelled; one never redeemed did not come once its day is before `today`.
    A mobile unit's visit booking did not come once it is expired (its day
    over and the visit's items home); until then the unit may hold its
    redemption, so it is pending.
    """
    out: dict[str, Any] = {"total": dict.fromkeys(BOOKING_COUNTS, 0), "service": {}}
    out["kelurahan"] = {}
    for service, kelurahan, status, past, n in db.execute(
        "SELECT service, kelurahan, status,"
        " CASE WHEN visit IS NULL THEN day < ? ELSE status = 'expired' END, COUNT(*)"
        " FROM bookings WHERE day BETWEEN ? AND ? GROUP BY 1, 2, 3, 4 ORDER BY 1, 2",
        (str(today), str(start), str(end)),
    ):
        outcome = "redeemed" if status == "redeemed" else "not_came" if past else "pending"
        names = ("cancelled",) if status == "cancelled" else ("booked", outcome)
        for scope, key in (("service", service), ("kelurahan", kelurahan)):
            out[scope].setdefault(key, dict.fromkeys(BOOKING_COUNTS, 0))
        for tally in (out["total"], out["service"][service], out["kelurahan"][kelurahan]):
            for name in names:
                tally[name] += n
    return out


def stock_figures(db: sqlite3.Connection, start: date, end: date) -> dict[str, Any]:
    """Blank cards in the period: received, used, spoiled, corrected, and the balance after it."""
    sums = dict.fromkeys(("delivery", "used", "spoiled", "correction"), 0)
    sums.update(
        db.execute(
            "SELECT kind, SUM(count) FROM stock WHERE day BETWEEN ? AND ? GROUP BY kind",
            (str(start), str(end)),
        ).fetchall()
    )
    balance = db.execute(
        "SELECT COALESCE(SUM(count), 0) FROM stock WHERE day <= ?", (str(end),)
    ).fetchone()[0]
    entries = db.execute(
        "SELECT day, kind, count, note, who FROM stock WHERE day BETWEEN ? AND ?"
        " AND kind != 'used' ORDER BY id",
        (str(start), str(end)),
    ).fetchall()
    return {
        "received": sums["delivery"],
        "used": -sums["used"],
        "spoiled": -sums["spoiled"],
        "corrections": sums["correction"],
        "balance_end": balance,
        "entries": [
            dict(zip(("day", "kind", "count", "note", "who"), e, strict=True)) for e in entries
        ],
    }


def progress_figures(db: sqlite3.Connection, start: date, end: date, drive: Any) -> dict[str, Any]:
    """The drive per kelurahan and for the kecamatan, as of the period's last day.

    `today` is the period's last day, `month` its month up to that day,
    `since_start` from the drive's start (config [drive] start; else all
    history); the rate is recordings per week over the `rate_days` days up
    to that day, and `weeks_to_target` is what remains at that rate.
    """
    targets: dict[str, int] = dict(getattr(drive, "targets", {}) or {})
    targets.update(db.execute("SELECT kelurahan, target FROM kelurahan_targets ORDER BY id"))
    drive_start = getattr(drive, "start", None) or date.min
    rate_days = int(getattr(drive, "rate_days", 28))
    marks = {
        "today": (end, end),
        "month": (end.replace(day=1), end),
        "since_start": (max(drive_start, date(1, 1, 1)), end),
        "recent": (end - timedelta(days=rate_days - 1), end),
        "period": (start, end),
    }
    counts: dict[str, dict[str, int]] = {}
    for mark, (a, b) in marks.items():
        for kelurahan, n in db.execute(
            "SELECT COALESCE(kelurahan, ''), COUNT(*) FROM progress WHERE day BETWEEN ? AND ?"
            " GROUP BY kelurahan",
            (str(a), str(b)),
        ):
            counts.setdefault(kelurahan, {})[mark] = n
    sources: dict[str, int] = {}
    by_source: dict[str, dict[str, int]] = {}  # kelurahan -> source -> recordings in the period
    for kelurahan, source, n in db.execute(
        "SELECT COALESCE(kelurahan, ''), source, COUNT(*) FROM progress"
        " WHERE day BETWEEN ? AND ? GROUP BY 1, 2",
        (str(start), str(end)),
    ):
        sources[source] = sources.get(source, 0) + n
        by_source.setdefault(kelurahan, {})[source] = n

    def row(target: int | None, c: dict[str, int], name: str | None = "") -> dict[str, Any]:
        done = c.get("since_start", 0)
        per_week = c.get("recent", 0) * 7 / rate_days
        remaining = max(target - done, 0) if target is not None else None
        weeks = None
        if remaining is not None and per_week > 0:
            weeks = round(remaining / per_week, 1)
        return {
            "target": target,
            "today": c.get("today", 0),
            "month": c.get("month", 0),
            "since_start": done,
            "period": c.get("period", 0),
            "remaining": remaining,
            "per_week": round(per_week, 1),
            "weeks_to_target": weeks,
            "period_by_source": by_source.get(name, {}) if name is not None else sources,
        }

    kelurahan = {name: row(t, counts.get(name, {}), name) for name, t in sorted(targets.items())}
    others = sorted(k for k in counts if k and k not in targets)
    kelurahan.update({name: row(None, counts[name], name) for name in others})
    kelurahan["unknown"] = row(None, counts.get("", {}))
    total: dict[str, int] = {}
    for c in counts.values():
        for mark, n in c.items():
            total[mark] = total.get(mark, 0) + n
    return {
        "start": None if drive_start == date.min else drive_start.isoformat(),
        "rate_days": rate_days,
        "kelurahan": kelurahan,
        "kecamatan": row(sum(targets.values()) if targets else None, total, None),
        "sources": sources,
    }


def _ordered_keys(
    services: list[str], counters: list[int], visits: dict[str, Any]
) -> list[tuple[str, str]]:
    """The config's services and counters, booked and walk-in, the period's visits: listed first."""
    return (
        [("total", "")]
        + [("service", s) for s in services]
        + [("counter", str(n)) for n in counters]
        + [("booking", k) for k in BOOKING_KEYS]
        + [("visit", v) for v in visits]
    )


def period_of(
    day: date | None,
    month: str | None,
    week: str | None,
    span: tuple[date, date] | None,
    today: date,
) -> tuple[date, date]:
    """The business days a report covers: one day, an ISO week, a month, or a range."""
    if month:
        first = date.fromisoformat(f"{month}-01")
        nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        return first, nxt - timedelta(days=1)
    if week:
        year, number = week.split("-W")
        monday = date.fromisocalendar(int(year), int(number), 1)
        return monday, monday + timedelta(days=6)
    if span:
        return span
    return (day or today), (day or today)
