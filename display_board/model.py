"""What the board shows, built from the retained state and live events (no Kivy).

The retained `state/...` topics are the truth and replace the view whole;
`called` and `recalled` events update it at once (before their state
arrives) and are the only thing that is announced. Events carry `seq`:
duplicates are dropped, and a gap means events were missed, so the board
asks for the retained state again (resync).
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

log = logging.getLogger(__name__)

CALL_EVENTS = ("called", "recalled")
DAYS_ID = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
MONTHS_ID = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli",
    "Agustus", "September", "Oktober", "November", "Desember",
)  # fmt: skip
REMEMBERED_SEQS = 256  # enough to drop any duplicate QoS 1 can produce


@dataclass(frozen=True, slots=True)
class Call:
    """One call or recall of a ticket to a counter, as shown and spoken."""

    code: str  # "A012"
    counter: int
    counter_name: str  # "Loket 3"
    recall: bool = False
    seq: int | None = None  # the event's seq; None for calls from the retained history

    @property
    def letter(self) -> str:
        """The service letter(s) of the code: "A012" -> "A"."""
        return self.code.rstrip("0123456789")

    @property
    def number(self) -> int:
        """The day's number in the code: "A012" -> 12."""
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
    _service_order: list[str] = field(default_factory=list)
    _counter_order: list[int] = field(default_factory=list)
    _take_office_seq: bool = True
    _announced: deque[int] = field(default_factory=lambda: deque(maxlen=REMEMBERED_SEQS))
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
        if isinstance(seq, int) and (self._take_office_seq or self.last_seq is None):
            # The protocol: after (re)connecting or a resync, continue from office.seq.
            self.last_seq = seq
            self._take_office_seq = False

    def _calls(self, body: dict[str, Any]) -> None:
        self.recent = [
            Call(str(c["code"]), int(c["counter"]), str(c["counter_name"]), int(c["recalls"]) > 0)
            for c in body["calls"]
        ][: self.recent_limit]

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
        if event.get("kind") == "running_text" and isinstance(event.get("text"), str):
            self.running_text = event["text"]
        announce = None
        if call is not None and seq not in self._announced:
            self._announced.append(seq)
            announce = call
        return EventOutcome(announce=announce, resync=gap, changed=call is not None)

    def _call_event(self, event: dict[str, Any]) -> Call | None:
        try:
            ticket = event["ticket"]
            call = Call(
                code=str(ticket["code"]),
                counter=int(event["counter"]),
                counter_name=str(event["counter_name"]),
                recall=event["kind"] == "recalled",
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
        return self.recent[0] if self.recent else None

    def counter_views(self) -> list[CounterView]:
        order = self._counter_order or sorted(self.counters)
        return [self.counters[n] for n in order if n in self.counters]

    def service_views(self) -> list[ServiceView]:
        order = self._service_order or sorted(self.services)
        return [self.services[c] for c in order if c in self.services]


# Short notes for a service tile; the kiosk shows the full refusal message.
REFUSAL_NOTES = {"quota_full": "Kuota hari ini penuh", "office_closed": "Pendaftaran tutup"}


def _refusal_note(refusal: dict[str, Any], reason: str) -> str:
    code = str(refusal.get("code", ""))
    return REFUSAL_NOTES.get(code) or str(refusal.get("message") or reason or "Tutup")


def date_text(now: datetime) -> str:
    """The date as an Indonesian reads it: "Kamis, 26 November 2026"."""
    return f"{DAYS_ID[now.weekday()]}, {now.day} {MONTHS_ID[now.month - 1]} {now.year}"


def clock_text(now: datetime) -> str:
    """The time with Indonesian separators: "09.41"."""
    return now.strftime("%H.%M")
