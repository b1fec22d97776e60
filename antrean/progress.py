"""The recording drive's progress: each served recording counts for a kelurahan.

A served ticket of a service marked `recording` is one resident recorded. It
is attributed to a kelurahan from its booking, from the visit where it was
recorded, or as the officer chose on the counter console; otherwise (GPIO
buttons, keypads) it stays "unknown". Targets come from the config's
[drive.targets] and from `drive_target` (the latest one set wins).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime

from antrean.domain import QueueError, TicketId


class Source(enum.StrEnum):
    """Where a recording's kelurahan came from."""

    BOOKING = "booking"
    VISIT = "visit"
    CONSOLE = "console"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Attribution:
    """One row of the progress table: a recording and its kelurahan (None when unknown)."""

    ticket: TicketId
    day: date
    at: datetime
    kelurahan: str | None
    source: Source


@dataclass(frozen=True, slots=True)
class Target:
    """One row of the kelurahan_targets table."""

    kelurahan: str
    target: int
    at: datetime
    who: str


def attribute(
    ticket: TicketId,
    day: date,
    at: datetime,
    chosen: str | None,
    known: set[str],
    booking: str | None = None,
    visit: str | None = None,
) -> Attribution:
    """The kelurahan of a served recording: the booking's, else the visit's, else the officer's.

    `booking` is the kelurahan of the booking redeemed for the ticket (the
    engine's Bookings.of_ticket), `visit` that of the visit it was recorded at.
    """
    if booking:
        return Attribution(ticket, day, at, booking, Source.BOOKING)
    if visit:
        return Attribution(ticket, day, at, visit, Source.VISIT)
    if chosen is not None:
        return Attribution(ticket, day, at, checked_kelurahan(chosen, known), Source.CONSOLE)
    return Attribution(ticket, day, at, None, Source.UNKNOWN)


def checked_kelurahan(name: str, known: set[str]) -> str:
    """A kelurahan the office has a target for."""
    if name not in known:
        raise QueueError("unknown_kelurahan", f"Kelurahan {name} tidak dikenal.")
    return name
