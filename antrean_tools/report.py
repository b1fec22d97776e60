"""The day's figures: issued, served, no-shows, waits, per service, in total and per counter.

Computed from one business day's tickets as the store keeps them. The store
keeps each ticket's latest state, not its history, and the definitions below
say only what that allows.

Which service a ticket counts under:

- `issued` and `priority_issued` count a ticket under the service it was
  issued for (the letter of its printed code), as the service state's
  `issued` and the daily quota do.
- Every other figure counts it under the service it is in at the end (the
  ticket's `service`, which `transfer` changes): the service that served it,
  skipped it, or that it still waits for. With transfers, one service's
  `issued` therefore need not equal the sum of its outcomes; the total's does.

Counts, by the ticket's status when the report is made:

- `served`, `no_shows`, `cancelled`, `expired` (still waiting or called at
  the day rollover), `waiting`, `called` (being served at a counter now).
  Every ticket is in exactly one of them, so in the total they add up to
  `issued`.
- A no-show that was requeued counts as what became of it later (waiting,
  served, ...), not as a no-show, and so does one called again with
  `call_ticket`: the store does not remember the earlier no-show.

Waits, in seconds:

- A ticket's wait is `called_at - issued_at`, where `called_at` is its
  latest call (`call_next` or `call_ticket`; a recall does not move it).
  For a ticket called once, which is every ticket that was not requeued,
  called again after a no-show, or transferred and called in its new
  service, that is the wait from issue to first call. For a ticket called
  more than once the store keeps only the latest call, so its wait runs to
  that call and includes its earlier turn at a counter; the store cannot
  tell such a ticket apart.
- `waits` is how many tickets have a wait: those with a call (status
  `called`, `served`, `no_show`, or `expired` while called). A ticket still
  waiting, cancelled, or expired while waiting has none, so the figures
  leave out the longest waits of a day that ends with people waiting.
- `mean_wait_s`, `median_wait_s`, `max_wait_s` over those; None when no
  ticket has a wait.
- A served ticket's service time is `finished_at - called_at`: from its
  latest call to `served` (a `complete`, the counter's next call, or
  `counter_close`), recalls and the walk to the counter included, as in
  the wait estimate. `mean_service_s` is over the served tickets; None when
  there are none.

Per counter: the counter of the ticket's latest call (`counter`, kept after
it is served or skipped): `served`, `no_shows` and `mean_service_s` of the
tickets it served.

Only the queue service writes the store; a report reads it with
`antrean.store.StoreReader` (read-only), so it can run while the service does.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Protocol

from antrean.domain import Ticket, TicketStatus


class TicketSource(Protocol):
    """Where the tickets come from: antrean.store.Store or StoreReader."""

    def tickets_of_day(self, day: date) -> list[Ticket]: ...


@dataclass(frozen=True, slots=True)
class Figures:
    """One service's figures, or the whole office's (see the module docstring)."""

    issued: int = 0
    priority_issued: int = 0
    served: int = 0
    no_shows: int = 0
    cancelled: int = 0
    expired: int = 0
    waiting: int = 0
    called: int = 0
    waits: int = 0
    mean_wait_s: float | None = None
    median_wait_s: float | None = None
    max_wait_s: float | None = None
    mean_service_s: float | None = None


@dataclass(frozen=True, slots=True)
class CounterFigures:
    """What one counter did with the tickets whose latest call it made."""

    served: int = 0
    no_shows: int = 0
    mean_service_s: float | None = None


@dataclass(frozen=True, slots=True)
class DayFigures:
    """The figures of one business day."""

    day: date
    services: dict[str, Figures]  # configured services in config order, then any others seen
    total: Figures
    counters: dict[int, CounterFigures]  # configured counters, then any others seen

    def as_dict(self) -> dict[str, Any]:
        """For `antrean report --json`: plain JSON types, keys as strings."""
        return {
            "day": self.day.isoformat(),
            "services": {code: asdict(f) for code, f in self.services.items()},
            "total": asdict(self.total),
            "counters": {str(n): asdict(c) for n, c in self.counters.items()},
        }


def day_figures(
    store: TicketSource, day: date, services: Sequence[str] = (), counters: Sequence[int] = ()
) -> DayFigures:
    """The figures of business day `day`, from the store's tickets of that day.

    `services` and `counters` (the config's, in order) are listed even when
    they had no tickets; ones found only in the store (removed from the
    config since) follow them.
    """
    return figures_of(store.tickets_of_day(day), day, services, counters)


def figures_of(
    tickets: Iterable[Ticket], day: date, services: Sequence[str] = (), counters: Sequence[int] = ()
) -> DayFigures:
    """The figures of a day's tickets (see day_figures)."""
    by_service = {code: _Tally() for code in services}
    by_counter = {number: _CounterTally() for number in counters}
    total = _Tally()
    for t in tickets:
        issued_for = t.code.rstrip("0123456789")
        for tally in (by_service.setdefault(issued_for, _Tally()), total):
            tally.issued += 1
            tally.priority_issued += int(t.priority)
        for tally in (by_service.setdefault(t.service, _Tally()), total):
            tally.add_outcome(t)
        if t.counter is not None and t.status in (TicketStatus.SERVED, TicketStatus.NO_SHOW):
            by_counter.setdefault(t.counter, _CounterTally()).add(t)
    return DayFigures(
        day=day,
        services={code: tally.figures() for code, tally in by_service.items()},
        total=total.figures(),
        counters={number: tally.figures() for number, tally in by_counter.items()},
    )


def wait_s(t: Ticket) -> float | None:
    """Issue to the latest call, in seconds; None for a ticket without a call."""
    if t.called_at is None:
        return None
    return (t.called_at - t.issued_at).total_seconds()


def service_s(t: Ticket) -> float | None:
    """Latest call to served, in seconds; None unless the ticket was served."""
    if t.status is not TicketStatus.SERVED or t.called_at is None or t.finished_at is None:
        return None
    return (t.finished_at - t.called_at).total_seconds()


_STATUS_FIELD = {
    TicketStatus.SERVED: "served",
    TicketStatus.NO_SHOW: "no_shows",
    TicketStatus.CANCELLED: "cancelled",
    TicketStatus.EXPIRED: "expired",
    TicketStatus.WAITING: "waiting",
    TicketStatus.CALLED: "called",
}


@dataclass(slots=True)
class _Tally:
    issued: int = 0
    priority_issued: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    waits: list[float] = field(default_factory=list)
    service_times: list[float] = field(default_factory=list)

    def add_outcome(self, t: Ticket) -> None:
        name = _STATUS_FIELD[t.status]
        self.statuses[name] = self.statuses.get(name, 0) + 1
        wait = wait_s(t)
        if wait is not None:
            self.waits.append(wait)
        service = service_s(t)
        if service is not None:
            self.service_times.append(service)

    def figures(self) -> Figures:
        waits = self.waits
        return Figures(
            issued=self.issued,
            priority_issued=self.priority_issued,
            waits=len(waits),
            mean_wait_s=statistics.fmean(waits) if waits else None,
            median_wait_s=statistics.median(waits) if waits else None,
            max_wait_s=max(waits) if waits else None,
            mean_service_s=_mean(self.service_times),
            **self.statuses,
        )


@dataclass(slots=True)
class _CounterTally:
    served: int = 0
    no_shows: int = 0
    service_times: list[float] = field(default_factory=list)

    def add(self, t: Ticket) -> None:
        if t.status is TicketStatus.NO_SHOW:
            self.no_shows += 1
            return
        self.served += 1
        service = service_s(t)
        if service is not None:
            self.service_times.append(service)

    def figures(self) -> CounterFigures:
        return CounterFigures(self.served, self.no_shows, _mean(self.service_times))


def _mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None
