"""Bookings and a mobile unit's visit for the benchmark's month (bench_report, the browser test).

Bookings go through the real engine (booking_import, redeem) of the office;
the visit is served by a real unit engine ([unit], prefix K) and its outbox
items reach the office store through the office's real SyncDesk.apply, as
a sync chunk from the unit does.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from antrean import wire
from antrean.config import Config, parse_config
from antrean.engine import Changes, Engine
from antrean.store import Store
from antrean.sync import SyncDesk
from antrean.sync_items import Outbox

EXTRA_TOML = (
    '\n[booking]\nsecret_file = "booking.secret"\ncapacity = { A = 10, B = 10 }\n'
    '\n[mobile]\nunits = { "keliling-1" = "K" }\n'
)
UNIT = "keliling-1"
PLAN = {
    "id": "posyandu-melati", "unit": UNIT, "day": "2026-11-21", "start": "08:00",
    "end": "13:00", "place": "Melati", "kind": "posyandu", "kelurahan": "Petompon",
    "expected": 120,
}  # fmt: skip
CHUNK_ITEMS = 100  # as antrean.unitsync sends them


class Bookings:
    """The day's bookings of the month's office: imported at 07:00, redeemed from their slot."""

    def __init__(self, engine: Engine, rng: random.Random) -> None:
        self.engine, self.rng = engine, rng
        self.due: list[tuple[datetime, str]] = []  # (slot start, code), soonest first
        self.residents = 0

    def import_day(self, day: date, per_day: int) -> Changes:
        rows = []
        for n in range(per_day):
            self.residents += 1
            rows.append({
                "line": n + 2, "nik_hash": f"{self.residents:064x}", "last4": "0000",
                "name": "", "phone": "", "kelurahan": self.rng.choice(("Petompon", "Sampangan")),
                "service": "AB"[n % 2], "day": str(day),
            })  # fmt: skip
        out = self.engine.booking_import(f"list-{day}", rows, len(rows))
        zone = self.engine.config.office.timezone
        for _line, outcome, code, when, slot in wire.result(out.result)["results"]:
            assert outcome == "booked", (outcome, code)
            start = datetime.combine(date.fromisoformat(when), time.fromisoformat(slot), zone)
            self.due.append((start.astimezone(UTC), code))
        self.due.sort()
        return out

    def redeem_due(self, now: datetime, do: Callable[[Changes], None]) -> list[str]:
        """Redeems the bookings whose slot has started; one in five never comes. Their codes."""
        codes = []
        while self.due and self.due[0][0] <= now:
            _, booking = self.due.pop(0)
            if self.rng.random() < 0.2:
                continue
            out = self.engine.redeem(booking)
            do(out)
            codes.append(wire.result(out.result)["ticket"]["code"])
        return codes


class UnitClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def serve_one(unit: Engine, clock: UnitClock, code: str, rng: random.Random) -> Changes:
    """Calls `code` and completes it 1-3 minutes later (one in ten does not come)."""
    counter = 1 if code[1] == "A" else 3  # the letter after the unit's prefix
    out = unit.call_ticket(counter, code)
    clock.now += timedelta(seconds=rng.randint(60, 200))
    out.absorb(unit.no_show(counter) if rng.random() < 0.1 else unit.complete(counter))
    return out


def visit_home(
    folder: Path, text: str, office: Config, store: Store, engine: Engine, residents: int
) -> int:
    """A posyandu visit on the unit's own engine, applied to the office store; its tickets."""
    unit_dir = folder / "unit"
    unit_dir.mkdir()
    assert str(office.store_path) in text  # the unit keeps its own store
    unit_text = text.replace(str(office.store_path), str(unit_dir / "unit.db"))
    unit_config = parse_config(
        unit_text + f'\n[unit]\nid = "{UNIT}"\nprefix = "K"\n', "unit.toml", unit_dir
    )
    clock = UnitClock(datetime(2026, 11, 21, 0, 30, tzinfo=UTC))  # 07:30 WIB, a Saturday
    unit = Engine(unit_config, clock)
    rng = random.Random(21)
    trip = Changes()
    trip.absorb(unit.visit_plan(**PLAN))
    trip.absorb(unit.visit_open(PLAN["id"]))
    waiting: list[str] = []
    for _ in range(residents):  # a resident comes every 1-3 minutes, served in 1-3 minutes
        clock.now += timedelta(seconds=rng.randint(60, 180))
        issued = unit.issue(rng.choice("AAAC"))  # B needs the unit's own blank cards
        trip.absorb(issued)
        waiting.append(wire.result(issued.result)["ticket"]["code"])
        if rng.random() < 0.9:
            clock.now += timedelta(seconds=rng.randint(20, 60))
            trip.absorb(serve_one(unit, clock, waiting.pop(0), rng))
    for code in waiting:
        clock.now += timedelta(seconds=rng.randint(20, 60))
        trip.absorb(serve_one(unit, clock, code, rng))
    items = Outbox({}).items(
        trip.tickets.values(), trip.calls, trip.progress, trip.visits.values(), UNIT
    )
    desk = SyncDesk(office, store)
    for i in range(0, len(items), CHUNK_ITEMS):
        chunk: dict[str, Any] = {
            "office": office.office.id, "unit": UNIT, "prefix": "K", "visit": PLAN["id"],
            "items": [{"seq": x.seq, "kind": x.kind, "body": json.loads(x.body)}
                      for x in items[i : i + CHUNK_ITEMS]],
        }  # fmt: skip
        desk.apply(UNIT, json.dumps(chunk).encode(), clock.now, engine.visits)
    assert desk.acks[UNIT][PLAN["id"]] == len(items), desk.refused
    return residents
