"""The office's page of a mobile unit (issue 13): last seen, items waiting, visits not synced.

A real office (broker, queue service, web, headless Chromium) and a real
unit (its own Mosquitto and queue service) that serves residents offline,
then comes home through the real UnitSync. While the office's queue service
is down the unit's retained status already tells the web what it holds: the
page shows the items waiting. Once the office applies them, 0 and the time.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from antrean import protocol
from antrean.config import parse_config
from antrean.unitsync import UnitSync
from antrean_testing.devbroker import DevBroker
from antrean_tools.sync_cli import status
from tests.e2e.test_unit_bookings import RESIDENT, carried, sync_until
from tests.e2e.test_unit_sync import serve, unit_toml
from tests.service.test_booking import BOOKING, nik, wib
from tests.service.test_visits import MELATI
from tests.support.broker_world import wait_for
from tests.support.chromium import go
from tests.support.helpers import FakeClock, Office
from tests.web.conftest import WebServer
from tests.web.test_pages import log_in, save_shot, text_of
from web.views import local_time

UNIT = "keliling-1"
VISIT = "posyandu-melati"
RESIDENTS = 12


@pytest.fixture
def unit_broker() -> Iterator[DevBroker]:
    with DevBroker() as b:
        yield b


def acked(db: Path) -> int:
    with sqlite3.connect(db) as c:
        got = c.execute("SELECT acked FROM sync_acks WHERE visit = ?", (VISIT,)).fetchone()
    return int(got[0]) if got else 0


def shown(driver: Any, url: str, css: str, words: str) -> str:
    """The element's text once it holds `words` (the page is opened again until then)."""
    seen: list[str] = []

    def has() -> bool:
        go(driver, url)
        script = "var e = document.querySelector(arguments[0]); return e ? e.innerText : ''"
        seen.append(str(driver.execute_script(script, css)))  # not there yet: ''
        return words in seen[-1]

    wait_for(has, 20, f"{words!r} in {css}: {seen[-1:]}")
    return seen[-1]


def test_the_units_page_shows_items_waiting_then_zero_and_the_time_after_the_sync(
    desk_office: tuple[Office, WebServer], unit_broker: DevBroker, chromium: Any,
    tmp_path: Path, clock: FakeClock,
) -> None:  # fmt: skip
    office, web = desk_office
    day = str(clock().date())
    plan = {**MELATI, "day": day, "start": "08:00", "end": "16:00", "id": VISIT}
    office.ok("admin", "visit_plan", **plan)
    unit_path = unit_toml(tmp_path, unit_broker.port, web.config.broker.port)
    unit_config = parse_config(unit_path.read_text(), str(unit_path), unit_path.parent)
    unit = Office(unit_config, FakeClock(clock())).start()
    try:
        unit.ok("admin", "visit_plan", **plan)
        serve(unit_config, unit.clock, RESIDENTS)
    finally:
        unit.close()
    with sqlite3.connect(unit_config.store_path) as c:
        (head,) = c.execute("SELECT MAX(seq) FROM outbox WHERE visit = ?", (VISIT,)).fetchone()
    assert head > RESIDENTS

    driver, page = chromium, f"{web.url}/admin/unit/{UNIT}"
    log_in(driver, web.url, "sri")
    go(driver, f"{web.url}/admin/kunjungan")
    driver.find_element("css selector", f'tr[data-unit="{UNIT}"] a').click()
    wait_for(lambda: driver.current_url == page, 10, "the link to the unit's page")
    assert "belum pernah" in text_of(driver, "#unit-seen")
    assert "belum diketahui" in text_of(driver, "#unit-waiting")

    office.stop()  # the unit is home before the office applies anything
    sync = UnitSync(unit_config, clock=office.clock).start()
    try:
        wait_for(lambda: web.live.unit_sync(UNIT)[1], 10, "the unit's status at the web")
        assert f"{head} item menunggu" in shown(driver, page, "#unit-waiting", "menunggu")
        assert text_of(driver, "#unit-unsynced") == VISIT
        row = text_of(driver, f'tr[data-visit="{VISIT}"]')
        assert row.split("\t")[-3:] == [str(head), "0", str(head)], row
        assert "belum pernah" not in text_of(driver, "#unit-seen")

        office.start()
        wait_for(lambda: acked(office.config.store_path) == head, 30, "the sync did not finish")
        shown(driver, page, "#unit-waiting", "0 item menunggu")
    finally:
        sync.stop()
    assert text_of(driver, "#unit-unsynced") == "tidak ada"
    row = text_of(driver, f'tr[data-visit="{VISIT}"]')
    assert row.split("\t")[-3:] == [str(head), str(head), "0"], row
    seen = text_of(driver, "#unit-seen")
    now = local_time(office.clock().isoformat(), web.config.office.timezone)
    assert seen[:13] == now[:13], (seen, now)  # the office's time of the sync, to the hour
    save_shot(driver, tmp_path / "web-admin-unit-1366.png")


