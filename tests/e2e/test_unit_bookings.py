"""Bookings of a visit, redeemed on the unit offline, come home once (issue 13).

Two real queue services with their own Mosquitto. The office books residents
into a visit's slots; the unit's sync client (with the plan and the bookings
followers of `antrean sync run`) takes the visit and its bookings, as code
hashes only, then leaves. The office cancels one booking meanwhile. At the
visit the unit's kiosk redeems codes offline; back home the redemptions
arrive as sync items: the office marks its booking redeemed with the unit's
ticket once, and reports the one it had cancelled (ack and log).
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from antrean.config import Config, parse_config
from antrean.device import DeviceLink
from antrean.unitsync import UnitSync
from antrean_testing.devbroker import DevBroker
from antrean_tools.figures import booking_figures
from antrean_tools.sync_cli import carry_bookings, follow_schedule, status
from kiosk.controller import IssueResult, Printed, Refused, TicketController
from kiosk.printer.sim import SimPrinter
from tests.e2e.test_unit_sync import unit_toml
from tests.service.test_booking import BOOKING, nik, wib
from tests.service.test_visits import MELATI, MOBILE, office_text
from tests.support.broker_world import wait_for
from tests.support.helpers import FakeClock, Office
from tests.support.mqtt_watch import Watcher

RESIDENT = {"name": "Siti Aminah", "kelurahan": "Bendan Ngisor", "service": "A"}


@pytest.fixture
def unit_broker() -> Iterator[DevBroker]:
    with DevBroker() as b:
        yield b


def sync_until(
    config: Config, done: object, timeout: float = 20, clock: FakeClock | None = None
) -> None:
    """`antrean sync run`'s client (plan, bookings, replay) until `done()` holds."""
    sync = UnitSync(
        config,
        on_schedule=lambda s: follow_schedule(config, s),
        on_bookings=lambda b: carry_bookings(config, b),
        clock=clock,
    ).start()
    try:
        end = time.monotonic() + timeout
        while not done():  # type: ignore[operator]
            assert time.monotonic() < end, "the sync did not get there"
            time.sleep(0.05)
    finally:
        sync.stop()


def carried(config: Config) -> list[tuple[str, str, str]]:
    with sqlite3.connect(config.store_path) as db:
        return db.execute(
            "SELECT code, slot, status FROM bookings WHERE visit IS NOT NULL ORDER BY slot, code"
        ).fetchall()


@pytest.fixture
def configs(tmp_path: Path, broker: DevBroker, unit_broker: DevBroker) -> tuple[Config, Config]:
    """The office, which knows the unit, and the unit, whose home is the office; both book."""
    office_text_ = office_text(broker.port, MOBILE).replace("[kiosk]\n", BOOKING, 1)
    path = unit_toml(tmp_path, unit_broker.port, broker.port)
    unit_text = path.read_text().replace("[kiosk]\n", BOOKING, 1)
    return (
        parse_config(office_text_, "o.toml", tmp_path / "o"),
        parse_config(unit_text, str(path), path.parent),
    )


def assert_home_once(config: Config, codes: list[str]) -> None:
    """The office store: the bookings as the visit left them, the unit's tickets once each."""
    with sqlite3.connect(config.store_path) as db:
        rows = db.execute("SELECT code, status, ticket FROM bookings ORDER BY slot, code")
        assert sorted(rows) == sorted([
            (codes[0], "redeemed", "2026-11-26/KA001"),
            (codes[1], "cancelled", None),
            (codes[2], "booked", None),
        ])  # fmt: skip
        tickets = db.execute("SELECT code FROM tickets WHERE origin = 'keliling-1' ORDER BY code")
        assert [c for (c,) in tickets] == ["KA001", "KA002", "KA003"]


