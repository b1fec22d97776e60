"""The wire format's one home: the JSON of events, replies, tickets and retained states.

The engine returns typed events and results (antrean.events); this module
turns them, and the engine's state, into the payloads docs/protocol.md
describes: times in ISO 8601 with milliseconds, dates as YYYY-MM-DD, tickets
as the contract's ticket object.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from antrean import __version__
from antrean.booking import visit_code_hash
from antrean.bookings import BookingStatus
from antrean.domain import QueueError, iso_time, ticket_code
from antrean.events import (
    BookedSlot,
    BookingView,
    Event,
    EventKind,
    PublicTicket,
    Result,
    TicketView,
)
from antrean.hours import hours_view
from antrean.visits import VisitStatus, running_text

# A unit needs the bookings it may redeem, and those cancelled since, to say so.
CARRIED = (BookingStatus.BOOKED, BookingStatus.CANCELLED)

if TYPE_CHECKING:
    from antrean.engine import Engine


@functools.lru_cache(maxsize=64)
def ticket(view: TicketView) -> dict[str, Any]:
    """The contract's ticket object (do not change it: one view's object is shared).

    A call's ticket is in its event, its reply and its counter's state: it is
    built once.
    """
    t = view.ticket
    return {
        "id": t.id,
        "code": t.code,
        "service": t.service,
        "number": t.number,
        "priority": t.priority,
        "booked": t.booked_from is not None,
        "status": t.status.value,
        "issued_at": iso_time(t.issued_at),
        "called_at": iso_time(t.called_at),
        "recalled_at": iso_time(t.recalled_at),
        "finished_at": iso_time(t.finished_at),
        "counter": t.counter,
        "recalls": t.recalls,
        "ahead": view.ahead,
        "estimated_wait_s": view.estimated_wait_s,
        "counters_open": view.counters_open,
    }


def _value(value: object) -> Any:
    convert = _CONVERT.get(type(value))
    return value if convert is None else convert(value)


def _fields(obj: object) -> dict[str, Any]:
    names = _NAMES.get(type(obj))
    if names is None:  # the dataclass's field order is the key order on the wire
        names = _NAMES[type(obj)] = tuple(f.name for f in dataclasses.fields(obj))  # type: ignore[arg-type]
    return {name: _value(getattr(obj, name)) for name in names}


_NAMES: dict[type, tuple[str, ...]] = {}
# By exact type (a look-up, not a chain of isinstance): every other value of an
# event or result (int, str, bool, None) is already JSON.
_CONVERT: dict[type, Callable[[Any], Any]] = {
    TicketView: ticket,
    EventKind: lambda kind: kind.value,
    datetime: iso_time,
    date: date.isoformat,
    BookedSlot: _fields,  # issue 12: the booking inside a redeem's or a find's result
    BookingView: _fields,
    PublicTicket: _fields,  # issue 15: the phone page's tickets
    list: lambda items: [_value(item) for item in items],
}


def event(e: Event) -> dict[str, Any]:
    """An event's payload on event/{kind}."""
    return _fields(e)


def result(r: Result | None) -> dict[str, Any]:
    """The `result` of a successful reply."""
    return {} if r is None else _fields(r)


def dumps(payload: dict[str, Any]) -> str:
    """A payload as the wire carries it: compact JSON, UTF-8 text left as it is."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def loads(text: str) -> Any:
    """A payload this module made (e.g. a logged event) back to JSON types."""
    return json.loads(text)


def reply_ok(cmd_id: str, result: dict[str, Any]) -> dict[str, Any]:
    """A success on reply/{device}."""
    return {"id": cmd_id, "ok": True, "result": result}


def reply_error(cmd_id: str | None, error: QueueError) -> dict[str, Any]:
    """A refusal on reply/{device}; `id` is None when the command's id was unreadable."""
    details = {k: v for k, v in error.as_dict().items() if k != "id"}
    return {"id": cmd_id, "ok": False, "error": details}


# ---- retained state payloads ------------------------------------------------


def service_state(engine: Engine, code: str) -> dict[str, Any]:
    """state/service/{code}: whether residents can take a number, and how long it takes."""
    cfg = engine.config.services_by_code[code]
    waiting = engine.waiting_count(cfg.code)
    status = engine.services[cfg.code]
    refusal = engine.refusal(cfg.code)
    last_called = engine.last_called(cfg.code)
    last = engine.issued_today(cfg.code)
    return {
        "code": cfg.code,
        "name": cfg.name,
        "name_en": cfg.name_en,
        "day": str(engine.day),
        "open": status.open,
        "reason": status.reason,
        "accepting": refusal is None,
        "refusal": refusal.as_dict() if refusal else None,
        "waiting": waiting,
        "waiting_priority": engine.waiting_count(cfg.code, priority_only=True),
        "last_issued": ticket_code(cfg.code, last) if last else None,
        "last_called": last_called.code if last_called else None,
        "estimated_wait_s": engine.estimated_wait_s(cfg.code, waiting),
        "counters_open": engine.counters_open(cfg.code),
        "quota": cfg.daily_quota,
        "issued": last,
        "hours": hours_view(cfg.hours or engine.config.office.hours),
    }


