"""What the board shows, built from the retained state and live events (no Kivy).

The retained `state/...` topics are the truth and replace the view whole;
`called` and `recalled` events update it at once (before their state
arrives) and are the only thing that is announced. Events carry `seq`:
duplicates are dropped, and a gap means events were missed, so the board
asks for the retained state again (resync). A `state/office` whose seq is
below the last one means the queue's history went back (a store restored or
reset): the board starts again from that seq.

Only live calls are shown: the big panel holds a ticket still called at its
counter, the recent list the calls that were answered (called or served).
A no-show is not live, and a transferred or requeued ticket leaves
`state/calls` by itself.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from antrean.domain import TicketStatus
from antrean.events import EventKind
from antrean.words import day_text

log = logging.getLogger(__name__)

CALL_EVENTS = (EventKind.CALLED, EventKind.RECALLED)
REMEMBERED_CALLS = 256  # enough to drop any duplicate QoS 1 can produce
CALLED = TicketStatus.CALLED  # a ticket's status while it is at the counter that called it
LIVE_STATUSES = frozenset({CALLED, TicketStatus.SERVED})  # calls the board shows; not no_show


@dataclass(frozen=True, slots=True)
class Call:
    """One call or recall of a ticket to a counter, as shown and spoken."""

    code: str  # "A012"
    counter: int
    counter_name: str  # "Loket 3"
    # The day's number, as the queue sends it (A012 -> 12): spoken, never parsed
    # back from the code. None only from a queue service older than `number` in
    # state/calls; then the code's digits are read.
    sent_number: int | None = field(default=None, compare=False)
    recall: bool = False
    seq: int | None = None  # the event's seq; None for calls from the retained history
    status: str = CALLED  # the ticket's status: "called" (at the counter now) or "served"

    @property
    def letter(self) -> str:
        """The letter(s) printed before the number: "A012" -> "A".

        The code's own letter, not the ticket's service: a ticket transferred
        from A to B keeps the code A012 that the resident holds.
        """
        return self.code.rstrip("0123456789")

    @property
    def number(self) -> int:
        """The day's number: "A012" -> 12."""
        if self.sent_number is not None:
            return self.sent_number
        digits = self.code[len(self.letter) :]
        return int(digits) if digits else 0

    @property
    def headline(self) -> str:
        """The big line on the screen: "A012 → LOKET 3"."""
        return f"{self.code} \u2192 {self.counter_name.upper()}"


@dataclass(frozen=True, slots=True)
class CounterView:
    number: int
    name: str
    open: bool
    serving: str | None  # the ticket code it serves now


@dataclass(frozen=True, slots=True)
class ServiceView:
    code: str
    name: str
    waiting: int
    accepting: bool
    note: str  # why it does not accept tickets, "" when it does


@dataclass(frozen=True, slots=True)
class EventOutcome:
    """What the board must do about one event."""

    announce: Call | None = None  # a live call to speak
    resync: bool = False  # events were missed: read the retained state again
    changed: bool = False  # the view changed


