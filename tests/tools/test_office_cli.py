"""`--user` on the admin command line, through the real CLI, Mosquitto and queue service.

`antrean office` (services, counters, the running text) and `antrean visit`
plan and cancel send the staff member's name; the queue store's audit then
names the admin device and that user. Without --user the login name is sent
($SUDO_USER first: `sudo antrean ...` on the office PC), and stderr says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from antrean_testing.devbroker import DevBroker
from tests.service.test_visits import MOBILE, office_text
from tests.support.helpers import Office
from tests.tools.test_stock_cli import antrean, office, store_rows

__all__ = ["office"]  # the fixture, on this module's toml

PLAN = [
    "visit", "plan", "--unit", "keliling-1", "--day", "2026-12-05", "--hours", "08:00-12:00",
    "--place", "Melati", "--kind", "posyandu", "--kelurahan", "Bendan Ngisor",
]  # fmt: skip


@pytest.fixture
def toml(tmp_path: Path, broker: DevBroker) -> Path:
    path = tmp_path / "antrean.toml"
    path.write_text(office_text(broker.port, MOBILE), encoding="utf-8")
    return path


def audit(office: Office) -> list[tuple[Any, ...]]:
    return store_rows(office, "SELECT who, action, subject FROM audit ORDER BY id")


def test_office_and_visit_commands_name_the_user_in_the_store_audit(
    office: Office, toml: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUDO_USER", "budi")
    monkeypatch.setenv("USER", "root")
    argv = ["office", "close-service", "B", "--reason", "Printer rusak", "--user", "sri"]
    assert antrean(capsys, toml, *argv) == (0, "Layanan B ditutup.\n", "")
    assert office.error("kiosk-1", "issue", service="B")["code"] == "service_closed"
    # No --user: the login that ran sudo, said on stderr.
    status, out, err = antrean(capsys, toml, "office", "open-counter", "2")
    assert (status, out) == (0, "Loket 2 dibuka.\n")
    assert err == "antrean office: recorded as budi ($SUDO_USER); name yourself with --user\n"
    assert office.ok("admin", "snapshot")["counters"][1]["open"] is True
    monkeypatch.delenv("SUDO_USER")
    monkeypatch.setenv("USER", "pi")
    status, out, err = antrean(capsys, toml, *PLAN)
    assert status == 0
    assert out.startswith("Tercatat: 2026-12-05-melati (planned)")
    assert err == "antrean visit: recorded as pi ($USER); name yourself with --user\n"
    argv = ["visit", "cancel", "2026-12-05-melati", "--user", "sri"]
    assert antrean(capsys, toml, *argv)[0::2] == (0, "")
    monkeypatch.delenv("USER")  # no login name at all: the device alone, no note
    assert antrean(capsys, toml, "office", "text", "Istirahat pukul 12.00")[0::2] == (0, "")
    assert antrean(capsys, toml, "office", "open-service", "B", "--user", " ")[0] == 0
    assert audit(office) == [
        ("admin/sri", "service_close", "B: Printer rusak"),
        ("admin/budi", "counter_open", "2"),
        ("admin/pi", "visit_plan", "2026-12-05-melati"),
        ("admin/sri", "visit_cancel", "2026-12-05-melati"),
        ("admin", "set_running_text", "Istirahat pukul 12.00"),
        ("admin", "service_open", "B"),
    ]


def test_a_refused_office_command_says_why_and_records_nothing(
    office: Office, toml: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    refused = antrean(capsys, toml, "office", "close-service", "Z", "--user", "sri")
    assert refused[:2] == (1, "")
    assert refused[2].startswith("antrean office: refused (unknown_service)")
    assert audit(office) == []  # nothing recorded, and B still takes tickets
    assert office.ok("kiosk-1", "issue", service="B")["ticket"]["code"] == "B001"
