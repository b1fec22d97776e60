"""Booking a slot of a mobile unit's visit (issue 13), through the real queue service.

The office plans a visit; staff book residents into the visit's own slots
(its hours, the service's capacity per slot, only the services it offers),
which leave the office's slots alone and survive a restart (store migration
9). The office's kiosk refuses such a code: it is redeemed at the visit.
"""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from antrean import protocol
from antrean.booking import visit_code_hash
from antrean.config import Config, load_config
from antrean.mqtt import MqttClient
from antrean_testing.devbroker import DevBroker
from antrean_tools import cli
from kiosk.words import booking_refusal
from tests.service.test_booking import BOOKING, nik, wait_day, wib
from tests.service.test_visits import MELATI, MOBILE, office_text
from tests.support.helpers import FakeClock, Office

RESIDENT = {"name": "Siti Aminah", "kelurahan": "Bendan Ngisor", "service": "A"}


@pytest.fixture
def config(tmp_path: Path, broker: DevBroker) -> Config:
    path = tmp_path / "antrean.toml"
    text = office_text(broker.port, MOBILE).replace("[kiosk]\n", BOOKING, 1)
    path.write_text(text, encoding="utf-8")
    return load_config(path)


def test_staff_book_a_visits_slots_and_the_office_kiosk_sends_the_resident_there(
    config: Config, office: Office, clock: FakeClock
) -> None:
    visit = office.ok("admin", "visit_plan", **MELATI)["visit"]["id"]  # Sat 5 Dec, 08-12
    made = [
        office.ok("counter-1", "book", nik=nik(700 + n), visit=visit, **RESIDENT)["booking"]
        for n in range(3)
    ]
    assert [(b["day"], b["slot"], b["visit"]) for b in made] == [
        ("2026-12-05", "08.00-09.00", visit),
        ("2026-12-05", "08.00-09.00", visit),
        ("2026-12-05", "09.00-10.00", visit),  # A: two a slot, as at the office
    ]
    again = office.ok("counter-1", "book", nik=nik(700), visit=visit, **RESIDENT)
    assert (again["again"], again["booking"]["code"]) == (True, made[0]["code"])
    # The office's own slots are not the visit's: its first slot (this office has no
    # hours: from midnight) is free, and the resident's visit booking stays alone that day.
    office_day = office.ok("admin", "book", nik=nik(710), day="2026-11-27", **RESIDENT)
    assert (office_day["booking"]["slot"], office_day["booking"]["visit"]) == ("00.00-01.00", None)
    refused = office.error(
        "admin", "book", nik=nik(711), visit=visit, **RESIDENT | {"service": "B"}
    )
    assert refused["code"] == "booking_refused"
    assert "tidak dilayani di Melati" in refused["message"]
    unknown = office.error("admin", "book", nik=nik(712), visit="2026-12-05-mawar", **RESIDENT)
    assert (
        unknown["message"] == "Kunjungan 2026-12-05-mawar tidak ada atau tidak bisa dipesan lagi."
    )

    office.restart()  # the visit is stored with the booking (migration 9)
    found = office.ok("admin", "find_booking", code=made[2]["code"])["booking"]
    assert (found["visit"], found["slot"], found["status"]) == (visit, "09.00-10.00", "booked")
    clock.set(wib(30, 8).replace(month=12, day=5))  # the visit's day, in its first slot
    wait_day(office, "2026-12-05")
    at_office = office.error("kiosk-1", "redeem", code=made[0]["code"])
    assert at_office["code"] == "booking_for_visit"
    assert at_office["message"] == (
        "Kode ini untuk layanan keliling pada Sabtu, 5 Desember 2026, pukul 08.00-09.00; "
        "tukarkan di lokasi kunjungan, bukan di kantor."
    )
    assert at_office["visit"] == visit
    in_english = booking_refusal("en", at_office["code"], at_office["message"], at_office)
    assert in_english == (  # the kiosk's English, from the error's fields
        "This code is for the mobile service on Saturday, 5 December 2026, 08.00-09.00; "
        "use it there, not at the office."
    )
    assert (
        booking_refusal("id", at_office["code"], at_office["message"], at_office)
        == (at_office["message"])
    )
    # Not expired by the office's clock either: its outcome comes home with the unit.
    clock.set(wib(30, 14).replace(month=12, day=5))
    office.ok("admin", "snapshot")
    assert office.ok("admin", "find_booking", code=made[0]["code"])["booking"]["status"] == "booked"
    with sqlite3.connect(config.store_path) as db:
        rows = db.execute("SELECT code, visit FROM bookings WHERE visit IS NOT NULL ORDER BY code")
        assert sorted(rows) == sorted((b["code"], visit) for b in made)


