"""A unit's sync that the office must refuse: nothing applied, the unit keeps it and says so.

Two real queue services with their own Mosquitto; the unit's sync client
(antrean.unitsync, in process) reaches the office broker directly. The
office does not know the unit, or knows it but not the visit, or knows it
with another prefix: each is refused with its reason in the ack, no row of
the unit reaches the office store, and `antrean sync status` says so.
"""

from __future__ import annotations

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
