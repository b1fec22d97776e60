"""Builds a store holding a year of history: ~150,000 served tickets over 250 business days.

The schema comes from antrean.store.Store (so migrations are the real ones);
the rows are bulk-inserted with sqlite3 in the layout Store writes: ids
"{day}/{code}", aware-UTC ISO timestamps, every ticket served at a counter.
The last business day is the one before today, as on a morning restart.
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from antrean.store import Store

ZONE = ZoneInfo("Asia/Jakarta")
# The example office: services and the counters that serve them; tickets per day.
DAILY = {"A": 120, "B": 80, "C": 250, "D": 150}  # 600 a day
COUNTERS = {"A": (1, 2), "B": (2, 3), "C": (3, 4), "D": (4,)}
COMMAND_DAYS = 3  # the service keeps command ids this long (store.COMMAND_MEMORY_DAYS)


def business_days(count: int, before: date) -> list[date]:
    """The `count` weekdays before `before`, oldest first."""
    days: list[date] = []
    day = before
    while len(days) < count:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            days.append(day)
    return days[::-1]


def day_rows(day: date, rng: random.Random) -> Iterator[tuple[object, ...]]:
    """One business day's tickets, issued 08:00-15:00 local, each served."""
    opens = datetime.combine(day, time(8), ZONE).astimezone(UTC)
    plan = [code for code, n in DAILY.items() for _ in range(n)]
    rng.shuffle(plan)
    numbers = dict.fromkeys(DAILY, 0)
    for order, service in enumerate(plan, start=1):
        numbers[service] += 1
        number = numbers[service]
        code = f"{service}{number:03d}"
        issued = opens + timedelta(seconds=order * 42 + rng.random())
        called = issued + timedelta(seconds=rng.uniform(60, 3600))
        finished = called + timedelta(seconds=rng.uniform(120, 900))
        yield (
            f"{day.isoformat()}/{code}",
            day.isoformat(),
            service,
            number,
            code,
            int(rng.random() < 0.1),
            "served",
            issued.isoformat(),
            order,
            called.isoformat(),
            finished.isoformat(),
            rng.choice(COUNTERS[service]),
            0,
        )


def command_rows(tickets: list[tuple[object, ...]]) -> Iterator[tuple[str, str, str, str]]:
    """The remembered commands of the last days: an issue and a call per ticket."""
    for n, t in enumerate(tickets):
        reply = {"id": f"i-{n}", "ok": True, "result": {"ticket": {"id": t[0], "code": t[4]}}}
        yield "kiosk-1", f"i-{n}", str(t[7]), json.dumps(reply)
        yield f"counter-{t[11]}", f"c-{n}", str(t[9]), json.dumps(reply)


# Named columns, so later migrations that add columns with defaults keep working.
INSERT_TICKET = (
    "INSERT INTO tickets (id, day, service, number, code, priority, status, issued_at, ord,"
    " called_at, finished_at, counter, recalls) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
)


def build_history(path: Path, days: int = 250, seed: int = 7) -> int:
    """Writes the store at path; returns the number of tickets."""
    Store(path).close()  # the schema, through the real migrations
    rng = random.Random(seed)
    today = datetime.now(ZONE).date()
    all_days = business_days(days, today)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("BEGIN")
    total, recent = 0, []
    for day in all_days:
        rows = list(day_rows(day, rng))
        db.executemany(INSERT_TICKET, rows)
        total += len(rows)
        if (today - day).days <= COMMAND_DAYS:
            recent += rows
    db.executemany("INSERT INTO commands VALUES (?,?,?,?)", command_rows(recent))
    counters = [(n, 0, None, 0, 0) for n in range(1, 5)]
    db.executemany("INSERT INTO counters VALUES (?,?,?,?,?)", counters)
    db.executemany("INSERT INTO services VALUES (?,?,?)", [(c, 1, "") for c in DAILY])
    meta = {"seq": str(total * 3), "day": all_days[-1].isoformat(), "running_text": "Selamat"}
    db.executemany("INSERT INTO meta VALUES (?,?)", list(meta.items()))
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return total


def build_empty(path: Path) -> None:
    """A store with the schema and no rows."""
    Store(path).close()