def test_the_cli_books_a_visit_slot(
    config: Config, office: Office, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    visit = office.ok("admin", "visit_plan", **MELATI)["visit"]["id"]
    monkeypatch.setattr("sys.stdin", io.StringIO(nik(720) + "\n"))  # never an argument
    booked = ["booking", "book", "--config", config.source, "--name", "Dewi Sartika"]
    booked += ["--kelurahan", "Bendan Ngisor", "--service", "A", "--visit", visit]
    capsys.readouterr()
    assert cli.main(booked) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [
        f"{out.split()[0]}  2026-12-05 08.00-09.00  layanan A  booked",
        "Dewi Sartika, Bendan Ngisor, NIK ****0720",
        f"kunjungan keliling {visit}",
    ]


def carried(config: Config, unit: str) -> tuple[dict[str, Any], bytes]:
    """The retained sync/{unit}/bookings as the unit's sync client receives it, and its bytes."""
    topic = protocol.sync_topic(config.office.id, unit, "bookings")
    raw: list[bytes] = []
    listener = MqttClient(f"test-carried-{unit}", config.broker)
    listener.subscribe(topic, lambda _t, payload: raw.append(payload))
    listener.start()
    try:
        end = time.monotonic() + 5
        while not raw and time.monotonic() < end:
            time.sleep(0.02)
    finally:
        listener.stop()
    assert raw, f"nothing retained on {topic}"
    return json.loads(raw[-1]), raw[-1]


def test_each_unit_carries_its_visits_bookings_as_code_hashes_only(
    config: Config, office: Office
) -> None:
    visit = office.ok("admin", "visit_plan", **MELATI)["visit"]["id"]
    made = [
        office.ok("counter-1", "book", nik=nik(730 + n), phone=f"08123456{n:04d}", visit=visit,
                  **RESIDENT)["booking"]
        for n in range(2)
    ]  # fmt: skip
    office.ok("admin", "book", nik=nik(740), day="2026-11-27", **RESIDENT)  # the office's own
    office.ok("counter-1", "cancel_booking", code=made[1]["code"])
    body, raw = carried(config, "keliling-1")
    assert (body["unit"], body["office"]) == ("keliling-1", config.office.id)
    want = [
        {"visit": visit, "code_hash": visit_code_hash(visit, b["code"]), "service": "A",
         "slot": "08:00", "status": status}
        for b, status in zip(made, ("booked", "cancelled"), strict=True)
    ]  # fmt: skip
    assert sorted(body["bookings"], key=str) == sorted(want, key=str)  # by day, slot, code
    assert (
        visit_code_hash(visit, made[0]["code"])
        == hashlib.sha256(f"{visit}:{made[0]['code']}".encode()).hexdigest()
    )
    for personal in (nik(730), "0730", "Siti", "08123456", made[0]["code"], "Bendan"):
        assert personal.encode() not in raw, personal
    assert carried(config, "keliling-2")[0]["bookings"] == []  # another unit's visits only
    office.restart()  # retained again from the store at start
    assert carried(config, "keliling-1")[0] == body
