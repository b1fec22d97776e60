"""The queue's vocabulary: tickets, services, counters, and the errors residents see."""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, NewType

if TYPE_CHECKING:
    from antrean.bookings import Booking
    from antrean.visits import Visit

TicketId = NewType("TicketId", str)  # "2026-11-27/A012": business day and code
ServiceCode = NewType("ServiceCode", str)  # one capital letter, "A"
CounterNumber = NewType("CounterNumber", int)
DeviceId = NewType("DeviceId", str)
SERVICE_TIME_WINDOW = 20  # recent service durations averaged for the wait estimate


class TicketStatus(enum.StrEnum):
    """Where a ticket is in its life: waiting, then called, then one of the ends."""

    WAITING = "waiting"
    CALLED = "called"
    SERVED = "served"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class Role(enum.StrEnum):
    """What a device is allowed to do, set per device id in the office config."""

    KIOSK = "kiosk"
    COUNTER = "counter"
    BOARD = "board"
    ADMIN = "admin"
    WEB = "web"  # the office web app (antrean web): admin-level, acting for a logged-in user
    # The kabupaten's central service (issue 16): only `replay` (and what everyone
    # may read), and only through the office's bridge: it has no login on the hub.
    CENTRAL = "central"


def ticket_code(service: str, number: int) -> str:
    """The printed code: service letter and the day's number, three digits, four past 999."""
    return f"{service}{number:03d}"


def iso_time(value: datetime | None) -> str | None:
    """Times in the contract: ISO 8601 with milliseconds and the UTC offset."""
    return value.isoformat(timespec="milliseconds") if value else None


def make_ticket_id(day: date, code: str) -> TicketId:
    """A ticket id is unique for ever: the business day plus the code."""
    return TicketId(f"{day.isoformat()}/{code}")


@dataclass(frozen=True, slots=True)
class Ticket:
    """One resident's place in the queue for one business day."""

    id: TicketId
    day: date
    service: ServiceCode  # the service it waits for now; changes on transfer
    number: int  # the day's number in the service it was issued for
    code: str  # printed code, never changes ("A012")
    priority: bool  # lansia, disabilitas, ibu hamil
    status: TicketStatus
    issued_at: datetime
    order: int  # office-wide issue order; waiting order and transfers keep it
    called_at: datetime | None = None  # the latest call (call_next or call_ticket)
    finished_at: datetime | None = None
    counter: CounterNumber | None = None
    recalls: int = 0
    recalled_at: datetime | None = None  # the last recall; a recall leaves called_at alone
    # A redeemed booking's slot start: from then on it is called in the booked lane.
    booked_from: datetime | None = None
    # A nik_per_day walk-in: the NIK's keyed hash (antrean.booking.nik_key), never the NIK.
    nik_hash: str | None = None
    visit: str | None = None  # issue 13: the mobile unit's visit it was issued at

    @property
    def last_called_at(self) -> datetime | None:
        """When the ticket was last called or recalled."""
        return self.recalled_at or self.called_at

    def replace(self, **changes: Any) -> Ticket:
        """A copy with some fields changed (tickets are immutable)."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    """Whether a service takes new tickets now, and why not."""

    code: ServiceCode
    open: bool = True
    reason: str = ""  # shown to residents when closed ("Blanko KTP-el habis")


@dataclass(frozen=True, slots=True)
class CounterStatus:
    """A counter (loket): open or not, and the ticket it is serving."""

    number: CounterNumber
    open: bool = False
    current: TicketId | None = None
    # Normal calls made since this counter's last priority call; drives the
    # interleaving of the priority lane (see Engine._pick_next).
    normal_streak: int = 0
    # Booked calls since this counter's last walk-in call; drives [booking] booked_share.
    booked_streak: int = 0


@dataclass(slots=True)
class StoredDay:
    """What the store hands the engine at start-up: the last business day's state."""

    day: date | None = None
    tickets: list[Ticket] = field(default_factory=list)
    counters: list[CounterStatus] = field(default_factory=list)
    services: list[ServiceStatus] = field(default_factory=list)
    seq: int = 0
    running_text: str | None = None
    service_times: dict[str, list[float]] = field(default_factory=dict)
    # issue 14: the card ledger's balance and recent use, and the drive's targets
    stock_balance: int = 0
    stock_use_by_day: dict[date, int] = field(default_factory=dict)
    targets: dict[str, int] = field(default_factory=dict)
    bookings: list[Booking] = field(default_factory=list)  # issue 12: the live ones
    ticket_key: bytes = b""  # issue 15: the phone tokens' key (antrean.tokens); b"": make one
    visits: list[Visit] = field(default_factory=list)  # issue 13: the planned visits
    clock_high: datetime | None = None  # issue 13: the latest time a unit has committed


class QueueError(Exception):
    """A refusal with a stable code for programs and a message for residents and staff.

    Messages are in Bahasa Indonesia because kiosks and counters show them as-is.
    """

    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.details = details

    def as_dict(self) -> dict[str, Any]:
        """The `error` object of a reply."""
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        out.update(self.details)
        return out
