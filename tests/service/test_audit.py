"""Who did each office action, in the store: the audit table (issue 15).

The real queue service on a real broker; the admin device sends `user` the
way the web does, a counter sends none. The rows are read from the store.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from antrean.config import Config, load_config
from antrean_testing.devbroker import DevBroker
from tests.service.test_booking import BOOKING, nik
from tests.support.helpers import Office, example_text


@pytest.fixture
def config(tmp_path: Path, broker: DevBroker) -> Config:
    """The booking office of the service's booking tests."""
    path = tmp_path / "antrean.toml"
    path.write_text(example_text(broker.port, edit={"[kiosk]\n": BOOKING}), encoding="utf-8")
    return load_config(path)


def audit_rows(config: Config) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(config.store_path)
    try:
        return db.execute("SELECT day, who, action, subject FROM audit ORDER BY id").fetchall()
    finally:
        db.close()


def test_each_office_action_is_kept_with_its_device_and_user(
    config: Config, office: Office
) -> None:
    admin = office.client("admin")
    closed = admin.request("service_close", {"service": "B", "reason": "Printer rusak",
                                              "user": "Sri"}, cmd_id="close-b")  # fmt: skip
    assert closed["ok"], closed
    again = admin.request("service_close", {"service": "B", "user": "Sri"}, cmd_id="close-b")
    assert again == closed  # a repeated id: answered as before, no second row
    office.ok("admin", "service_open", service="B", user="Sri")
    office.ok("counter-2", "counter_open")  # a counter's own button: the device only
    office.ok("admin", "counter_close", counter=2, user="Sri")
    office.ok("admin", "set_running_text", text="Istirahat 12.00", user="Sri")
    first = {"name": "Siti Aminah", "kelurahan": "Bendan", "service": "A", "day": "2026-11-27"}
    code = office.ok("admin", "book", nik=nik(700), user="Budi", **first)["booking"]["code"]
    office.ok("admin", "cancel_booking", code=code, user="Budi")
    assert office.error("admin", "cancel_booking", code=code, user="Budi")["code"]  # refused
    assert audit_rows(config) == [
        ("2026-11-26", "admin/Sri", "service_close", "B: Printer rusak"),
        ("2026-11-26", "admin/Sri", "service_open", "B"),
        ("2026-11-26", "counter-2", "counter_open", "2"),
        ("2026-11-26", "admin/Sri", "counter_close", "2"),
        ("2026-11-26", "admin/Sri", "set_running_text", "Istirahat 12.00"),
        ("2026-11-26", "admin/Budi", "book", code),
        ("2026-11-26", "admin/Budi", "cancel_booking", code),
    ]
    # No name, NIK or phone in the audit.
    text = repr(audit_rows(config))
    assert nik(700) not in text
    assert "Siti" not in text
