"""What the engine says happened: typed events and results, with no JSON in them.

antrean.wire turns these into the contract's payloads; clients compare the
`kind` of an event they receive with EventKind (a StrEnum equals its text).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from antrean.domain import CounterNumber, ServiceCode, Ticket


class EventKind(enum.StrEnum):
    """The last level of `event/{kind}`, and the `kind` field of every event."""

    ISSUED = "issued"
    CALLED = "called"
    RECALLED = "recalled"
    SERVED = "served"
    NO_SHOW = "no_show"
    TRANSFERRED = "transferred"
    REQUEUED = "requeued"
    CANCELLED = "cancelled"
    COUNTER_OPENED = "counter_opened"
    COUNTER_CLOSED = "counter_closed"
    SERVICE_OPENED = "service_opened"
    SERVICE_CLOSED = "service_closed"
    RUNNING_TEXT = "running_text"
    DAY_STARTED = "day_started"
    STOCK = "stock"  # issue 14: the blank-card ledger moved


@dataclass(frozen=True, slots=True)
class TicketView:
    """A ticket and the figures worked out when it was shown (they are not updated)."""

    ticket: Ticket
    ahead: int
    estimated_wait_s: int
    counters_open: int


# ---- events: the field order is the order of the keys on the wire ----------


@dataclass(frozen=True, slots=True)
class Event:
    """Common to every event: `seq` rises by one per event per office."""

    seq: int
    kind: EventKind
    at: datetime
    day: date


@dataclass(frozen=True, slots=True)
class TicketEvent(Event):
    """requeued, cancelled (and issued, as IssuedEvent)."""

    ticket: TicketView


@dataclass(frozen=True, slots=True)
class IssuedEvent(TicketEvent):
    """issued: also the SHA-256 of the phone-page token (antrean.tokens.token_hash)."""

    token_hash: str


@dataclass(frozen=True, slots=True)
class CalledEvent(Event):
    """called: what the board shows and speaks."""

    ticket: TicketView
    counter: CounterNumber
    in_order: bool
    counter_name: str


@dataclass(frozen=True, slots=True)
class AtCounterEvent(Event):
    """recalled, served, no_show: something happened to a counter's ticket."""

    ticket: TicketView
    counter: CounterNumber
    counter_name: str


@dataclass(frozen=True, slots=True)
class TransferredEvent(Event):
    """transferred: the ticket already waits in its new service."""

    ticket: TicketView
    from_service: ServiceCode
    counter: CounterNumber
    counter_name: str


@dataclass(frozen=True, slots=True)
class CounterEvent(Event):
    """counter_opened, counter_closed."""

    counter: CounterNumber
    counter_name: str


@dataclass(frozen=True, slots=True)
class ServiceEvent(Event):
    """service_opened, service_closed."""

    service: ServiceCode
    reason: str


@dataclass(frozen=True, slots=True)
class RunningTextEvent(Event):
    """running_text: the board's announcement line changed."""

    text: str


@dataclass(frozen=True, slots=True)
class DayStartedEvent(Event):
    """day_started: the rollover; `expired` tickets of `previous_day` ended."""

    previous_day: date
    expired: int


@dataclass(frozen=True, slots=True)
class StockEvent(Event):
    """stock: a ledger entry (delivery, used, spoiled, correction) and the new balance."""

    entry: str
    count: int
    balance: int


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """An office action and who did it (device/user, as the stock ledger names them).

    Not published: a row of the store's audit table, written with the change.
    """

    at: datetime
    day: date
    who: str
    action: str
    subject: str  # what it acted on: "B: Printer rusak", "2", a booking code, a visit id


# ---- results: the `result` of a reply, same rule for the key order ----------


@dataclass(frozen=True, slots=True)
class TicketResult:
    """issue, recall, no_show, complete, transfer, requeue, cancel."""

    ticket: TicketView | None


@dataclass(frozen=True, slots=True)
class IssueResult:
    """issue: the new ticket and its phone-page token (for the kiosk's QR only)."""

    ticket: TicketView
    token: str


@dataclass(frozen=True, slots=True)
class PublicTicket:
    """What a ticket's phone page may show (issue 15): never a name, NIK or phone."""

    token: str
    day: date
    code: str
    service: str
    service_name: str
    status: str
    ahead: int | None  # while waiting
    estimated_wait_s: int | None  # while waiting
    counters_open: int
    counter: int | None  # once called
    counter_name: str | None
    called_at: datetime | None
    recalls: int


