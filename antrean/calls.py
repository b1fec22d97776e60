"""The record of calls: every call, recall, no-show, requeue and transfer, with time and counter.

The tickets table keeps each ticket's latest state; this record keeps what
happened to it, so that the figures (antrean_tools/figures.py) can measure waits
to the first call and count recalls and no-shows that were undone.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime

from antrean.domain import CounterNumber, ServiceCode, TicketId


class CallKind(enum.StrEnum):
    """What a counter (or staff) did to a ticket."""

    CALL = "call"  # call_next or call_ticket
    RECALL = "recall"
    NO_SHOW = "no_show"
    REQUEUE = "requeue"
    TRANSFER = "transfer"  # `service` is the service it moved to


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One row of the calls table."""

    ticket: TicketId
    day: date
    kind: CallKind
    at: datetime
    counter: CounterNumber | None
    service: ServiceCode  # the ticket's service after the step
    visit: str | None = None  # issue 13: the visit of the ticket, on a mobile unit
