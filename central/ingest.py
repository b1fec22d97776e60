"""One office's messages into PostgreSQL, in one transaction: events exactly once.

An event is one row keyed by (office, day, seq) and unique on (office, seq):
`INSERT ... ON CONFLICT DO NOTHING`, so a QoS 1 repeat, a replayed event or a
bridge's catch-up after a cut writes nothing twice. What cannot be taken
(not JSON, a field missing, a seq that comes back as another event after a
store reset, one far ahead of anything the office said) goes to
`quarantine` with the reason, and the office is flagged; the other messages
of the batch, and every other office, go on.

Per office, `contiguous` is the seq up to which nothing is missing; the
central service asks the office to replay from there (central.service).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import psycopg

from antrean.config import CENTRAL_DEVICE

log = logging.getLogger(__name__)

Conn = psycopg.Connection[tuple[Any, ...]]
# A seq this far past anything the office has said is garbage, not a gap to
# replay: a busy office publishes a few thousand events a day.
MAX_JUMP = 100_000
WALK = 5_000  # rows read per step when `contiguous` moves up
NOTIFY_CHANNEL = "antrean_ingest"  # payload: the office whose batch was committed


@dataclass(slots=True)
class Message:
    """What the central broker delivered: topic and raw payload."""

    topic: str
    payload: bytes


@dataclass(slots=True)
class Cursor:
    """How far one office is known (a row of `offices`, plus what only memory holds)."""

    office: str
    contiguous: int = 0  # every seq up to here is stored (or lost at the office)
    lost: int = 0  # seqs up to here that the office had pruned: never coming
    head: int = 0  # the highest seq the office has said it has (state/office, events)
    flagged: str | None = None
    replies: list[dict[str, Any]] = field(default_factory=list)  # replay results, this batch


@dataclass(slots=True)
class _Event:
    day: date
    seq: int
    kind: str
    at: datetime
    body: dict[str, Any]
    text: str


class Garbage(ValueError):
    """A message that is kept aside: its reason."""


def load_cursors(conn: Conn, offices: tuple[str, ...]) -> dict[str, Cursor]:
    """Every configured office's cursor, made on first sight."""
    with conn.transaction():
        conn.cursor().executemany(
            "INSERT INTO offices (office) VALUES (%s) ON CONFLICT DO NOTHING",
            [(o,) for o in offices],
        )
        rows = conn.execute("SELECT office, contiguous, lost, flagged FROM offices").fetchall()
    cursors = {o: Cursor(o, c, lost, c, f) for o, c, lost, f in rows}
    return {o: cursors[o] for o in offices}


def ingest(conn: Conn, cur: Cursor, messages: list[Message]) -> None:
    """Writes one office's messages in one transaction (raises psycopg errors; nothing half)."""
    with conn.transaction():
        events: list[tuple[_Event, Message]] = []
        for m in messages:
            try:
                events += [(e, m) for e in _route(conn, cur, m)]
            except Garbage as why:
                _quarantine(conn, cur, m, str(why))
        _write_events(conn, cur, events)
        _advance(conn, cur)
        conn.execute(
            "UPDATE offices SET contiguous = %s, lost = %s, flagged = %s,"
            " flagged_at = CASE WHEN flagged IS DISTINCT FROM %s THEN now() ELSE flagged_at END"
            " WHERE office = %s",
            (cur.contiguous, cur.lost, cur.flagged, cur.flagged, cur.office),
        )
        # Sent at commit, so a listener (the central web's phone pages) reads what it announces.
        conn.execute("SELECT pg_notify(%s, %s)", (NOTIFY_CHANNEL, cur.office))


def quarantine_alone(conn: Conn, cur: Cursor | None, m: Message, reason: str) -> None:
    """Keeps one message aside in a transaction of its own (a message PostgreSQL refused)."""
    with conn.transaction():
        _quarantine(conn, cur, m, reason)


def _route(conn: Conn, cur: Cursor, m: Message) -> list[_Event]:
    """The events a message carries (an event, or a replay's); state and presence upserted."""
    parts = m.topic.split("/")
    rest = parts[3:]
    body = _json(m.payload)
    if rest[:1] == ["event"] and len(rest) == 2:
        return [_event(body, rest[1])]
    if rest[:1] == ["state"] and len(rest) >= 2:
        topic = "/".join(rest[1:])
        if topic == "office":
            _office_state(cur, body)
        conn.execute(
            "INSERT INTO office_state (office, topic, body) VALUES (%s, %s, %s)"
            " ON CONFLICT (office, topic) DO UPDATE SET body = excluded.body, received = now()",
            (cur.office, topic, m.payload.decode()),
        )
        return []
    if rest[:1] == ["device"] and len(rest) == 3 and rest[2] == "status":
        conn.execute(
            "INSERT INTO presence (office, device, body) VALUES (%s, %s, %s)"
            " ON CONFLICT (office, device) DO UPDATE SET body = excluded.body, received = now()",
            (cur.office, rest[1], m.payload.decode()),
        )
        return []
    if rest == ["reply", CENTRAL_DEVICE]:
        return _replayed(cur, body)
    raise Garbage(f"unexpected topic {m.topic}")


def _json(payload: bytes) -> dict[str, Any]:
    try:
        body = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise Garbage(f"malformed: not JSON ({exc})") from None
    if not isinstance(body, dict):
        raise Garbage("malformed: not a JSON object")
    return body


