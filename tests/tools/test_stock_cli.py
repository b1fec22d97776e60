"""`antrean stock ...` and `antrean drive ...` against a real Mosquitto and queue service.

The CLI reads the office's TOML from disk, as on the office PC, and sends
the contract's actions as the admin device; what it recorded is read back
from the store's ledger (who, note, count) and from the service's snapshot.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from antrean.config import load_config
from antrean.store import StoreReader
from antrean_testing.devbroker import DevBroker
from antrean_tools.cli import main
from tests.support.helpers import FakeClock, Office, example_text


@pytest.fixture
def toml(tmp_path: Path, broker: DevBroker) -> Path:
    path = tmp_path / "antrean.toml"
    path.write_text(example_text(broker.port, cards=True), encoding="utf-8")
    return path


@pytest.fixture
def office(toml: Path, clock: FakeClock) -> Iterator[Office]:
    o = Office(load_config(toml), clock).start()
    yield o
    o.close()


@pytest.fixture(autouse=True)
def no_login_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --user the tools send the login name; these tests expect the device alone."""
    monkeypatch.delenv("SUDO_USER", raising=False)
    monkeypatch.delenv("USER", raising=False)


def antrean(capsys: pytest.CaptureFixture[str], toml: Path, *argv: str) -> tuple[int, str, str]:
    status = main([*argv, "--config", str(toml)])
    out = capsys.readouterr()
    return status, out.out, out.err


def store_rows(office: Office, sql: str) -> list[tuple[Any, ...]]:
    """Rows of the office's store, read as the reports read it (read-only)."""
    reader = StoreReader(office.config.store_path)
    try:
        return [tuple(r) for r in reader.db.execute(sql)]
    finally:
        reader.close()


def ledger(office: Office) -> list[tuple[Any, ...]]:
    return store_rows(office, "SELECT kind, count, day, note, who FROM stock ORDER BY rowid")


def test_receive_spoil_adjust_and_show_write_the_ledger_as_the_admin(
    office: Office, toml: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert office.error("kiosk-1", "issue", service="B")["code"] == "out_of_cards"
    status, out, err = antrean(
        capsys, toml, "stock", "receive", "60", "--note", "SJ-123", "--date", "2026-11-25",
        "--user", "Sri",
    )  # fmt: skip
    assert (status, err) == (0, "")
    assert out.startswith("Tercatat. Blanko KTP-el, 2026-11-26:")
    assert "Tersedia (available)      60" in out
    assert office.ok("kiosk-1", "issue", service="B")["ticket"]["code"] == "B001"  # reopened

    assert antrean(capsys, toml, "stock", "spoil", "2", "--reason", "printer macet")[0] == 0
    status, out, _ = antrean(capsys, toml, "stock", "adjust", "-9", "--reason", "hitung ulang")
    assert status == 0
    # 60 - 2 - 9 = 49 in stock, one promised to B001: 48 available, under the warning of 50
    assert "Stok (balance)            49" in out
    assert "Tersedia (available)      48" in out
    assert "PERINGATAN: tersedia 50 atau kurang (low stock)" in out

    status, out, _ = antrean(capsys, toml, "stock", "show", "--json")
    shown = json.loads(out)
    assert (status, shown["balance"], shown["available"], shown["warning"]) == (0, 49, 48, True)
    assert ledger(office) == [
        ("delivery", 60, "2026-11-25", "SJ-123", "admin/Sri"),
        ("spoiled", -2, "2026-11-26", "printer macet", "admin"),
        ("correction", -9, "2026-11-26", "hitung ulang", "admin"),
    ]


def test_refusals_and_a_missing_service_are_said_plainly(
    office: Office, toml: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = antrean(capsys, toml, "stock", "receive", "0", "--note", "SJ-1")
    assert (status, out) == (1, "")
    assert err.startswith("antrean stock: refused (bad_request): Jumlah blanko harus")
    status, _, err = antrean(capsys, toml, "stock", "adjust", "5", "--reason", " ")
    assert status == 1
    assert err == "antrean stock: refused (bad_request): Alasan (reason) wajib diisi.\n"
    status, _, err = antrean(
        capsys, toml, "stock", "spoil", "1", "--reason", "x", "--device", "counter-2"
    )
    assert (status, err) == (2, f"antrean stock: counter-2 is not an admin device of {toml}\n")
    assert ledger(office) == []

    office.stop()  # the broker is up, the queue service is not
    status, _, err = antrean(capsys, toml, "stock", "show")
    assert status == 1
    assert "no answer to" in err
    assert "look (show) before you send it again" in err


def test_drive_target_and_show(
    office: Office, toml: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = antrean(capsys, toml, "drive", "target", "Sampangan", "401", "--user", "Sri")
    assert (status, out) == (0, "Tercatat: target Sampangan = 401 warga.\n")
    status, out, _ = antrean(capsys, toml, "drive", "target", "Tinjomoyo", "120")
    assert status == 0
    status, out, _ = antrean(capsys, toml, "drive", "show")
    lines = out.splitlines()
    assert lines[0] == "Target perekaman per kelurahan (residents to record):"
    assert "  Sampangan           401" in lines
    assert "  Tinjomoyo           120" in lines
    # the example's eight targets (2590 residents), Sampangan's 390 now 401, and Tinjomoyo's 120
    assert lines[-1] == "  Jumlah (total)     2721"
    status, out, _ = antrean(capsys, toml, "drive", "show", "--json")
    assert json.loads(out)["targets"]["Tinjomoyo"] == 120
    status, _, err = antrean(capsys, toml, "drive", "target", "Sampangan", "-1")
    assert status == 1
    assert "refused (bad_request)" in err
