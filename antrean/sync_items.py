"""The items a mobile unit replays to its office (issue 13): what they hold and their checks.

The unit writes each change of a visit (a ticket's new state, a call, a
recording's kelurahan, a blank card used or spoiled, the visit opening or
closing) as one outbox row,
numbered 1, 2, 3... per visit, in the transaction that makes the change.
The office checks each item here before it applies anything. No I/O.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

from antrean.bookings import Booking, BookingStatus
from antrean.calls import CallKind, CallRecord
from antrean.domain import CounterNumber, ServiceCode, Ticket, TicketId, TicketStatus
from antrean.progress import Attribution, Source
from antrean.stock import EntryKind, StockEntry
from antrean.visits import Visit, VisitStatus


class OutboxItem(NamedTuple):
    """One row of the unit's outbox: keyed by (visit, seq); the unit is the store's own."""

    visit: str
    seq: int
    kind: str  # "ticket", "call", "progress", "stock", "visit", "booking"
    body: str  # JSON


class SyncConflict(NamedTuple):
    """A booking a unit redeemed that the office could not mark: the resident was served."""

    unit: str
    visit: str
    ticket: TicketId
    booking: str | None  # the office's code; None if no booking of the visit has that hash
    status: str  # the booking's status here: "cancelled", "redeemed", "expired" or "unknown"
    at: datetime  # when the unit redeemed it

    def as_dict(self) -> dict[str, Any]:
        """As in the ack's `conflicts` (docs/protocol.md)."""
        return {"visit": self.visit, "ticket": self.ticket, "booking": self.booking,
                "status": self.status, "at": iso_time(self.at)}  # fmt: skip


@dataclass(slots=True)
class SyncRows:
    """What a run of checked items writes into the office store."""

    tickets: list[Ticket] = field(default_factory=list)
    calls: list[CallRecord] = field(default_factory=list)
    progress: list[Attribution] = field(default_factory=list)
    stock: list[StockEntry] = field(default_factory=list)
    visits: list[Visit] = field(default_factory=list)
    # A visit booking redeemed on the unit: (its code hash, the ticket, when).
    redeemed: list[tuple[str, TicketId, datetime]] = field(default_factory=list)
    bookings: list[Booking] = field(default_factory=list)  # the office's, now redeemed
    conflicts: list[SyncConflict] = field(default_factory=list)  # redeemed, not markable


