"""A unit's sync that the office must refuse: nothing applied, the unit keeps it and says so.

Two real queue services with their own Mosquitto; the unit's sync client
(antrean.unitsync, in process) reaches the office broker directly. The
office does not know the unit, or knows it but not the visit, or knows it
with another prefix: each is refused with its reason in the ack, no row of
the unit reaches the office store, and `antrean sync status` says so.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from antrean.config import Config, parse_config
from antrean.unitsync import UnitSync
from antrean_testing.devbroker import DevBroker
from antrean_tools.doctor import Doctor
from antrean_tools.sync_cli import status, status_text
from tests.service.test_visits import MELATI, office_text
from tests.support.helpers import FakeClock, Office
from tests.support.mqtt_watch import Watcher
from web.desk import unit_state

CASES = {
    "unknown_unit": ('{ "keliling-2" = "L" }', True),
    "unknown_visit": ('{ "keliling-1" = "K" }', False),
    "bad_prefix": ('{ "keliling-1" = "Q" }', True),
}


@pytest.fixture
def unit_broker() -> Iterator[DevBroker]:
    with DevBroker() as b:
        yield b


@pytest.mark.parametrize("code", sorted(CASES))
def test_a_refused_sync_applies_nothing_and_the_unit_says_so(
    code: str, tmp_path: Path, broker: DevBroker, unit_broker: DevBroker, clock: FakeClock
) -> None:
    units, plan_at_office = CASES[code]
    office_config = parse_config(
        office_text(broker.port, f"\n[mobile]\nunits = {units}\n"), "o.toml", tmp_path / "o"
    )
    unit_config: Config = parse_config(
        office_text(unit_broker.port, "")
        + f'\n[unit]\nid = "keliling-1"\nprefix = "K"\nhome_host = "127.0.0.1"\n'
        f"home_port = {broker.port}\n",
        "u.toml",
        tmp_path / "u",
    )
    plan = {**MELATI, "day": str(clock().date()), "end": "16:00", "id": "melati"}
    office = Office(office_config, clock).start()
    unit = Office(unit_config, FakeClock(clock())).start()
    try:
        if plan_at_office:
            office.ok("admin", "visit_plan", **{**plan, "unit": "keliling-2"}
                      if code == "unknown_unit" else plan)  # fmt: skip
        unit.ok("admin", "visit_plan", **plan)
        for _ in range(3):
            unit.ok("kiosk-1", "issue", service="A")
        sync = UnitSync(unit_config).start()
        try:
            end = time.monotonic() + 20
            while not (status(unit_config)["refused"] or time.monotonic() > end):
                time.sleep(0.05)
        finally:
            sync.stop()
    finally:
        unit.close()
        office.close()
    s = status(unit_config)
    assert s["refused"]["code"] == code
    assert s["complete"] is False
    assert s["waiting"] == {"melati": 4}  # the visit opening and three tickets, kept
    assert "DITOLAK" in status_text(s)
    doctor = Doctor(config_file=Path(unit_config.source), config=unit_config).check_sync()
    assert (doctor.status, doctor.name) == ("FAIL", "sync")
    assert code in doctor.detail
    assert code in status_text(s)
    with sqlite3.connect(office_config.store_path) as db:
        synced = db.execute("SELECT COUNT(*) FROM tickets WHERE origin IS NOT NULL")
        assert synced.fetchone() == (0,)
        assert db.execute("SELECT COUNT(*) FROM sync_acks").fetchone() == (0,)


def test_a_unit_set_up_for_another_office_is_told_why_and_the_office_shows_it(
    tmp_path: Path,
    broker: DevBroker,
    unit_broker: DevBroker,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Its chunks go to the other office's topics, which nobody here reads: both sides are told."""
    office_config = parse_config(
        office_text(broker.port, '\n[mobile]\nunits = { "keliling-1" = "K" }\n'),
        "o.toml", tmp_path / "o",
    )  # fmt: skip
    unit_text = office_text(unit_broker.port, "") + (
        f'\n[unit]\nid = "keliling-1"\nprefix = "K"\nhome_host = "127.0.0.1"\n'
        f"home_port = {broker.port}\n"
    )
    wrong = unit_text.replace('id = "gajahmungkur"', 'id = "tembalang"', 1)
    unit_config = parse_config(wrong, "u.toml", tmp_path / "u")
    plan = {**MELATI, "day": str(clock().date()), "end": "16:00", "id": "melati"}
    office = Office(office_config, clock).start()
    unit = Office(unit_config, FakeClock(clock())).start()
    root = f"antrean/v1/{office_config.office.id}/sync/keliling-1"
    watch = Watcher(office_config.broker, f"{root}/+", "sync").start()
    try:
        office.ok("admin", "visit_plan", **plan)
        unit.ok("admin", "visit_plan", **plan)
        for _ in range(3):
            unit.ok("kiosk-1", "issue", service="A")
        with caplog.at_level(logging.WARNING, logger="antrean.sync"):
            sync = UnitSync(unit_config).start()
            try:
                _, ack = watch.wait_for(
                    lambda t, p: t == f"{root}/ack" and (p["refused"] or {}).get("office"), 20
                )
                end = time.monotonic() + 10
                while not (status(unit_config)["refused"] or time.monotonic() > end):
                    time.sleep(0.05)
            finally:
                sync.stop()
        words = "Unit ini terdaftar untuk kantor tembalang, bukan kantor ini (gajahmungkur)"
        # The unit: its status, `antrean sync status` and the doctor, with the fix.
        s = status(unit_config)
        assert s["refused"]["code"] == "other_office"
        assert words in s["refused"]["message"]
        assert 'menjadi "gajahmungkur"' in s["refused"]["message"]
        assert "DITOLAK" in status_text(s)
        assert words in status_text(s)
        assert s["waiting"] == {"melati": 4}
        doctor = Doctor(config_file=Path(unit_config.source), config=unit_config).check_sync()
        assert doctor.status == "FAIL"
        assert words in doctor.detail
        # The office: its retained ack, its /admin/unit page's words, and its log.
        assert (ack["refused"]["code"], ack["refused"]["office"]) == ("other_office", "tembalang")
        unit_status = watch.latest(f"{root}/status")
        assert unit_status is not None
        assert unit_status["office"] == "tembalang"
        page = unit_state(office_config, "keliling-1", ack, unit_status)
        assert page.refusal is not None
        assert words in page.refusal
        logged = [r.getMessage() for r in caplog.records if r.name == "antrean.sync"]
        assert any("other_office" in m and "tembalang" in m for m in logged), logged

        # Set right as the message says, and restarted: everything goes through, once.
        unit.close()
        unit = Office(parse_config(unit_text, "u.toml", tmp_path / "u"), FakeClock(clock()))
        unit.start()
        sync = UnitSync(unit.config).start()
        try:
            _, ack = watch.wait_for(lambda t, p: t == f"{root}/ack"
                                    and p["acked"].get("melati") == 4, 20)  # fmt: skip
        finally:
            sync.stop()
        assert ack["refused"] is None
        assert status(unit.config)["complete"] is True
    finally:
        watch.stop()
        unit.close()
        office.close()
    with sqlite3.connect(office_config.store_path) as db:
        codes = db.execute("SELECT code FROM tickets WHERE origin = 'keliling-1' ORDER BY code")
        assert [c for (c,) in codes] == ["KA001", "KA002", "KA003"]