def _event(body: Any, kind: str | None = None) -> _Event:
    if not isinstance(body, dict):
        raise Garbage("malformed: an event that is not a JSON object")
    seq, at, day = body.get("seq"), body.get("at"), body.get("day")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1 or seq >= 2**62:
        raise Garbage(f"malformed: seq {seq!r}")
    if not isinstance(body.get("kind"), str) or (kind is not None and body["kind"] != kind):
        raise Garbage(f"malformed: kind {body.get('kind')!r} on event/{kind}")
    try:
        when = datetime.fromisoformat(str(at))
        business_day = date.fromisoformat(str(day))
    except ValueError:
        raise Garbage(f"malformed: at {at!r} or day {day!r}") from None
    if when.tzinfo is None:
        raise Garbage(f"malformed: at {at!r} has no UTC offset")
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return _Event(business_day, seq, body["kind"], when, body, text)


def _office_state(cur: Cursor, body: dict[str, Any]) -> None:
    seq = body.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise Garbage(f"malformed: state/office seq {seq!r}")
    if cur.head and seq > cur.head + MAX_JUMP:
        raise Garbage(f"seq_jump: state/office seq {seq} far past {cur.head}")
    if seq < cur.contiguous:
        # Not an error to store (it is the office's state now), but its events
        # will reuse seqs the centre holds: say so on the central web.
        cur.flagged = f"seq went back to {seq} below {cur.contiguous} (store reset?)"
        log.warning("office %s: %s", cur.office, cur.flagged)
    cur.head = max(cur.head, seq)


def _replayed(cur: Cursor, body: dict[str, Any]) -> list[_Event]:
    """A `replay` reply's events; its `oldest` and `last` are kept for the cursor."""
    if body.get("ok") is not True or not isinstance(body.get("result"), dict):
        raise Garbage(f"replay refused: {str(body.get('error'))[:200]}")
    result = body["result"]
    items = result.get("events")
    if not isinstance(items, list):
        raise Garbage("malformed: a replay without events")
    cur.replies.append({"oldest": result.get("oldest"), "last": result.get("last")})
    return [_event(e) for e in items]


def _write_events(conn: Conn, cur: Cursor, events: list[tuple[_Event, Message]]) -> None:
    taken: dict[int, tuple[_Event, Message]] = {}
    for e, m in events:
        if e.seq <= cur.lost:
            _quarantine(conn, cur, m, f"seq_back: seq {e.seq} is at or below {cur.lost}")
        elif cur.head and e.seq > max(cur.head, cur.contiguous) + MAX_JUMP:
            _quarantine(conn, cur, m, f"seq_jump: seq {e.seq} far past {cur.head}")
        elif e.seq in taken:  # the same seq twice in one batch: a QoS 1 repeat, or not
            if taken[e.seq][0].body != e.body:
                _quarantine(conn, cur, m, f"seq_reused: seq {e.seq} is already another event")
        else:
            taken[e.seq] = (e, m)
            cur.head = max(cur.head, e.seq)
    if not taken:
        return
    rows = [e for e, _ in taken.values()]
    inserted = {
        seq
        for (seq,) in conn.execute(
            "INSERT INTO events (office, day, seq, kind, at, body)"
            " SELECT %s, * FROM unnest(%s::date[], %s::bigint[], %s::text[], %s::timestamptz[],"
            " %s::jsonb[]) ON CONFLICT DO NOTHING RETURNING seq",
            (
                cur.office,
                [e.day for e in rows],
                [e.seq for e in rows],
                [e.kind for e in rows],
                [e.at for e in rows],
                [e.text for e in rows],
            ),
        ).fetchall()
    }
    again = [s for s in taken if s not in inserted]
    if not again:
        return
    stored: dict[int, Any] = dict(
        conn.execute(
            "SELECT seq, body FROM events WHERE office = %s AND seq = ANY(%s)",
            (cur.office, again),
        ).fetchall()
    )
    for seq in again:
        e, m = taken[seq]
        if stored.get(seq) != e.body:
            _quarantine(conn, cur, m, f"seq_reused: seq {seq} is already another event")


def _advance(conn: Conn, cur: Cursor) -> None:
    """Moves `contiguous` over the stored seqs that follow it, and past what the office lost."""
    for reply in cur.replies:
        oldest, last = reply["oldest"], reply["last"]
        if isinstance(oldest, int) and oldest - 1 > cur.contiguous:
            cur.lost = cur.contiguous = oldest - 1  # pruned at the office before we asked
        elif oldest is None and isinstance(last, int) and last > cur.contiguous:
            cur.lost = cur.contiguous = last  # the office logs nothing (yet) up to `last`
        if isinstance(last, int):
            cur.head = max(cur.head, last)
    cur.replies.clear()
    while True:
        seqs = conn.execute(
            "SELECT seq FROM events WHERE office = %s AND seq > %s ORDER BY seq LIMIT %s",
            (cur.office, cur.contiguous, WALK),
        ).fetchall()
        start = cur.contiguous
        for (seq,) in seqs:
            if seq != cur.contiguous + 1:
                return
            cur.contiguous = seq
        if len(seqs) < WALK or cur.contiguous == start:
            return


def _quarantine(conn: Conn, cur: Cursor | None, m: Message, reason: str) -> None:
    office = cur.office if cur else None
    if cur is None or cur.flagged != reason[:200]:  # a flood of one kind is one line
        log.warning("kept aside from %s (%s): %s", office or "?", m.topic, reason)
    conn.execute(
        "INSERT INTO quarantine (office, topic, reason, payload) VALUES (%s, %s, %s, %s)",
        (office, m.topic[:300], reason[:500], m.payload[:65536]),
    )
    if cur is not None:
        cur.flagged = reason[:200]