def test_a_visits_bookings_are_redeemed_on_the_unit_and_marked_at_the_office_once(
    configs: tuple[Config, Config], clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    office_cfg, unit_cfg = configs
    office = Office(office_cfg, clock).start()  # Thursday 26 November, 09:00 WIB
    unit_clock = FakeClock(clock())
    unit = Office(unit_cfg, unit_clock).start()
    ack_topic = f"antrean/v1/{office_cfg.office.id}/sync/keliling-1/ack"
    watch = Watcher(office_cfg.broker, ack_topic, "ack").start()
    try:
        plan = {**MELATI, "day": "2026-11-26", "start": "08:00", "end": "16:00", "id": "melati"}
        office.ok("admin", "visit_plan", **plan)
        codes = [
            office.ok("counter-1", "book", nik=nik(800 + n), visit="melati", **RESIDENT)["booking"]
            for n in range(3)
        ]
        assert [b["slot"] for b in codes] == ["10.00-11.00", "10.00-11.00", "11.00-12.00"]
        # Before leaving: the unit takes the visit and its bookings (hashes, nothing personal).
        sync_until(unit_cfg, lambda: len(carried(unit_cfg)) == 3)
        assert {status for _c, _s, status in carried(unit_cfg)} == {"booked"}
        assert not {b["code"] for b in codes} & {c for c, _s, _st in carried(unit_cfg)}
        office.ok("counter-1", "cancel_booking", code=codes[1]["code"])  # after the unit left

        # At the visit, offline, 10:05: the first two slots' codes get booked tickets.
        unit_clock.set(wib(26, 10, 5))
        first = unit.ok("kiosk-1", "redeem", code=codes[0]["code"])
        assert (first["ticket"]["code"], first["ticket"]["booked"]) == ("KA001", True)
        assert first["booking"]["code"] == codes[0]["code"]
        assert unit.ok("kiosk-1", "redeem", code=codes[1]["code"])["ticket"]["code"] == "KA002"
        assert unit.error("kiosk-1", "redeem", code=codes[0]["code"])["code"] == "booking_used"
        assert unit.error("kiosk-1", "redeem", code=codes[2]["code"])["code"] == "booking_early"
        unit.ok("kiosk-1", "issue", service="A")  # a walk-in beside them: KA003

        # Home: the redemptions arrive with the tickets, once.
        with caplog.at_level(logging.WARNING, logger="antrean.sync"):
            sync_until(unit_cfg, lambda: status(unit_cfg)["acked"] and status(unit_cfg)["complete"])
        _, ack = watch.wait_for(lambda _t, p: p["conflicts"], 10)
        assert [(c["booking"], c["status"], c["ticket"]) for c in ack["conflicts"]] == [
            (codes[1]["code"], "cancelled", "2026-11-26/KA002")
        ]
        logged = [r.getMessage() for r in caplog.records if r.name == "antrean.sync"]
        assert any(codes[1]["code"] in m and "cancelled" in m for m in logged), logged
        found = [office.ok("admin", "find_booking", code=b["code"])["booking"] for b in codes]
        assert [(b["status"], b["ticket"]) for b in found] == [
            ("redeemed", "2026-11-26/KA001"),
            ("cancelled", None),  # stays cancelled: the resident was served, staff are told
            ("booked", None),
        ]
        # The same visit synced again, and an office restart: nothing doubles.
        office.restart()
        sync_until(unit_cfg, lambda: status(unit_cfg)["complete"])
        time.sleep(0.5)
        last = watch.latest(ack_topic)
        assert last is not None
        # Kept in the store: still in the ack after the restart, once (issue 13).
        assert [(c["booking"], c["ticket"]) for c in last["conflicts"]] == [
            (codes[1]["code"], "2026-11-26/KA002")
        ]
    finally:
        watch.stop()
        unit.close()
        office.close()
    assert_home_once(office_cfg, [b["code"] for b in codes])


def day_of(office: Office) -> str:
    """The office's business day (it rolls over on its own tick)."""
    return str(office.ok("admin", "snapshot")["office"]["day"])


def figures_of(config: Config, day: str, today: str) -> dict[str, int]:
    """The office's booking figures of `day` (`antrean report`'s), read from its store."""
    with sqlite3.connect(config.store_path) as db:
        d = date.fromisoformat(day)
        got = booking_figures(db, d, d, date.fromisoformat(today))["total"]
    return {k: got[k] for k in ("booked", "redeemed", "not_came", "pending")}


def test_a_visit_booking_never_redeemed_is_counted_did_not_come_once_its_visit_is_home(
    configs: tuple[Config, Config], clock: FakeClock
) -> None:
    office_cfg, unit_cfg = configs
    office = Office(office_cfg, clock).start()  # Thursday 26 November, 09:00 WIB
    unit_clock = FakeClock(clock())
    unit = Office(unit_cfg, unit_clock).start()

    def outcome() -> list[str]:
        found = [office.ok("admin", "find_booking", code=c)["booking"] for c in codes]
        return [b["status"] for b in found]

    try:
        plan = {**MELATI, "day": "2026-11-26", "start": "08:00", "end": "16:00", "id": "melati"}
        office.ok("admin", "visit_plan", **plan)
        codes = [office.ok("counter-1", "book", nik=nik(900 + n), visit="melati", **RESIDENT)
                 ["booking"]["code"] for n in range(3)]  # fmt: skip
        sync_until(unit_cfg, lambda: len(carried(unit_cfg)) == 3)
        unit_clock.set(wib(26, 10, 5))  # at the visit: the first resident comes
        unit.ok("kiosk-1", "redeem", code=codes[0])
        sync_until(unit_cfg, lambda: status(unit_cfg)["complete"])  # a link for a moment
        unit_clock.set(wib(26, 10, 10))  # offline again: the second comes, the third does not
        unit.ok("kiosk-1", "redeem", code=codes[1])
        unit_clock.set(wib(26, 15, 0))
        unit.ok("counter-1", "visit_close", id="melati")

        # The next day at the office, the unit not yet home: nobody is counted as not come.
        clock.set(wib(27, 8, 0))
        wait_for(lambda: day_of(office) == "2026-11-27", 10, "the new day")
        clock.advance(minutes=1)  # the office's next booking check
        time.sleep(0.5)
        assert outcome() == ["redeemed", "booked", "booked"]
        assert figures_of(office_cfg, "2026-11-26", "2026-11-27") == {
            "booked": 3, "redeemed": 1, "not_came": 0, "pending": 2
        }  # fmt: skip

        # Home: the second redemption and the visit's close arrive; the third did not come.
        sync_until(unit_cfg, lambda: status(unit_cfg)["complete"])
        clock.advance(minutes=1)
        wait_for(lambda: outcome() == ["redeemed", "redeemed", "expired"], 10, outcome)
        assert figures_of(office_cfg, "2026-11-26", "2026-11-27") == {
            "booked": 3, "redeemed": 2, "not_came": 1, "pending": 0
        }  # fmt: skip
        office.restart()
        assert outcome() == ["redeemed", "redeemed", "expired"]

        # Names and phones go on the office bookings' schedule (erase_after_days = 30).
        clock.set(wib(27, 8, 0) + timedelta(days=30))
        wait_for(lambda: day_of(office) == "2026-12-27", 10, "day 31")
        office.ok("admin", "booking_purge")
        with sqlite3.connect(office_cfg.store_path) as db:
            rows = db.execute("SELECT name, phone FROM bookings WHERE visit = 'melati'")
            assert rows.fetchall() == [(None, None)] * 3
    finally:
        unit.close()
        office.close()


def test_the_units_kiosk_redeems_a_visit_booking_and_prints_the_units_code(
    configs: tuple[Config, Config], clock: FakeClock
) -> None:
    """The kiosk app's own controller on the unit, offline, on the simulated printer."""
    office_cfg, unit_cfg = configs
    office = Office(office_cfg, clock).start()
    unit_clock = FakeClock(clock())
    unit = Office(unit_cfg, unit_clock).start()
    printer = SimPrinter(80)
    outcomes: queue.Queue[IssueResult] = queue.Queue()
    link = DeviceLink(unit_cfg, "kiosk-1", "kiosk").start()
    kiosk = TicketController(
        link, printer, unit_cfg.office.name, unit_cfg.office.timezone,
        {s.code: s.name for s in unit_cfg.services}, outcomes.put, now=unit_clock,
    )  # fmt: skip
    try:
        plan = {**MELATI, "day": "2026-11-26", "start": "08:00", "end": "16:00", "id": "melati"}
        office.ok("admin", "visit_plan", **plan)
        code = office.ok("counter-1", "book", nik=nik(950), visit="melati", **RESIDENT)
        code = code["booking"]["code"]
        sync_until(unit_cfg, lambda: len(carried(unit_cfg)) == 1)
        unit_clock.set(wib(26, 10, 5))
        wait_for(lambda: link.queue_online, 10, "the unit's queue service")

        assert kiosk.redeem(code)  # the code typed on the kiosk's code screen
        printed = outcomes.get(timeout=10)
        assert isinstance(printed, Printed), printed
        assert (printed.ticket.code, printed.ticket.booking_slot) == ("KA001", "10.00-11.00")
        assert kiosk.redeem(code)  # the same code again: refused, nothing printed
        again = outcomes.get(timeout=10)
        assert isinstance(again, Refused), again
        assert again.code == "booking_used"

        jobs = printer.complete_jobs()
        assert len(jobs) == 1
        data = jobs[0].data
        for words in (b"KA001\n", b" BOOKING ", b"Jadwal 10.00-11.00"):
            assert words in data, words  # the unit's code, marked booked for the counter
        assert code.encode() not in data  # the booking code is not printed

        sync_until(unit_cfg, lambda: status(unit_cfg)["complete"])
        found = office.ok("admin", "find_booking", code=code)["booking"]
        assert (found["status"], found["ticket"]) == ("redeemed", "2026-11-26/KA001")
    finally:
        kiosk.close()
        link.stop()
        unit.close()
        office.close()
