"""Two units come home at once, one of them after five days away (issue 13).

Three real queue services, each with its own real Mosquitto: the office hub
and two units with different prefixes (K and L). Unit keliling-1 is away
five days with a visit each day (its fake clock moves day by day: the
service rolls the day over, closes yesterday's visit and opens today's by
itself); keliling-2 makes one visit. Each serves through its real kiosk
controller and counter agent (test_unit_sync.serve). Then both sync processes
(`antrean sync run`, real child processes) run at the same time into the
one office, each through its own link. At the end the office holds each
unit's tickets and calls once each, and the figures per visit, worked out
from the office store, equal the unit's own and the test's book.
"""

from __future__ import annotations

import contextlib
import signal
import sqlite3
from collections.abc import Iterator
from dataclasses import asdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from antrean.config import Config, parse_config
from antrean_testing.devbroker import DevBroker
from antrean_tools.figures import period_figures
from antrean_tools.sync_cli import status
from tests.e2e.test_unit_sync import (
    TICKET_COLUMNS,
    rows,
    serve,
    start_sync,
    unit_toml,
    wait_until,
)
from tests.service.test_visits import MELATI, MOBILE, office_text
from tests.support.helpers import FakeClock, Office

DAYS = 5  # keliling-1 is away this long, one visit a day
PER_DAY = 16  # residents a day on keliling-1
SECOND_UNIT = 40  # residents at keliling-2's one visit
OFFICE_CARDS = 100  # blank cards at the office; keliling-2 takes some of them along
PRINTED = 5  # cards printed at keliling-2's visit (service B uses a card)


@pytest.fixture
def config(tmp_path: Path, broker: DevBroker) -> Config:
    """The office, which knows both units."""
    return parse_config(office_text(broker.port, MOBILE), "office.toml", tmp_path / "office")


@pytest.fixture
def unit_brokers() -> Iterator[tuple[DevBroker, DevBroker]]:
    with DevBroker() as one, DevBroker() as two:
        yield one, two


def plan(unit: str, day: date, n: int) -> dict[str, Any]:
    """A visit of `unit` on `day`, the whole working day."""
    return {
        **MELATI, "unit": unit, "day": str(day), "start": "08:00", "end": "16:00",
        "place": f"Melati {unit} {n}", "id": f"{unit}-{day}",
    }  # fmt: skip


def book_of(residents: int) -> dict[str, int]:
    """What test_unit_sync.serve does to `residents`: every tenth (from the sixth) a no-show."""
    no_shows = sum(1 for i in range(residents) if i % 10 == 5)
    return {"issued": residents, "served": residents - no_shows, "no_shows": no_shows}


def cards_used_on_unit(unit: Office, clock: FakeClock) -> None:
    """The unit takes 20 of the office's cards along, prints PRINTED and spoils one."""
    unit.ok("admin", "stock_receive", count=20, note="dibawa dari kantor (taken along)")
    for _ in range(PRINTED):
        unit.ok("kiosk-1", "issue", service="B")
    for _ in range(PRINTED):
        unit.ok("counter-2", "call_next")
        clock.advance(minutes=2)
        unit.ok("counter-2", "complete")
    unit.ok("admin", "stock_spoil", count=1, reason="cetakan gagal (misprint)")


def start_unit(tmp_path: Path, port: int, home: int, unit: str, prefix: str) -> Config:
    path = unit_toml(tmp_path, port, home, unit, prefix)
    # Printing (B) uses a blank card, as in a real office (the test example turns it off).
    path.write_text(path.read_text().replace("uses_card = false", "uses_card = true", 1))
    return parse_config(path.read_text(), str(path), path.parent)


def visit_groups(db: Path, start: date, end: date, tz: Any) -> dict[str, dict[str, Any]]:
    """The figures per visit of a store, as plain dicts."""
    with contextlib.closing(sqlite3.connect(db)) as c:
        period = period_figures(c, start, end, tz)
    return {k: asdict(g) for k, g in period.groups["visit"].items()}