@dataclass(frozen=True, slots=True)
class PublicTicketsResult:
    """tickets_by_token: the tickets found, in the order asked; unknown tokens are left out."""

    tickets: list[PublicTicket]


@dataclass(frozen=True, slots=True)
class CallResult:
    """call_next, call_ticket: the ticket called (None: nobody waits) and the one finished."""

    ticket: TicketView | None
    finished: TicketView | None


@dataclass(frozen=True, slots=True)
class CounterOpenResult:
    counter: CounterNumber
    open: bool


@dataclass(frozen=True, slots=True)
class CounterCloseResult:
    counter: CounterNumber
    open: bool
    finished: TicketView | None


@dataclass(frozen=True, slots=True)
class ServiceResult:
    service: ServiceCode
    open: bool
    reason: str


@dataclass(frozen=True, slots=True)
class RunningTextResult:
    running_text: str


@dataclass(frozen=True, slots=True)
class DayResult:
    day: date


@dataclass(frozen=True, slots=True)
class StockResult:
    """stock_receive, stock_spoil, stock_adjust: the state/stock payload after the entry."""

    stock: dict[str, Any]


@dataclass(frozen=True, slots=True)
class TargetResult:
    kelurahan: str
    target: int


# issue 12: pre-registration


@dataclass(frozen=True, slots=True)
class BookedSlot:
    """A booking as the kiosk hears of it: no name, no NIK."""

    code: str
    day: date
    slot: str  # as residents read it, "08.00-09.00"
    service: ServiceCode


@dataclass(frozen=True, slots=True)
class BookingView:
    """A booking as staff look it up: the NIK's last four digits only."""

    code: str
    day: date
    slot: str
    service: ServiceCode
    nik_last4: str
    name: str | None
    kelurahan: str
    status: str
    ticket: str | None
    visit: str | None = None  # issue 13: redeemed at this visit, on the unit


@dataclass(frozen=True, slots=True)
class ImportChunkResult:
    """booking_import without `count`: rows held so far for the batch."""

    batch: str
    received: int


@dataclass(frozen=True, slots=True)
class ImportPageResult:
    """booking_import_result: [line, outcome, code or reason, day, slot] from `offset` on."""

    batch: str
    offset: int
    results: list[list[Any]]
    more: bool


@dataclass(frozen=True, slots=True)
class ImportResult:
    """booking_import's last chunk: the totals and the first page of results."""

    batch: str
    booked: int
    unchanged: int
    refused: int
    offset: int
    results: list[list[Any]]
    more: bool


@dataclass(frozen=True, slots=True)
class RedeemResult:
    """redeem: the ticket issued for the booking, and its phone-page token."""

    ticket: TicketView
    booking: BookedSlot
    token: str


@dataclass(frozen=True, slots=True)
class BookingResult:
    """find_booking, cancel_booking."""

    booking: BookingView


@dataclass(frozen=True, slots=True)
class BookResult:
    """book: the booking, and whether it was there before (the same call again, or a list)."""

    booking: BookingView
    again: bool


@dataclass(frozen=True, slots=True)
class BookingsResult:
    """find_booking by name and kelurahan: the bookings held whose names match."""

    bookings: list[BookingView]


@dataclass(frozen=True, slots=True)
class CarriedResult:
    """visit_bookings (on a unit): how many of the office's bookings were new or changed."""

    taken: int


@dataclass(frozen=True, slots=True)
class PurgeResult:
    """booking_purge: names and phones of bookings before `before` are erased."""

    before: date


@dataclass(frozen=True, slots=True)
class VisitResult:
    """visit_plan, visit_cancel, visit_open, visit_close: the visit afterwards (issue 13)."""

    visit: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ClockFloorResult:
    """clock_floor_reset: the unit's clock floor before and after (issue 13)."""

    previous: datetime | None
    floor: datetime


Result = (
    TicketResult
    | CallResult
    | CounterOpenResult
    | CounterCloseResult
    | ServiceResult
    | RunningTextResult
    | DayResult
    | StockResult
    | TargetResult
    | ImportChunkResult
    | ImportPageResult
    | ImportResult
    | RedeemResult
    | BookingResult
    | BookResult
    | BookingsResult
    | PurgeResult
    | CarriedResult
    | IssueResult
    | PublicTicketsResult
    | VisitResult
    | ClockFloorResult
)
