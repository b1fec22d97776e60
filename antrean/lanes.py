"""Indexes over today's tickets that keep the hot paths off a full scan.

The engine's `tickets` dict is the truth; these are derived from it, kept in
step by `update()` on every change, and rebuilt at start and at rollover.

Three lanes per service: priority (lansia, disabilitas, ibu hamil), booked
(a redeemed booking) and walk-in. A booked ticket redeemed before its slot's
start waits like a walk-in, by issue order, until the slot starts; only then
is it called ahead of walk-ins (the engine's _pick_next sets the shares).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime
from itertools import islice

from antrean.domain import Ticket, TicketId, TicketStatus


class Lane(enum.Enum):
    PRIORITY = "priority"
    BOOKED = "booked"
    WALK_IN = "walk_in"


def lane_of(ticket: Ticket) -> Lane:
    """The lane a ticket waits in (a booked one may still be called as a walk-in)."""
    if ticket.priority:
        return Lane.PRIORITY
    return Lane.BOOKED if ticket.booked_from is not None else Lane.WALK_IN


_AHEAD = {
    Lane.PRIORITY: (),
    Lane.BOOKED: (Lane.PRIORITY,),
    Lane.WALK_IN: (Lane.PRIORITY, Lane.BOOKED),
}


class Lanes:
    """Waiting tickets per (service, lane), and today's calls in call order."""

    def __init__(self, services: Iterable[str]) -> None:
        self._services = tuple(services)
        self._waiting: dict[tuple[str, Lane], dict[TicketId, Ticket]] = {}
        self._calls: dict[TicketId, Ticket] = {}  # oldest call first; a recall moves to the end
        self.rebuild(())

    def rebuild(self, tickets: Iterable[Ticket]) -> None:
        self._waiting = {(s, lane): {} for s in self._services for lane in Lane}
        self._calls = {}
        called = []
        for t in tickets:
            if t.status is TicketStatus.WAITING:
                self._enter(t)
            if t.last_called_at is not None:
                called.append(t)
        called.sort(key=lambda t: (t.last_called_at, t.order))
        self._calls = {t.id: t for t in called}

    def update(self, old: Ticket | None, new: Ticket) -> None:
        """Follows one ticket's change."""
        if old is not None and old.status is TicketStatus.WAITING:
            del self._waiting[(old.service, lane_of(old))][old.id]
        if new.status is TicketStatus.WAITING:
            self._enter(new)
        moved = old is None or old.last_called_at != new.last_called_at
        if moved:
            self._calls.pop(new.id, None)
        if new.last_called_at is not None:
            self._calls[new.id] = new  # keeps its place unless it was (re)called now

    def waiting(self, services: Iterable[str]) -> list[Ticket]:
        """Waiting tickets of these services in calling order (original issue order)."""
        found = [t for s in set(services) for lane in Lane for t in self._lane(s, lane)]
        return sorted(found, key=lambda t: t.order)

    def first(self, services: Iterable[str], lane: Lane) -> Ticket | None:
        """The longest-waiting ticket of one lane across these services."""
        lanes = (self._waiting[(s, lane)] for s in set(services))
        heads = [next(iter(waiting.values())) for waiting in lanes if waiting]
        return min(heads, key=lambda t: t.order, default=None)

    def first_booked(self, services: Iterable[str], now: datetime, due: bool) -> Ticket | None:
        """The longest-waiting booked ticket whose slot has started (`due`) or not yet."""
        # A scan: booked tickets waiting at one time are a few dozen at most.
        found = (
            t
            for s in set(services)
            for t in self._lane(s, Lane.BOOKED)
            if (t.booked_from is not None and t.booked_from <= now) == due
        )
        return min(found, key=lambda t: t.order, default=None)

    def first_walk_in(self, services: Iterable[str], now: datetime) -> Ticket | None:
        """The longest-waiting walk-in, counting booked tickets whose slot has not started."""
        heads = [self.first(services, Lane.WALK_IN), self.first_booked(services, now, due=False)]
        return min((t for t in heads if t), key=lambda t: t.order, default=None)

    def count(self, service: str, priority_only: bool = False) -> int:
        lanes = (Lane.PRIORITY,) if priority_only else tuple(Lane)
        return sum(len(self._waiting[(service, lane)]) for lane in lanes)

    def ahead(self, ticket: Ticket) -> int:
        """Waiting tickets called before this one: older ones of its lane, and the lanes ahead."""
        # An estimate: the shares interleave the lanes, but a wait shown too
        # long is kinder than one too short.
        lane = lane_of(ticket)
        older = sum(1 for t in self._lane(ticket.service, lane) if t.order < ticket.order)
        return older + sum(len(self._waiting[(ticket.service, b)]) for b in _AHEAD[lane])

    def recent_calls(self, limit: int) -> list[Ticket]:
        """The most recent calls and recalls, newest first."""
        return list(islice(reversed(self._calls.values()), limit))

    def last_called(self, service: str) -> Ticket | None:
        """The most recently called ticket of a service."""
        return next((t for t in reversed(self._calls.values()) if t.service == service), None)

    def _enter(self, ticket: Ticket) -> None:
        """Adds a waiting ticket, keeping its lane in issue order (the calling order)."""
        key = (ticket.service, lane_of(ticket))
        lane = self._waiting[key]
        behind = bool(lane) and ticket.order < next(reversed(lane.values())).order
        lane[ticket.id] = ticket
        if behind:  # a requeue or transfer back to its old place: rare, so re-sort
            self._waiting[key] = dict(sorted(lane.items(), key=lambda kv: kv[1].order))

    def _lane(self, service: str, lane: Lane) -> Iterable[Ticket]:
        return self._waiting[(service, lane)].values()