class BadItem(ValueError):
    """An item that fails its checks: `code` for programs, the message for staff."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def iso_time(value: datetime | None) -> str | None:
    """Full precision: the office stores exactly the unit's times (the wire's ms would round)."""
    return value.isoformat() if value else None


def ticket_body(t: Ticket) -> dict[str, Any]:
    return {
        "id": t.id, "day": str(t.day), "service": t.service, "number": t.number, "code": t.code,
        "priority": t.priority, "status": t.status.value, "issued_at": iso_time(t.issued_at),
        "order": t.order, "called_at": iso_time(t.called_at),
        "finished_at": iso_time(t.finished_at), "counter": t.counter, "recalls": t.recalls,
        "recalled_at": iso_time(t.recalled_at),
    }  # fmt: skip


def call_body(c: CallRecord) -> dict[str, Any]:
    return {
        "ticket": c.ticket, "day": str(c.day), "kind": c.kind.value, "at": iso_time(c.at),
        "counter": c.counter, "service": c.service,
    }  # fmt: skip


def progress_body(a: Attribution) -> dict[str, Any]:
    return {"ticket": a.ticket, "day": str(a.day), "at": iso_time(a.at), "kelurahan": a.kelurahan}


def stock_body(e: StockEntry) -> dict[str, Any]:
    return {"kind": e.kind.value, "count": e.count, "day": str(e.day), "at": iso_time(e.at),
            "note": e.note, "who": e.who, "ticket": e.ticket}  # fmt: skip


# The cards a unit carries are the office's: only what it uses or spoils at a
# visit goes home (a delivery or correction on the unit is its own bookkeeping).
SYNCED_STOCK = (EntryKind.USED, EntryKind.SPOILED)


class Outbox:
    """Numbers a unit's changes into outbox items, per visit (the engine's changes in)."""

    def __init__(self, heads: dict[str, int]) -> None:
        self.heads = dict(heads)  # visit -> last seq written

    def items(
        self,
        tickets: Iterable[Ticket],
        calls: Iterable[CallRecord],
        progress: Iterable[Attribution],
        visits: Iterable[Visit],
        own_unit: str,
        stock: Iterable[StockEntry] = (),
        open_visit: str | None = None,
        bookings: Iterable[Booking] = (),
    ) -> list[OutboxItem]:
        """The batch's items, in the order the office must apply them.

        A card used goes with its ticket's visit; one spoiled with the visit
        open at the time (none open: the unit's own, not synced).
        """
        by_ticket = {}
        out: list[OutboxItem] = []
        for v in visits:
            if v.unit == own_unit and v.status in (VisitStatus.OPEN, VisitStatus.CLOSED):
                out.append(self._item(v.id, "visit", _visit_body(v)))
        for t in tickets:
            if t.visit:
                by_ticket[t.id] = t.visit
                out.append(self._item(t.visit, "ticket", ticket_body(t)))
        for c in calls:
            if c.visit:
                out.append(self._item(c.visit, "call", call_body(c)))
        for a in progress:
            if visit := by_ticket.get(a.ticket):
                out.append(self._item(visit, "progress", progress_body(a)))
        for e in stock:
            visit = by_ticket.get(e.ticket) if e.ticket else open_visit
            if visit and e.kind in SYNCED_STOCK:
                out.append(self._item(visit, "stock", stock_body(e)))
        for b in bookings:  # a visit's booking redeemed here (its code is the code's hash)
            if b.visit and b.status is BookingStatus.REDEEMED:
                body = {
                    "code_hash": b.code,
                    "ticket": b.ticket,
                    "redeemed_at": iso_time(b.redeemed_at),
                }
                out.append(self._item(b.visit, "booking", body))
        return out

    def _item(self, visit: str, kind: str, body: dict[str, Any]) -> OutboxItem:
        seq = self.heads.get(visit, 0) + 1
        self.heads[visit] = seq
        return OutboxItem(visit, seq, kind, json.dumps(body, ensure_ascii=False))


def _visit_body(v: Visit) -> dict[str, Any]:
    return {"id": v.id, "status": v.status.value, "opened_at": iso_time(v.opened_at),
            "closed_at": iso_time(v.closed_at)}  # fmt: skip


def check_item(
    kind: str, body: Any, prefix: str, visit: Visit, rows: SyncRows, unit: str = ""
) -> None:
    """Checks one item of `visit` from the unit whose codes start with `prefix`; adds its rows.

    Every ticket, call and recording must be of the visit's day and carry the
    unit's prefix: nothing of the office's own day can be touched. Raises BadItem.
    """
    if not isinstance(body, dict):
        raise BadItem("bad_item", "an item's body must be a JSON object")
    try:
        if kind == "ticket":
            t = _ticket(body, visit.id)
            _own(t.id, prefix, visit)
            if t.id != f"{t.day}/{t.code}":
                raise BadItem("bad_item", f"ticket {t.id} does not match its day and code")
            rows.tickets.append(t)
        elif kind == "call":
            c = CallRecord(
                TicketId(body["ticket"]), date.fromisoformat(body["day"]), CallKind(body["kind"]),
                datetime.fromisoformat(body["at"]), _counter(body["counter"]),
                ServiceCode(body["service"]), visit.id,
            )  # fmt: skip
            _own(c.ticket, prefix, visit)
            rows.calls.append(c)
        elif kind == "progress":
            a = Attribution(
                TicketId(body["ticket"]), date.fromisoformat(body["day"]),
                datetime.fromisoformat(body["at"]), body["kelurahan"] or visit.kelurahan,
                Source.VISIT,
            )  # fmt: skip
            _own(a.ticket, prefix, visit)
            rows.progress.append(a)
        elif kind == "stock":
            rows.stock.append(_stock(body, prefix, visit, unit))
        elif kind == "booking":
            ticket = TicketId(body["ticket"])
            _own(ticket, prefix, visit)
            at = datetime.fromisoformat(body["redeemed_at"])
            rows.redeemed.append((str(body["code_hash"]), ticket, at))
        elif kind == "visit":
            if body["id"] != visit.id:
                raise BadItem("bad_item", f"visit {body['id']} in the items of {visit.id}")
            rows.visits.append(
                visit.replace(
                    status=VisitStatus(body["status"]),
                    opened_at=_time(body["opened_at"]),
                    closed_at=_time(body["closed_at"]),
                )
            )
        else:
            raise BadItem("bad_item", f"unknown item kind {kind!r}")
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, BadItem):
            raise
        raise BadItem("bad_item", f"a {kind} item that cannot be read: {exc!r}") from None


def _own(ticket: str, prefix: str, visit: Visit) -> None:
    """A ticket id of the visit's day whose code is the unit's prefix and a service letter."""
    day, _, code = ticket.partition("/")
    rest = code[len(prefix) :]
    if day != str(visit.day) or not code.startswith(prefix) or not rest[:1].isalpha():
        raise BadItem(
            "bad_item", f"{ticket} is not a ticket of visit {visit.id} ({visit.day}, {prefix}...)"
        )


def _stock(b: dict[str, Any], prefix: str, visit: Visit, unit: str) -> StockEntry:
    """A card used or spoiled at the visit: it lowers the office's balance, nothing else."""
    e = StockEntry(
        EntryKind(b["kind"]), int(b["count"]), date.fromisoformat(b["day"]),
        datetime.fromisoformat(b["at"]), str(b["note"]), f"{unit}/{b['who']}",
        TicketId(b["ticket"]) if b["ticket"] else None,
    )  # fmt: skip
    if e.kind not in SYNCED_STOCK or e.count >= 0 or e.day != visit.day:
        raise BadItem("bad_item", f"a unit sends only cards used or spoiled on {visit.day}")
    if e.ticket is not None:
        _own(e.ticket, prefix, visit)
    return e


def _ticket(b: dict[str, Any], visit: str) -> Ticket:
    return Ticket(
        id=TicketId(b["id"]), day=date.fromisoformat(b["day"]), service=ServiceCode(b["service"]),
        number=int(b["number"]), code=str(b["code"]), priority=bool(b["priority"]),
        status=TicketStatus(b["status"]), issued_at=datetime.fromisoformat(b["issued_at"]),
        order=int(b["order"]), called_at=_time(b["called_at"]),
        finished_at=_time(b["finished_at"]), counter=_counter(b["counter"]),
        recalls=int(b["recalls"]), recalled_at=_time(b["recalled_at"]), visit=visit,
    )  # fmt: skip


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _counter(value: Any) -> CounterNumber | None:
    return None if value is None else CounterNumber(int(value))
