"""A unit gets its visits from the office before it leaves (issue 13).

Two real queue services, each with its own real Mosquitto: the office hub
and a unit, with the unit's sync process (`antrean sync run`, a real child
process) connected to both. The office plans visits (for this unit and for
another); the unit's store comes to hold exactly this unit's, as the office
planned them; a change and a cancellation at the office follow; a restarted
sync process sends nothing again; on the day the visit opens by itself on
the unit, and what the unit serves reaches the office.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from antrean.config import Config, parse_config
from antrean.store import unit_visits
from antrean_testing.devbroker import DevBroker
from antrean_tools.sync_cli import status
from tests.e2e.test_unit_sync import rows, start_sync, unit_toml, wait_until
from tests.service.test_visits import MELATI, MOBILE, office_text
from tests.support.helpers import FakeClock, Office


@pytest.fixture
def config(tmp_path: Path, broker: DevBroker) -> Config:
    """The office, which knows two units."""
    return parse_config(office_text(broker.port, MOBILE), "office.toml", tmp_path / "office")


@pytest.fixture
def unit_broker() -> Iterator[DevBroker]:
    with DevBroker() as b:
        yield b


def held(unit: Config, status: str = "planned") -> dict[str, dict[str, Any]]:
    """The unit's own store's visits of a status, as the office's schedule carries them."""
    with sqlite3.connect(unit.store_path) as db:
        visits = unit_visits(db, "keliling-1")
    return {v.id: v.as_dict() for v in visits if v.status == status}


def schedule(office: Office) -> dict[str, dict[str, Any]]:
    """The office's coming visits of keliling-1."""
    visits = office.ok("admin", "snapshot")["visits"]["visits"]
    return {v["id"]: v for v in visits if v["unit"] == "keliling-1"}


def admin_commands(unit: Config) -> int:
    return int(rows(unit.store_path, "SELECT COUNT(*) FROM commands WHERE device = 'admin'")[0][0])


def followed(log: Path) -> int:
    """How many schedules the sync processes have followed (their log lines)."""
    return log.read_text(encoding="utf-8").count("the office's plan:") if log.exists() else 0


def stop(sync: subprocess.Popen[bytes]) -> None:
    sync.send_signal(signal.SIGTERM)
    assert sync.wait(10) == 0


def test_the_unit_follows_the_offices_plan_and_serves_it(
    tmp_path: Path, office: Office, unit_broker: DevBroker, broker: DevBroker, clock: FakeClock
) -> None:
    path = unit_toml(tmp_path, unit_broker.port, broker.port)
    unit_config = parse_config(path.read_text(), str(path), path.parent)
    day = clock().date()
    plans = [
        {**MELATI, "day": str(day + timedelta(days=d)), "start": "08:00", "end": "16:00",
         "id": f"melati-{d}", "place": f"Melati {d}"}
        for d in (1, 2, 3)
    ]  # fmt: skip
    for p in plans:
        office.ok("admin", "visit_plan", **p)
    office.ok("admin", "visit_plan", **{**plans[0], "unit": "keliling-2", "id": "other-unit"})
    unit_clock = FakeClock(clock())
    unit = Office(unit_config, unit_clock).start()
    log = tmp_path / "sync.log"
    sync = start_sync(path, log)
    try:
        wait_until(lambda: held(unit_config) == schedule(office), 20, "the plan did not arrive")
        assert sorted(held(unit_config)) == ["melati-1", "melati-2", "melati-3"]

        office.ok("admin", "visit_plan", **{**plans[1], "start": "13:00", "end": "15:00"})
        office.ok("admin", "visit_cancel", id="melati-3")
        wait_until(lambda: held(unit_config) == schedule(office), 20, "the change did not follow")
        assert held(unit_config)["melati-2"]["start"] == "13:00"
        assert list(held(unit_config, "cancelled")) == ["melati-3"]
        assert unit.ok("admin", "snapshot")["visits"]["visits"][-1]["id"] == "melati-2"
        sent = admin_commands(unit_config)
        assert sent == 5  # three plans, one change, one cancel: nothing twice

        stop(sync)  # the unit's sync starts again: it hears the same schedule, sends nothing
        heard = followed(log)
        sync = start_sync(path, log)
        wait_until(lambda: followed(log) > heard, 20, "the restarted sync heard no schedule")
        assert "the office's plan: 2 visits for keliling-1, 0 to send" in log.read_text()
        assert admin_commands(unit_config) == sent

        # On the day: the visit opens by itself on the unit, its residents reach the office.
        unit_clock.set(clock() + timedelta(days=1))
        wait_until(
            lambda: unit.ok("admin", "snapshot")["visits"]["open"] == "melati-1",
            10, "the visit did not open",
        )  # fmt: skip
        code = unit.ok("kiosk-1", "issue", service="A")["ticket"]["code"]
        assert code == "KA001"
        wait_until(lambda: status(unit_config)["complete"], 30, "the visit did not sync")
    finally:
        stop(sync)
        unit.close()
    got = rows(office.config.store_path, "SELECT code, visit FROM tickets WHERE origin IS NOT NULL")
    assert got == [("KA001", "melati-1")]