def test_two_units_at_once_one_after_five_days_away(
    tmp_path: Path,
    office: Office,
    unit_brokers: tuple[DevBroker, DevBroker],
    broker: DevBroker,
    clock: FakeClock,
) -> None:
    first = start_unit(tmp_path, unit_brokers[0].port, broker.port, "keliling-1", "K")
    second = start_unit(tmp_path, unit_brokers[1].port, broker.port, "keliling-2", "L")
    day0 = clock().date()
    plans = [plan("keliling-1", day0 + timedelta(days=d), d) for d in range(DAYS)]
    plans.append(plan("keliling-2", day0, 0))
    for p in plans:
        office.ok("admin", "visit_plan", **p)
    office.ok("admin", "stock_receive", count=OFFICE_CARDS, note="SJ-001")
    book: dict[str, dict[str, int]] = {}

    clock_1 = FakeClock(clock())
    unit = Office(first, clock_1).start()
    try:
        for p in plans[:DAYS]:
            unit.ok("admin", "visit_plan", **p)
        for d in range(DAYS):  # one visit a day; the day rolls over on the unit's clock
            clock_1.set(clock() + timedelta(days=d))
            visit = plans[d]["id"]
            wait_until(
                lambda v=visit: unit.ok("admin", "snapshot")["visits"]["open"] == v,
                10, f"visit {visit} did not open by itself",
            )  # fmt: skip
            serve(first, clock_1, PER_DAY)
            book[visit] = book_of(PER_DAY)
    finally:
        unit.close()
    clock_2 = FakeClock(clock())
    unit = Office(second, clock_2).start()
    try:
        unit.ok("admin", "visit_plan", **plans[DAYS])
        serve(second, clock_2, SECOND_UNIT)
        book[plans[DAYS]["id"]] = book_of(SECOND_UNIT)
        cards_used_on_unit(unit, clock_2)
        book[plans[DAYS]["id"]]["issued"] += PRINTED
        book[plans[DAYS]["id"]]["served"] += PRINTED
    finally:
        unit.close()

    log = tmp_path / "sync.log"
    first_path, second_path = (Path(c.source) for c in (first, second))
    syncs = [start_sync(first_path, log), start_sync(second_path, log)]  # at the same time
    try:
        for c in (first, second):
            wait_until(lambda c=c: status(c)["complete"], 60, f"{c.source} did not sync")
    finally:
        for s in syncs:
            s.send_signal(signal.SIGTERM)
            s.wait(10)

    store = office.config.store_path
    for c in (first, second):
        assert c.unit is not None
        mine = rows(c.store_path, f"SELECT {TICKET_COLUMNS} FROM tickets ORDER BY id")
        theirs = rows(
            store, f"SELECT {TICKET_COLUMNS} FROM tickets WHERE origin = ? ORDER BY id", c.unit.id
        )
        assert theirs == mine  # each ticket once, exactly as the unit has it
        call = "SELECT ticket, day, kind, at, counter, service, visit FROM calls"
        assert rows(store, f"{call} WHERE origin = ? ORDER BY id", c.unit.id) == rows(
            c.store_path, f"{call} ORDER BY id"
        )
    assert len(rows(store, "SELECT id FROM tickets WHERE origin IS NOT NULL")) == (
        DAYS * PER_DAY + SECOND_UNIT + PRINTED
    )
    tz = office.config.office.timezone
    end = day0 + timedelta(days=DAYS - 1)
    at_office = visit_groups(store, day0, end, tz)
    assert set(at_office) == set(book)
    on_units = {**visit_groups(first.store_path, day0, end, tz)}
    on_units.update(visit_groups(second.store_path, day0, end, tz))
    assert at_office == on_units  # counts, waits and service times per visit
    for visit, want in book.items():
        got = at_office[visit]
        assert (got["issued"], got["served"], got["no_shows"]) == (
            want["issued"], want["served"], want["no_shows"],
        ), visit  # fmt: skip
        assert got["wait"]["n"] == want["issued"]
    # Cards: what keliling-2 used and spoiled lowers the office's balance, once; the
    # cards it took along were the office's already, so its "delivery" stays on the unit.
    entries = "SELECT kind, count, day, at, note, ticket FROM stock"
    used = f"{entries} WHERE kind IN ('used', 'spoiled') ORDER BY id"
    assert rows(store, f"{entries} WHERE who LIKE 'keliling-2/%' ORDER BY id") == rows(
        second.store_path, used
    )
    assert len(rows(second.store_path, used)) == PRINTED + 1
    assert office.ok("admin", "snapshot")["stock"]["balance"] == OFFICE_CARDS - PRINTED - 1
    statuses = rows(store, "SELECT id, status FROM visits ORDER BY id")
    # The first four days' visits closed; the fifth and keliling-2's still open.
    closed = [(p["id"], "closed") for p in plans[: DAYS - 1]]
    assert statuses == sorted(
        [*closed, (plans[DAYS - 1]["id"], "open"), (plans[DAYS]["id"], "open")]
    )
