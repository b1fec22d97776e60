"""Indexes over today's tickets that keep the hot paths off a full scan.

The engine's `tickets` dict is the truth; these are derived from it, kept in
step by `update()` on every change, and rebuilt at start and at rollover.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice

from antrean.domain import Ticket, TicketId, TicketStatus


class Lanes:
    """Waiting tickets per (service, priority) lane, and today's calls in call order."""

    def __init__(self, services: Iterable[str]) -> None:
        self._services = tuple(services)
        self._waiting: dict[tuple[str, bool], dict[TicketId, Ticket]] = {}
        self._calls: dict[TicketId, Ticket] = {}  # oldest call first; a recall moves to the end
        self.rebuild(())

    def rebuild(self, tickets: Iterable[Ticket]) -> None:
        self._waiting = {(s, p): {} for s in self._services for p in (False, True)}
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
            del self._waiting[(old.service, old.priority)][old.id]
        if new.status is TicketStatus.WAITING:
            self._enter(new)
        moved = old is None or old.last_called_at != new.last_called_at
        if moved:
            self._calls.pop(new.id, None)
        if new.last_called_at is not None:
            self._calls[new.id] = new  # keeps its place unless it was (re)called now

    def waiting(self, services: Iterable[str]) -> list[Ticket]:
        """Waiting tickets of these services in calling order (original issue order)."""
        found = [t for s in set(services) for p in (False, True) for t in self._lane(s, p)]
        return sorted(found, key=lambda t: t.order)

    def first(self, services: Iterable[str], priority: bool) -> Ticket | None:
        """The longest-waiting ticket of one lane across these services."""
        lanes = (self._waiting[(s, priority)] for s in set(services))
        heads = [next(iter(lane.values())) for lane in lanes if lane]
        return min(heads, key=lambda t: t.order, default=None)

    def count(self, service: str, priority_only: bool = False) -> int:
        priority = len(self._waiting[(service, True)])
        return priority if priority_only else priority + len(self._waiting[(service, False)])

    def ahead(self, ticket: Ticket) -> int:
        """Waiting tickets called before this one: older ones of its lane, and all priority."""
        older = sum(
            1 for t in self._lane(ticket.service, ticket.priority) if t.order < ticket.order
        )
        return older if ticket.priority else older + self.count(ticket.service, True)

    def recent_calls(self, limit: int) -> list[Ticket]:
        """The most recent calls and recalls, newest first."""
        return list(islice(reversed(self._calls.values()), limit))

    def last_called(self, service: str) -> Ticket | None:
        """The most recently called ticket of a service."""
        return next((t for t in reversed(self._calls.values()) if t.service == service), None)

    def _enter(self, ticket: Ticket) -> None:
        """Adds a waiting ticket, keeping its lane in issue order (the calling order)."""
        key = (ticket.service, ticket.priority)
        lane = self._waiting[key]
        behind = bool(lane) and ticket.order < next(reversed(lane.values())).order
        lane[ticket.id] = ticket
        if behind:  # a requeue or transfer back to its old place: rare, so re-sort
            self._waiting[key] = dict(sorted(lane.items(), key=lambda kv: kv[1].order))

    def _lane(self, service: str, priority: bool) -> Iterable[Ticket]:
        return self._waiting[(service, priority)].values()