def counter_state(engine: Engine, number: int) -> dict[str, Any]:
    """state/counter/{number}: open or closed, and the ticket being served."""
    cfg = engine.config.counters_by_number[number]
    status = engine.counters[cfg.number]
    current = engine.tickets.get(status.current) if status.current else None
    return {
        "number": cfg.number,
        "name": cfg.name,
        "open": status.open,
        "services": list(cfg.services),
        "current": ticket(engine.view(current)) if current else None,
    }


def calls_state(engine: Engine) -> dict[str, Any]:
    """state/calls: the most recent calls, newest first."""
    counters = engine.config.counters_by_number
    calls = []
    for t in engine.recent_calls():
        counter = counters.get(t.counter) if t.counter else None
        calls.append(
            {
                "code": t.code,
                "number": t.number,
                "service": t.service,
                "priority": t.priority,
                "counter": t.counter,
                "counter_name": counter.name if counter else None,
                "called_at": iso_time(t.last_called_at),
                "recalls": t.recalls,
                "status": t.status.value,
            }
        )
    return {"day": str(engine.day), "calls": calls}


def office_state(engine: Engine) -> dict[str, Any]:
    """state/office: name, business day, hours, running text and the last event seq."""
    office, rules = engine.config.office, engine.rules
    return {
        "id": office.id,
        "name": office.name,
        "day": str(engine.day),
        "timezone": office.timezone.key,
        "hours": hours_view(office.hours),
        "running_text": engine.board_text(),  # staff's, else the visits' (issue 13)
        "seq": engine.seq,
        "priority": {
            "enabled": rules.priority_enabled,
            "name": rules.priority_name,
            "description": rules.priority_description,
            "ratio": rules.priority_ratio,
        },
        "services": [s.code for s in engine.config.services],
        "counters": [c.number for c in engine.config.counters],
        "version": __version__,
    }


def snapshot(engine: Engine) -> dict[str, Any]:
    """The result of `snapshot`: everything a client needs to draw itself, in one reply."""
    return {
        "office": office_state(engine),
        "services": [service_state(engine, s.code) for s in engine.config.services],
        "counters": [counter_state(engine, c.number) for c in engine.config.counters],
        "calls": calls_state(engine),
        "stock": engine.stock_view(),  # issue 14
        "drive": drive_state(engine),
        "visits": visits_state(engine),  # issue 13
    }


def visits_state(engine: Engine) -> dict[str, Any]:
    """state/visits (issue 13): the coming visits and the running text made from them."""
    return {
        "day": str(engine.day),
        "visits": [v.as_dict() for v in engine.coming_visits()],
        "running_text": running_text(engine.visits.values(), engine.day),
        "open": engine.open_visit,
    }


def unit_bookings(engine: Engine, unit: str) -> dict[str, Any]:
    """sync/{unit}/bookings (issue 13): what a unit carries of its visits' bookings.

    Only a hash of each code, the service, the slot and the status: nothing
    of the resident (docs/booking.md, "Bookings for a visit").
    """
    carried = [
        {"visit": b.visit, "code_hash": visit_code_hash(b.visit, b.code), "service": b.service,
         "slot": b.slot, "status": b.status.value}
        for b in sorted(engine.bookings.by_code.values(), key=lambda b: (b.day, b.slot, b.code))
        if b.visit is not None and b.status in CARRIED
        and (v := engine.visits.get(b.visit)) is not None and v.unit == unit
        and v.status in (VisitStatus.PLANNED, VisitStatus.OPEN)
    ]  # fmt: skip
    return {"unit": unit, "office": engine.config.office.id, "bookings": carried}


def drive_state(engine: Engine) -> dict[str, Any]:
    """The drive's kelurahan and targets (the console's buttons; issue 14)."""
    recording = [s.code for s in engine.config.services if s.recording]
    return {"recording_services": recording, "targets": dict(engine.targets)}


def drive_progress(engine: Engine, counts: dict[str, tuple[int, int, int]]) -> dict[str, Any]:
    """state/drive (issue 16): targets and recordings per kelurahan, for the central web.

    `counts` is the store's kelurahan -> (since the drive's start, the 7 days
    up to today, today); "" is the recordings of no known kelurahan.
    """
    names = sorted(set(engine.targets) | {k for k in counts if k})
    kelurahan = {}
    for name in [*names, ""]:
        since, week, today = counts.get(name, (0, 0, 0))
        target = engine.targets.get(name)
        kelurahan[name] = {"target": target, "recorded": since, "week": week, "today": today}
    start = engine.config.drive.start
    return {
        "day": str(engine.day),
        "start": start.isoformat() if start else None,
        "recording_services": [s.code for s in engine.config.services if s.recording],
        "target": sum(engine.targets.values()),
        "recorded": sum(c[0] for c in counts.values()),
        "week": sum(c[1] for c in counts.values()),
        "today": sum(c[2] for c in counts.values()),
        "kelurahan": kelurahan,
    }