@dataclass
class BoardModel:
    """The board's view of the office: last good data, kept while offline."""

    office_name: str = ""
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Jakarta"))
    day: str = ""
    running_text: str = ""
    services: dict[str, ServiceView] = field(default_factory=dict)
    counters: dict[int, CounterView] = field(default_factory=dict)
    recent: list[Call] = field(default_factory=list)  # newest first
    last_seq: int | None = None
    resyncs: int = 0
    rewinds: int = 0  # times the queue's seq went back (a store restored or reset)
    _service_order: list[str] = field(default_factory=list)
    _counter_order: list[int] = field(default_factory=list)
    _take_office_seq: bool = True
    # The calls already spoken, by what makes an event itself (seq, kind, time,
    # ticket), not by seq alone: after the queue's seq goes back, a new call
    # reuses a seq spoken before and must still be spoken.
    _announced: deque[tuple[Any, ...]] = field(
        default_factory=lambda: deque(maxlen=REMEMBERED_CALLS)
    )
    recent_limit: int = 10

    # ---- retained state ------------------------------------------------------

    def apply_state(self, path: str, body: dict[str, Any]) -> bool:
        """Replaces one part of the view with a retained payload; True if it was used."""
        try:
            if path == "office":
                self._office(body)
            elif path == "calls":
                self._calls(body)
            elif path.startswith("service/"):
                self._service(body)
            elif path.startswith("counter/"):
                self._counter(body)
            else:
                return False
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("ignored a malformed state/%s: %s", path, exc)
            return False
        return True

    def expect_resync(self) -> None:
        """The next state/office gives the seq to continue from (after a reconnect or gap)."""
        self._take_office_seq = True

    def _office(self, body: dict[str, Any]) -> None:
        self.office_name = str(body["name"])
        self.day = str(body.get("day", ""))
        self.running_text = str(body.get("running_text", ""))
        try:
            self.timezone = ZoneInfo(str(body.get("timezone", "Asia/Jakarta")))
        except (ZoneInfoNotFoundError, ValueError):
            log.warning("unknown time zone %r in state/office", body.get("timezone"))
        self._service_order = [str(s) for s in body.get("services", [])]
        self._counter_order = [int(c) for c in body.get("counters", [])]
        seq = body.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool):
            return
        if self._take_office_seq or self.last_seq is None:
            # The protocol: after (re)connecting or a resync, continue from office.seq.
            self.last_seq = seq
            self._take_office_seq = False
        elif seq < self.last_seq:
            # One publisher, one topic: state/office never arrives out of order. A
            # lower seq is a queue whose store was restored or reset while the board
            # ran; keeping the old seq would drop every call until the new one caught up.
            log.warning("the queue's seq went back from %d to %d: following it", self.last_seq, seq)
            self.rewinds += 1
            self.last_seq = seq

    def _calls(self, body: dict[str, Any]) -> None:
        entries = body["calls"]
        if not isinstance(entries, list):
            raise TypeError(f"calls is {type(entries).__name__}, not a list")
        calls = [call for entry in entries if (call := _history_call(entry)) is not None]
        self.recent = [c for c in calls if c.status in LIVE_STATUSES][: self.recent_limit]

    def _service(self, body: dict[str, Any]) -> None:
        refusal = body.get("refusal") or {}
        accepting = bool(body.get("accepting", True))
        view = ServiceView(
            code=str(body["code"]),
            name=str(body["name"]),
            waiting=int(body["waiting"]),
            accepting=accepting,
            note="" if accepting else _refusal_note(refusal, str(body.get("reason") or "")),
        )
        self.services[view.code] = view

    def _counter(self, body: dict[str, Any]) -> None:
        current = body.get("current")
        view = CounterView(
            number=int(body["number"]),
            name=str(body["name"]),
            open=bool(body["open"]),
            serving=str(current["code"]) if isinstance(current, dict) else None,
        )
        self.counters[view.number] = view

    # ---- live events ---------------------------------------------------------

    def apply_event(self, event: dict[str, Any]) -> EventOutcome:
        """Applies one event in seq order; says whether to announce or resync."""
        seq = event.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool):
            log.warning("ignored an event without a seq: %r", event)
            return EventOutcome()
        if self.last_seq is not None and seq <= self.last_seq:
            log.debug("dropped event seq %d (at or below %d)", seq, self.last_seq)
            return EventOutcome()
        gap = self.last_seq is not None and seq > self.last_seq + 1
        if gap:
            log.warning("event seq jumped from %s to %d: resync", self.last_seq, seq)
            self.resyncs += 1
            self.expect_resync()
        self.last_seq = seq
        call = self._call_event(event) if event.get("kind") in CALL_EVENTS else None
        if event.get("kind") == EventKind.RUNNING_TEXT and isinstance(event.get("text"), str):
            self.running_text = event["text"]
        announce = None
        key = _event_key(event)
        if call is not None and key not in self._announced:
            self._announced.append(key)
            announce = call
        return EventOutcome(announce=announce, resync=gap, changed=call is not None)

    def _call_event(self, event: dict[str, Any]) -> Call | None:
        try:
            ticket = event["ticket"]
            call = Call(
                code=str(ticket["code"]),
                counter=int(event["counter"]),
                counter_name=str(event["counter_name"]),
                sent_number=int(ticket["number"]),
                recall=event["kind"] == EventKind.RECALLED,
                seq=int(event["seq"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("ignored a malformed %s event: %s", event.get("kind"), exc)
            return None
        # Show it at once; the retained state that follows confirms it.
        self.recent = [call, *(c for c in self.recent if c.code != call.code)][: self.recent_limit]
        old = self.counters.get(call.counter)
        self.counters[call.counter] = (
            CounterView(call.counter, call.counter_name, True, call.code)
            if old is None
            else CounterView(old.number, old.name, True, call.code)
        )
        return call

    # ---- what the screen shows ------------------------------------------------

    @property
    def latest(self) -> Call | None:
        """The newest call whose ticket is still at its counter (the big panel)."""
        return next((c for c in self.recent if c.status == CALLED), None)

    def is_current(self, call: Call) -> bool:
        """Whether `call`'s ticket is still called at that counter (so it may stay big)."""
        return any(
            (c.code, c.counter) == (call.code, call.counter) and c.status == CALLED
            for c in self.recent
        )

    def counter_views(self) -> list[CounterView]:
        order = self._counter_order or sorted(self.counters)
        return [self.counters[n] for n in order if n in self.counters]

    def service_views(self) -> list[ServiceView]:
        order = self._service_order or sorted(self.services)
        return [self.services[c] for c in order if c in self.services]


def _event_key(event: dict[str, Any]) -> tuple[Any, ...]:
    """What tells a QoS 1 duplicate (the same event again) from a new call with the same seq."""
    ticket = event.get("ticket")
    code = ticket.get("code") if isinstance(ticket, dict) else None
    return (event.get("seq"), event.get("kind"), event.get("at"), code, event.get("counter"))


def _history_call(entry: Any) -> Call | None:
    """One entry of state/calls; a malformed one is skipped (logged), not the whole list."""
    try:
        counter = int(entry["counter"])
        name = entry.get("counter_name")
        number = entry.get("number")
        return Call(
            code=str(entry["code"]),
            counter=counter,
            counter_name=str(name) if name else f"Loket {counter}",
            sent_number=None if number is None else int(number),
            recall=int(entry.get("recalls") or 0) > 0,
            status=str(entry.get("status") or CALLED),  # older services sent no status
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        log.warning("skipped a malformed entry in state/calls: %r (%s)", entry, exc)
        return None


# Short notes for a service tile; the kiosk shows the full refusal message.
REFUSAL_NOTES = {"quota_full": "Kuota hari ini penuh", "office_closed": "Pendaftaran tutup"}


def _refusal_note(refusal: dict[str, Any], reason: str) -> str:
    code = str(refusal.get("code", ""))
    return REFUSAL_NOTES.get(code) or str(refusal.get("message") or reason or "Tutup")


def date_text(now: datetime) -> str:
    """The date as an Indonesian reads it: "Kamis, 26 November 2026"."""
    return day_text(now)


def clock_text(now: datetime) -> str:
    """The time with Indonesian separators: "09.41"."""
    return now.strftime("%H.%M")
