"""The central figures of one office's day, from its events in PostgreSQL.

They follow the office's own figures (docs/figures.md): `issued` counts under
the service a ticket was issued for (its code's letter), `served` under the
service it was served in (the ticket's service in its `served` event).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from central.ingest import Conn

_COUNTS = """
SELECT service, SUM(issued)::int, SUM(served)::int FROM (
    SELECT left(body->'ticket'->>'code', 1) AS service, 1 AS issued, 0 AS served
        FROM events WHERE office = %(office)s AND day = %(day)s AND kind = 'issued'
    UNION ALL
    SELECT body->'ticket'->>'service', 0, 1
        FROM events WHERE office = %(office)s AND day = %(day)s AND kind = 'served'
) e GROUP BY service ORDER BY service
"""


def service_counts(conn: Conn, office: str, day: date) -> dict[str, tuple[int, int]]:
    """service -> (issued, served) of one office's business day."""
    rows = conn.execute(_COUNTS, {"office": office, "day": day}).fetchall()
    return {s: (i, v) for s, i, v in rows}


@dataclass(slots=True)
class ServiceFigures:
    """One service's figures of a period, as antrean_tools.figures counts them for the office."""

    issued: int = 0
    served: int = 0
    waits: list[float] = field(default_factory=list)  # seconds, issue to first call

    def _rank(self, p: int) -> float | None:
        """Nearest rank: the value at rank ceil(p * n / 100), as the office's SQL takes it."""
        if not self.waits:
            return None
        return sorted(self.waits)[(len(self.waits) * p + 99) // 100 - 1]

    @property
    def wait_median(self) -> float | None:
        return self._rank(50)

    @property
    def wait_p90(self) -> float | None:
        return self._rank(90)


_TICKETS = """
SELECT kind, body->'ticket' FROM events
WHERE office = %s AND day BETWEEN %s AND %s AND body ? 'ticket' ORDER BY seq
"""


def period_figures(conn: Conn, office: str, start: date, end: date) -> dict[str, ServiceFigures]:
    """service -> figures of the business days start..end, from the office's events.

    As the office counts (docs/figures.md): `issued` under the letter of the
    ticket's code, `served` and the wait under the service the ticket ended
    in (its latest event); the wait runs from issue to its first call.
    """
    issued: dict[str, str] = {}  # ticket id -> the letter it was issued for
    first_call: dict[str, float] = {}  # ticket id -> wait in seconds
    last: dict[str, dict[str, Any]] = {}  # ticket id -> its latest ticket object
    for kind, t in conn.execute(_TICKETS, (office, start, end)).fetchall():
        tid = t["id"]
        last[tid] = t
        if kind == "issued":
            issued[tid] = t["code"].rstrip("0123456789")[-1:]
        elif kind == "called" and tid not in first_call and t.get("called_at"):
            wait = datetime.fromisoformat(t["called_at"]) - datetime.fromisoformat(t["issued_at"])
            first_call[tid] = round(wait.total_seconds(), 3)
    out: dict[str, ServiceFigures] = {}
    for letter in issued.values():
        out.setdefault(letter, ServiceFigures()).issued += 1
    for tid, t in last.items():
        if tid not in issued:
            continue  # a ticket of a day before the period
        figures = out.setdefault(t["service"], ServiceFigures())
        figures.served += t["status"] == "served"
        if tid in first_call:
            figures.waits.append(first_call[tid])
    return dict(sorted(out.items()))