def test_a_refusal_is_shown_in_bahasa_indonesia_and_an_unknown_unit_is_404(
    desk_office: tuple[Office, WebServer], chromium: Any
) -> None:
    office, web = desk_office

    # A chunk for a visit the office never planned: the real service refuses it.
    chunk = {"office": web.config.office.id, "unit": "keliling-2", "prefix": "L", "visit": "x",
             "items": [{"seq": 1, "kind": "ticket", "body": {}}]}  # fmt: skip
    assert office.runner is not None
    office.runner.mqtt.publish(protocol.sync_topic(web.config.office.id, "keliling-2", "up"), chunk)
    wait_for(lambda: web.live.unit_sync("keliling-2")[0], 10, "the ack at the web")
    log_in(chromium, web.url, "sri")
    go(chromium, f"{web.url}/admin/unit/keliling-2")
    text = text_of(chromium, "#unit-refusal")
    assert "tidak dijadwalkan kantor untuk unit ini" in text, text
    assert "kode unknown_visit" in text, text
    assert "belum pernah" not in text_of(chromium, "#unit-seen")
    go(chromium, f"{web.url}/admin/unit/tidak-ada")
    assert "tidak dikenal" in chromium.page_source


def test_a_booking_cancelled_here_but_redeemed_on_the_unit_is_shown_and_survives_a_restart(
    desk_office: tuple[Office, WebServer], unit_broker: DevBroker, chromium: Any,
    tmp_path: Path, clock: FakeClock,
) -> None:  # fmt: skip
    office, web = desk_office
    path = unit_toml(tmp_path, unit_broker.port, web.config.broker.port)
    text = path.read_text().replace("[kiosk]\n", BOOKING, 1)
    unit_config = parse_config(text, str(path), path.parent)
    plan = {**MELATI, "day": "2026-11-26", "start": "08:00", "end": "16:00", "id": VISIT}
    office.ok("admin", "visit_plan", **plan)
    codes = [office.ok("counter-1", "book", nik=nik(700 + n), visit=VISIT, **RESIDENT)
             ["booking"]["code"] for n in range(2)]  # fmt: skip
    unit = Office(unit_config, FakeClock(clock())).start()
    try:
        sync_until(unit_config, lambda: len(carried(unit_config)) == 2, clock=clock)
        office.ok("counter-1", "cancel_booking", code=codes[1])  # after the unit left
        unit.clock.set(wib(26, 10, 5))  # at the visit, offline: both residents came
        assert [unit.ok("kiosk-1", "redeem", code=c)["ticket"]["code"] for c in codes] == [
            "KA001", "KA002"
        ]  # fmt: skip
        sync_until(unit_config, lambda: status(unit_config)["complete"], clock=unit.clock)
    finally:
        unit.close()

    page = f"{web.url}/admin/unit/{UNIT}"
    log_in(chromium, web.url, "sri")
    words = shown(chromium, page, "#unit-conflicts", "KA002")
    assert f"Booking …{codes[1][-4:]} dipakai di kunjungan {VISIT} untuk nomor KA002" in words
    assert "dibatalkan di kantor setelah unit berangkat" in words
    assert "jangan minta warga datang lagi" in words
    assert len(chromium.find_elements("css selector", "#unit-conflicts li")) == 1
    assert codes[1] not in chromium.page_source  # the last four digits only

    before = web.live.unit_sync(UNIT)[0]
    assert before is not None
    office.clock.advance(minutes=1)  # the restart's ack is told apart by its time
    office.restart()  # the conflict stays: in the store, the page and the ack
    wait_for(lambda: (web.live.unit_sync(UNIT)[0] or before)["at"] != before["at"], 10,
             "the office's ack after its restart")  # fmt: skip
    ack = web.live.unit_sync(UNIT)[0]
    assert ack is not None
    assert [(c["booking"], c["status"], c["ticket"]) for c in ack["conflicts"]] == [
        (codes[1], "cancelled", "2026-11-26/KA002")
    ]
    go(chromium, page)
    assert text_of(chromium, "#unit-conflicts") == words
    save_shot(chromium, tmp_path / "web-admin-unit-conflict-1366.png")


def test_a_unit_set_up_for_another_office_is_told_why_on_the_units_page(
    desk_office: tuple[Office, WebServer], unit_broker: DevBroker, chromium: Any,
    tmp_path: Path, clock: FakeClock,
) -> None:  # fmt: skip
    office, web = desk_office
    own = web.config.office.id
    path = unit_toml(tmp_path, unit_broker.port, web.config.broker.port)
    wrong = path.read_text().replace(f'id = "{own}"', 'id = "tembalang"', 1)
    unit_config = parse_config(wrong, str(path), path.parent)
    assert unit_config.office.id == "tembalang"
    plan = {**MELATI, "day": str(clock().date()), "start": "08:00", "end": "16:00", "id": VISIT}
    office.ok("admin", "visit_plan", **plan)
    unit = Office(unit_config, FakeClock(clock())).start()
    try:
        unit.ok("admin", "visit_plan", **plan)
        for _ in range(3):
            unit.ok("kiosk-1", "issue", service="A")
        sync = UnitSync(unit_config, clock=clock).start()
        try:
            log_in(chromium, web.url, "sri")
            words = shown(chromium, f"{web.url}/admin/unit/{UNIT}", "#unit-refusal", "tembalang")
        finally:
            sync.stop()
    finally:
        unit.close()
    assert f"Unit ini terdaftar untuk kantor tembalang, bukan kantor ini ({own})" in words
    assert f'ganti id di bagian [office] konfigurasi unit menjadi "{own}"' in words
    assert "(kode other_office)" in words
    assert "belum pernah" not in text_of(chromium, "#unit-seen")
    assert "4 item menunggu" in text_of(chromium, "#unit-waiting")  # kept on the unit
    assert text_of(chromium, "#unit-unsynced") == VISIT
    save_shot(chromium, tmp_path / "web-admin-unit-other-office-1366.png")
