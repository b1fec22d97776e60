"""Blank-card stock (blangko KTP-el): a ledger of deliveries, use, spoilage and corrections.

The balance is derived from the ledger, never edited (Beancount's rule). A
service marked `uses_card` promises a card to every ticket waiting for it or
being served, so it takes a new ticket only while the balance is larger than
the cards already promised: a resident never queues for a card that is not
there. Cards are used when a ticket of such a service is served.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from antrean.domain import QueueError, TicketId

OUT_OF_CARDS = "Blanko KTP-el habis"  # what residents and staff read on the closed service


class EntryKind(enum.StrEnum):
    """Why the stock changed."""

    DELIVERY = "delivery"  # cards received from Dukcapil (count > 0)
    USED = "used"  # one card per served ticket of a card service (count < 0)
    SPOILED = "spoiled"  # a failed print recorded at the counter (count < 0)
    CORRECTION = "correction"  # a count by staff that differs from the ledger (either sign)


@dataclass(frozen=True, slots=True)
class StockEntry:
    """One line of the ledger; `count` is signed (what it does to the balance)."""

    kind: EntryKind
    count: int
    day: date  # the business day it happened on (a delivery: the delivery note's day)
    at: datetime
    note: str  # the delivery note, the spoilage's or correction's reason
    who: str  # the device id, and the staff's name when given ("admin/Sri")
    ticket: TicketId | None = None  # the ticket a used card was printed for


def who(device: str, user: str | None) -> str:
    """An entry's author: the device id, with the staff's name when given."""
    return f"{device}/{user.strip()}" if user and user.strip() else device


@dataclass(slots=True)
class Stock:
    """The balance and the recent use, kept by the engine; rebuilt from the ledger at start."""

    warning: int
    rate_days: int
    balance: int = 0
    use_by_day: dict[date, int] = field(default_factory=dict)  # used + spoiled, recent days

    def add(self, entry: StockEntry) -> None:
        """Applies one ledger entry."""
        self.balance += entry.count
        if entry.kind in (EntryKind.USED, EntryKind.SPOILED):
            self.use_by_day[entry.day] = self.use_by_day.get(entry.day, 0) - entry.count

    def rate_per_day(self, today: date) -> float:
        """Cards used or spoiled per calendar day over the last `rate_days` days, today included."""
        since = today - timedelta(days=self.rate_days - 1)
        return sum(n for d, n in self.use_by_day.items() if since <= d <= today) / self.rate_days

    def view(self, today: date, promised: int) -> dict[str, Any]:
        """state/stock: what staff see."""
        available = self.balance - promised
        rate = self.rate_per_day(today)
        return {
            "day": str(today),
            "balance": self.balance,
            "promised": promised,  # tickets waiting for printing or at a counter
            "available": available,
            "warning_at": self.warning,
            "warning": available <= self.warning,
            "out": available <= 0,
            "rate_per_day": round(rate, 2),
            "rate_days": self.rate_days,
            "days_left": math.floor(max(available, 0) / rate) if rate > 0 else None,
        }


def checked_count(count: int, *, signed: bool = False) -> int:
    """Refuses a count of zero, a negative one where only positive ones make sense, a huge one."""
    if count == 0 or (count < 0 and not signed) or abs(count) > 100000:
        message = "Jumlah blanko harus bilangan bulat bukan nol (maks. 100000)."
        raise QueueError("bad_request", message)
    return count


def checked_reason(text: str, what: str) -> str:
    """A reason (note) is required for spoilage and corrections."""
    reason = text.strip()
    if not reason:
        raise QueueError("bad_request", f"{what} wajib diisi.")
    return reason[:200]
