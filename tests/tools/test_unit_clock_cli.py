"""`antrean unit clock-reset` (issue 13): a unit whose clock ran ahead numbers again, no reuse.

A real unit (its own broker and queue service) numbers; its floor is then
far in the future in the store's meta, as a clock that ran ahead leaves it.
Across a restart it refuses to number (`clock_behind`). The real command
line, as the unit's admin, with its id as the confirmation, sets the floor
to now (audited in the store); the unit numbers again and the day's
numbers stay 1..N, each once.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from antrean.config import parse_config
from antrean_testing.devbroker import DevBroker
from antrean_tools.cli import main
from tests.e2e.test_unit_sync import unit_toml
from tests.support.helpers import FakeClock, Office

UNIT = "keliling-1"


def meta(db: Path, key: str) -> str | None:
    with sqlite3.connect(db) as c:
        row = c.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return str(row[0]) if row else None


def test_a_unit_with_a_floor_in_the_future_numbers_again_after_the_reset(
    tmp_path: Path, broker: DevBroker, clock: FakeClock, capsys: pytest.CaptureFixture[str]
) -> None:
    path = unit_toml(tmp_path, broker.port, broker.port)  # its home is not used here
    config = parse_config(path.read_text(), str(path), path.parent)
    unit = Office(config, clock).start()
    try:
        codes = [unit.ok("kiosk-1", "issue", service="A")["ticket"]["code"] for _ in range(3)]
        unit.stop()
        ahead = clock() + timedelta(days=3)  # the clock ran three days ahead once
        with sqlite3.connect(config.store_path) as c:
            c.execute("UPDATE meta SET value = ? WHERE key = 'clock_high'", (ahead.isoformat(),))
        unit.start()
        refused = unit.error("kiosk-1", "issue", service="A")
        assert refused["code"] == "clock_behind", refused
        assert refused["recorded"] == ahead.isoformat(timespec="seconds")

        argv = ["unit", "clock-reset", "--config", str(path), "--user", "Sri"]
        assert main([*argv, "--confirm", "keliling-2"]) == 1  # not this unit's id
        assert "not_confirmed" in capsys.readouterr().err
        assert unit.error("kiosk-1", "issue", service="A")["code"] == "clock_behind"
        assert main([*argv, "--confirm", UNIT]) == 0
        assert "Batas jam unit diatur ke" in capsys.readouterr().out
        assert meta(config.store_path, "clock_high") == clock().isoformat()

        codes += [unit.ok("kiosk-1", "issue", service="A")["ticket"]["code"] for _ in range(2)]
        unit.restart()  # the lowered floor is the stored one
        codes.append(unit.ok("kiosk-1", "issue", service="A")["ticket"]["code"])
    finally:
        unit.close()
    assert codes == [f"KA00{n}" for n in range(1, 7)]
    with sqlite3.connect(config.store_path) as c:
        numbers = [n for (n,) in c.execute("SELECT number FROM tickets ORDER BY number")]
        audit = c.execute("SELECT who, action, subject FROM audit").fetchall()
    assert numbers == list(range(1, 7))  # 1..N, none twice
    was = ahead.isoformat(timespec="seconds")
    assert audit == [
        ("admin/Sri", "clock_floor_reset", f"{was} -> {clock().isoformat(timespec='seconds')}")
    ]


def test_an_office_has_no_floor_and_only_the_admin_may_reset(
    tmp_path: Path, broker: DevBroker, clock: FakeClock
) -> None:
    path = unit_toml(tmp_path, broker.port, broker.port)
    config = parse_config(path.read_text(), str(path), path.parent)
    unit = Office(config, clock).start()
    try:
        assert unit.error("kiosk-1", "clock_floor_reset", confirm=UNIT)["code"] == "forbidden"
        assert unit.error("counter-1", "clock_floor_reset", confirm=UNIT)["code"] == "forbidden"
    finally:
        unit.close()
    office_path = tmp_path / "office.toml"
    office_path.write_text(path.read_text().split("\n[unit]")[0], encoding="utf-8")
    office = Office(parse_config(office_path.read_text(), str(office_path), tmp_path), clock)
    office.start()
    try:
        assert office.error("admin", "clock_floor_reset", confirm=UNIT)["code"] == "not_a_unit"
    finally:
        office.close()
