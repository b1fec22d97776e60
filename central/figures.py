"""The central figures of one office's day, from its events in PostgreSQL.

They follow the office's own figures (docs/figures.md): `issued` counts under
the service a ticket was issued for (its code's letter), `served` under the
service it was served in (the ticket's service in its `served` event).
"""

from __future__ import annotations

from datetime import date

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
