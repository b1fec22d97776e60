"""The residents' phone page at the centre: `/t/{token}` from the events in PostgreSQL.

For an office whose hub the phones cannot reach. The centre holds no token:
the office's `issued` event carries the token's SHA-256 (antrean.tokens), so
the page hashes the presented token and looks the hash up; a database read
cannot yield a working address, nor can anything here list the tickets.

The ticket is worked out from its office's events of the day, as the office's
engine would: its latest event gives the status and the counter; the people
ahead are the waiting tickets of its service in the lanes ahead of it and
older ones of its own lane (antrean.lanes); the estimate scales the office's
retained `state/service` estimate to them. Live: the central service sends a
PostgreSQL NOTIFY per committed batch, naming the office; the page's stream
listens for it (Notices), so a call reaches the phone within a batch.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
from collections.abc import Callable
from typing import Any

import psycopg

from antrean.tokens import token_hash
from central.ingest import NOTIFY_CHANNEL, Conn

log = logging.getLogger(__name__)

LANE = {"priority": 0, "booked": 1, "walk_in": 2}  # the calling order of the lanes


def lane(ticket: dict[str, Any]) -> int:
    if ticket.get("priority"):
        return LANE["priority"]
    return LANE["booked"] if ticket.get("booked") else LANE["walk_in"]


def find(
    conn: Conn, token: str, waiting: Waiting | None = None
) -> tuple[str, str, dict[str, Any]] | None:
    """(office id, its name, the page's ticket view) for a token, or None (unknown, past day)."""
    row = conn.execute(
        "SELECT office, day, body->'ticket'->>'id' FROM events"
        " WHERE kind = 'issued' AND body->>'token_hash' = %s LIMIT 1",
        (token_hash(token),),
    ).fetchone()
    if row is None:
        return None
    office, day, ticket_id = row
    (latest_day,) = conn.execute(
        "SELECT max(day) FROM events WHERE office = %s", (office,)
    ).fetchone() or (day,)
    if latest_day != day:  # the office's day ended: today's tokens are gone, as at the office
        return None
    last = conn.execute(
        "SELECT body FROM events WHERE office = %s AND day = %s AND body->'ticket'->>'id' = %s"
        " ORDER BY seq DESC LIMIT 1",
        (office, day, ticket_id),
    ).fetchone()
    assert last is not None  # the issued event itself
    named = conn.execute(
        "SELECT body->>'name' FROM office_state WHERE office = %s AND topic = 'office'", (office,)
    ).fetchone()
    name = named[0] if named and named[0] else office
    rows = (waiting or Waiting()).of(conn, office, day)
    return office, name, view(conn, office, day, token, last[0], rows)


def view(
    conn: Conn, office: str, day: Any, token: str, event: dict[str, Any], waiting: list[Any]
) -> dict[str, Any]:
    """The same fields as the office's tickets_by_token gives its phone page."""
    t = event["ticket"]
    state_row = conn.execute(
        "SELECT body FROM office_state WHERE office = %s AND topic = %s",
        (office, f"service/{t['service']}"),
    ).fetchone()
    state: dict[str, Any] = state_row[0] if state_row else {}
    ahead = people_ahead(waiting, t) if t["status"] == "waiting" else None
    called = t["status"] == "called"
    counter = t.get("counter") if called else None
    return {
        "token": token,
        "day": str(day),
        "code": t["code"],
        "service": t["service"],
        "service_name": state.get("name", t["service"]),
        "status": t["status"],
        "ahead": ahead,
        "estimated_wait_s": estimate(state, ahead) if ahead is not None else None,
        "counters_open": state.get("counters_open", t.get("counters_open", 0)),
        "counter": counter,
        "counter_name": (event.get("counter_name") or f"Loket {counter}") if called else None,
        "recalls": t.get("recalls", 0),
    }


def waiting_tickets(conn: Conn, office: str, day: Any) -> list[dict[str, Any]]:
    """The office's waiting tickets of the day, each as its latest event left it."""
    rows = conn.execute(
        "SELECT DISTINCT ON (body->'ticket'->>'id') body->'ticket' FROM events"
        " WHERE office = %s AND day = %s AND body ? 'ticket'"
        " ORDER BY body->'ticket'->>'id', seq DESC",
        (office, day),
    ).fetchall()
    return [t for (t,) in rows if t["status"] == "waiting"]


def people_ahead(waiting: list[dict[str, Any]], ticket: dict[str, Any]) -> int:
    """Waiting tickets of its service called before it (the rule of antrean.lanes.ahead)."""
    mine, when = lane(ticket), (ticket["issued_at"], ticket["number"])
    return sum(
        1
        for t in waiting
        if t["service"] == ticket["service"]
        and t["id"] != ticket["id"]
        and (lane(t) < mine or (lane(t) == mine and (t["issued_at"], t["number"]) < when))
    )


class Waiting:
    """The day's waiting tickets per office, read once per change of that office.

    A call wakes every open page of the office at once; without this each
    would read the whole day's events (45 ms for 1,000 tickets). `version` is
    the office's notice count (Notices.version): a batch committed while the
    list was read moves it, so the next page reads again.
    """

    def __init__(self, version: Callable[[str], int] | None = None) -> None:
        self._version = version
        self._cache: dict[str, tuple[tuple[int, Any], list[dict[str, Any]]]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def of(self, conn: Conn, office: str, day: Any) -> list[dict[str, Any]]:
        if self._version is None:
            return waiting_tickets(conn, office, day)
        with self._guard:
            lock = self._locks.setdefault(office, threading.Lock())
        with lock:  # the pages woken together wait for one read, not each do it
            key = (self._version(office), day)
            hit = self._cache.get(office)
            if hit is not None and hit[0] == key:
                return hit[1]
            rows = waiting_tickets(conn, office, day)
            self._cache[office] = (key, rows)
            return rows


def estimate(state: dict[str, Any], ahead: int) -> int:
    """The office's own estimate per waiting person (state/service), times the people ahead."""
    waiting, total = state.get("waiting"), state.get("estimated_wait_s")
    if not isinstance(waiting, int) or not isinstance(total, int | float) or waiting < 1:
        return 0
    return math.ceil(ahead * total / waiting)


class Notices:
    """The central service's NOTIFY per committed batch, as a version per office to wait on."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._epoch = 0  # moves on each (re)connection: anything may have changed unheard
        self._counts: dict[str, int] = {}
        self._waiters: set[tuple[str, asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def version(self, office: str) -> int:
        return self._epoch + self._counts.get(office, 0)  # both only rise

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="central-notices", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.dsn, autocommit=True) as conn:
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    self._bump(None)
                    while not self._stop.is_set():
                        for n in conn.notifies(timeout=1.0):
                            self._bump(n.payload)
            except psycopg.Error as exc:
                log.warning("central web: no PostgreSQL notices (%s); again in 2 s", exc)
                self._bump(None)  # unheard changes: the cached waiting lists are read again
                self._stop.wait(2)

    def _bump(self, office: str | None) -> None:
        with self._lock:
            if office is None:
                self._epoch += 1
            else:
                self._counts[office] = self._counts.get(office, 0) + 1
            woken = [w for w in self._waiters if office is None or w[0] == office]
        for _office, loop, event in woken:
            loop.call_soon_threadsafe(event.set)

    def of(self, office: str) -> OfficeNotices:
        self.start()
        return OfficeNotices(self, office)

    async def changed(self, office: str, seen: int, timeout: float) -> int:
        """Waits until the office's version passes `seen` (or the timeout); the version now."""
        if self.version(office) != seen:
            return self.version(office)
        waiter = (office, asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._waiters.add(waiter)
        try:
            if self.version(office) == seen:
                await asyncio.wait_for(waiter[2].wait(), timeout)
        except TimeoutError:
            pass
        finally:
            with self._lock:
                self._waiters.discard(waiter)
        return self.version(office)


class OfficeNotices:
    """One office's notices, in the shape web.stream.sse waits on."""

    def __init__(self, notices: Notices, office: str) -> None:
        self.notices, self.office = notices, office

    async def changed(self, seen: int, timeout: float) -> int:
        return await self.notices.changed(self.office, seen, timeout)
