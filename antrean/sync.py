"""The office's side of a mobile unit's sync (issue 13): items in, applied once, acknowledged.

A unit publishes chunks of its outbox on `sync/{unit}/up` (docs/protocol.md,
"Mobile units: sync"). For each (unit, visit) the office keeps the highest
seq it has applied, in the store, in the transaction that applies the items
after it. An item at or below it is a repeat and is skipped; the next one is
checked and applied; one past a gap waits for the unit to resend. The ack
(retained on `sync/{unit}/ack`) is that highest seq. So an item is applied
exactly once however often, and in whatever pieces, the unit resends.
A chunk is applied SLICE_ITEMS at a time, each slice its own transaction,
so the queue worker serves the office's commands between slices.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from antrean.booking import visit_code_hash
from antrean.bookings import Bookings, BookingStatus
from antrean.config import Config
from antrean.store import Store
from antrean.sync_items import BadItem, SyncConflict, SyncRows, check_item
from antrean.visits import Visit

log = logging.getLogger(__name__)

MAX_CHUNK_BYTES = 512 * 1024  # a chunk is at most CHUNK_ITEMS items of a few hundred bytes
# Items per office transaction. A staff or kiosk command that arrives while a
# chunk is applied waits for at most one slice (bench/bench_sync.py: a
# 100-item transaction put the office's call p99 at about 3x its quiet value).
SLICE_ITEMS = 20
MAX_CONFLICTS = 50  # in an ack: the latest; the store and the office log keep them all


@dataclass(slots=True)
class _Run:
    """A checked chunk's items not yet applied, in seq order."""

    unit: str
    visit: Visit
    items: deque[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why (part of) a chunk was not applied; the unit keeps the items and shows this."""

    code: str
    message: str
    visit: str | None = None
    seq: int | None = None
    office: str | None = None  # other_office: the office the unit is set up for

    def as_dict(self) -> dict[str, Any]:
        out = {"code": self.code, "message": self.message, "visit": self.visit, "seq": self.seq}
        return out | ({"office": self.office} if self.office else {})


def other_office_words(unit_office: str, hub_office: str) -> str:
    """Why a unit set up for another office is refused, and the fix, for the unit's staff."""
    return (
        f"Unit ini terdaftar untuk kantor {unit_office}, bukan kantor ini ({hub_office}): "
        f'ganti id di bagian [office] konfigurasi unit menjadi "{hub_office}", lalu jalankan '
        "ulang layanan antrean di unit; data unit tetap tersimpan. (This unit is set up for "
        f"office {unit_office}, not this one: set [office] id to {hub_office!r} and restart.)"
    )


class SyncDesk:
    """Applies the units' chunks to the office store (on the queue worker's thread)."""

    def __init__(self, config: Config, store: Store, bookings: Bookings | None = None) -> None:
        self.config = config
        self.store = store
        self.bookings = bookings  # the engine's: a visit's bookings redeemed on the unit
        # unit -> what came home that the office could not mark (a booking cancelled here
        # after the unit left): in the store, the ack and the log, for staff to tell the
        # resident; the store keeps them across restarts (and /admin/unit reads them there).
        self.conflicts: dict[str, list[SyncConflict]] = {}
        for conflict in store.sync_conflicts():
            self.conflicts.setdefault(conflict.unit, []).append(conflict)
        self.acks = store.sync_acks()  # unit -> visit -> highest seq applied
        self.refused: dict[str, Refusal | None] = {}
        self._runs: deque[_Run] = deque()  # chunks received, applied a slice at a time

    def ack(self, unit: str, now: datetime) -> dict[str, Any]:
        """The payload of sync/{unit}/ack."""
        refused = self.refused.get(unit)
        return {
            "unit": unit,
            "office": self.config.office.id,
            "acked": dict(self.acks.get(unit, {})),
            "refused": refused.as_dict() if refused else None,
            "conflicts": [c.as_dict() for c in self.conflicts.get(unit, [])[-MAX_CONFLICTS:]],
            "at": now.isoformat(timespec="milliseconds"),
        }

    @property
    def busy(self) -> bool:
        """A received chunk still has items to apply (the worker gives it a slice at a time)."""
        return bool(self._runs)

    def receive(self, unit: str, payload: bytes, visits: dict[str, Visit]) -> bool:
        """Reads and checks one chunk's envelope; its items wait for step().

        `visits` are the office engine's. False if the chunk was refused
        whole (the ack says why).
        """
        try:
            visit, items = self._chunk(unit, payload, visits)
        except BadItem as exc:
            self._refuse(unit, Refusal(exc.code, exc.message))
            return False
        self._runs.append(_Run(unit, visit, deque(sorted(items, key=_seq))))
        return True

    def step(self, now: datetime, most: int = SLICE_ITEMS) -> tuple[str, SyncRows] | None:
        """Applies the next `most` new items of the oldest chunk, with their ack, in one commit.

        Returns the unit and the rows applied (the engine takes the visits
        whose status changed and the cards used), None if nothing waits. A
        slice is durable before the next begins, so the worker can serve
        commands between slices and a crash loses only unacknowledged items.
        """
        if not self._runs:
            return None
        run, rows = self._runs[0], SyncRows()
        unit, visit = run.unit, run.visit
        acked = start = self.acks.get(unit, {}).get(visit.id, 0)
        refusal = None
        while run.items and acked - start < most:
            item = run.items[0]
            seq = _seq(item)
            if seq <= acked:
                run.items.popleft()
                continue  # applied before: a resend after a lost ack or a reconnect
            if seq != acked + 1:
                run.items.clear()
                break  # a gap: the unit resends from the ack
            try:
                check_item(item.get("kind", ""), item.get("body"), self.config.units[unit],
                           visit, rows, unit)  # fmt: skip
            except BadItem as exc:
                refusal = Refusal(exc.code, exc.message, visit.id, seq)
                run.items.clear()
                break
            run.items.popleft()
            acked = seq
        if not run.items:
            self._runs.popleft()
        if rows.redeemed:
            self._redeemed(unit, visit, rows)
        if acked > start:
            self.store.apply_sync(unit, visit.id, acked, rows, now)
            self.acks.setdefault(unit, {})[visit.id] = acked
            self.conflicts.setdefault(unit, []).extend(rows.conflicts)
            log.info("sync: %s visit %s applied %d..%d", unit, visit.id, start + 1, acked)
        if refusal is not None:
            self._refuse(unit, refusal)
        elif acked > start:
            self.refused[unit] = None
        return unit, rows

    def _redeemed(self, unit: str, visit: Visit, rows: SyncRows) -> None:
        """The office's bookings the unit redeemed, marked; any it cannot mark, reported."""
        held = [] if self.bookings is None else self.bookings.by_code.values()
        by_hash = {visit_code_hash(visit.id, b.code): b for b in held if b.visit == visit.id}
        for code_hash, ticket, at in rows.redeemed:
            b = by_hash.get(code_hash)
            if b is not None and b.status is BookingStatus.BOOKED:
                rows.bookings.append(b.replace(status=BookingStatus.REDEEMED, ticket=ticket,
                                               redeemed_at=at))  # fmt: skip
                continue
            status = b.status.value if b is not None else "unknown"
            note = SyncConflict(unit, visit.id, ticket, b.code if b else None, status, at)
            rows.conflicts.append(note)
            log.warning(
                "sync: %s redeemed booking %s (%s here) for ticket %s at visit %s: "
                "the resident was served; tell them, the booking stays %s",
                unit, note.booking, status, ticket, visit.id, status,
            )  # fmt: skip

    def apply(self, unit: str, payload: bytes, now: datetime, visits: dict[str, Visit]) -> SyncRows:
        """Applies what it can of one whole chunk at once (benches and tools; not the worker)."""
        rows = SyncRows()
        if self.receive(unit, payload, visits):
            while (done := self.step(now)) is not None:
                for name in ("tickets", "calls", "progress", "stock", "visits"):
                    getattr(rows, name).extend(getattr(done[1], name))
        return rows

    def hear_status(self, unit: str, payload: bytes) -> bool:
        """A unit's retained status: a unit set up for another office is refused here.

        Its chunks go to that office's topics, which this office does not
        read; its status comes to this office's (antrean.unitsync). True if
        the unit's refusal changed (the ack is to be published again).
        """
        if unit not in self.config.units:
            return False
        try:
            office = json.loads(payload.decode("utf-8")).get("office")
        except (ValueError, AttributeError, RecursionError):
            return False
        before, own = self.refused.get(unit), self.config.office.id
        if isinstance(office, str) and office != own:
            self._refuse(unit, Refusal("other_office", other_office_words(office, own),
                                       office=office))  # fmt: skip
        elif before is not None and before.code == "other_office":
            self.refused[unit] = None  # set right on the unit: its chunks come here now
        return self.refused.get(unit) != before

    def _chunk(
        self, unit: str, payload: bytes, visits: dict[str, Visit]
    ) -> tuple[Visit, list[dict[str, Any]]]:
        if unit not in self.config.units:
            raise BadItem("unknown_unit", f"unit {unit} is not in this office's [mobile] units")
        if len(payload) > MAX_CHUNK_BYTES:
            raise BadItem("too_large", f"a chunk of more than {MAX_CHUNK_BYTES} bytes")
        try:
            body = json.loads(payload.decode("utf-8"))
        except (ValueError, RecursionError) as exc:
            raise BadItem("bad_item", f"not JSON UTF-8: {exc}") from None
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            raise BadItem("bad_item", "a chunk is {office, unit, prefix, visit, items}")
        if body.get("office") != self.config.office.id:
            raise BadItem(
                "other_office", other_office_words(str(body.get("office")), self.config.office.id)
            )
        if body.get("unit") != unit or body.get("prefix") != self.config.units[unit]:
            raise BadItem(
                "bad_prefix",
                f"this office knows {unit} with prefix {self.config.units[unit]!r}, "
                f"the chunk says {body.get('unit')!r} with {body.get('prefix')!r}",
            )
        visit_id = body.get("visit")
        visit = visits.get(visit_id) if isinstance(visit_id, str) else None
        if visit is None:
            visit = self.store.visit(visit_id) if isinstance(visit_id, str) else None
        if visit is None or visit.unit != unit:
            raise BadItem("unknown_visit", f"visit {visit_id!r} was not planned here for {unit}")
        items = body["items"]
        if not all(isinstance(i, dict) and isinstance(i.get("seq"), int) for i in items):
            raise BadItem("bad_item", "each item is {seq, kind, body}, seq a whole number")
        return visit, items

    def _refuse(self, unit: str, refusal: Refusal) -> None:
        if self.refused.get(unit) != refusal:
            log.warning("sync: refused from %s: %s %s", unit, refusal.code, refusal.message)
        self.refused[unit] = refusal


def _seq(item: dict[str, Any]) -> int:
    return int(item["seq"])
