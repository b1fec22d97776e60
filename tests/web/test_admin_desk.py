"""The admin pages in a real browser: counters, spoiled cards and corrections, bookings, visits.

Headless Chromium posts the forms; the test then reads the queue service's
own state (its snapshot and its store), not only what the page says.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

from selenium.webdriver.common.by import By

from antrean.store import Store
from antrean.sync_items import SyncRows
from tests.support.broker_world import wait_for
from tests.support.chromium import go, page_said
from tests.web.test_pages import log_in, shoot, text_of


def click(driver: Any, css: str) -> None:
    found = lambda: driver.find_elements(By.CSS_SELECTOR, css)  # noqa: E731
    wait_for(found, 10, lambda: f"{css} on the page, {page_said(driver)}")
    driver.find_element(By.CSS_SELECTOR, css).click()


def fill(driver: Any, form: str, **values: str) -> None:
    for name, value in values.items():
        box = driver.find_element(By.CSS_SELECTOR, f"{form} [name={name}]")
        box.clear()
        box.send_keys(value)


def flash(driver: Any, words: str) -> None:
    wait_for(lambda: words in driver.page_source, 10, lambda: f"{words!r}, {page_said(driver)}")


def close_service(driver: Any, url: str, code: str, reason: str) -> None:
    """Closes one service on /admin as the logged-in user, and waits for the page to say so."""
    go(driver, f"{url}/admin")
    driver.find_element(By.CSS_SELECTOR, "#service-form select").send_keys(code)
    fill(driver, "#service-form", reason=reason)
    click(driver, "#service-form button[value=close]")
    flash(driver, f"Layanan {code} ditutup.")


def rows(config: Any, sql: str) -> list[tuple[Any, ...]]:
    db = sqlite3.connect(config.store_path)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def test_counters_open_and_close_from_the_admin_page(web_office, chromium):
    office, web = web_office
    driver = chromium
    log_in(driver, web.url, "sri")
    go(driver, f"{web.url}/admin")
    click(driver, 'tr[data-counter="2"] button[value=open]')
    flash(driver, "Loket 2 dibuka.")
    counters = {c["number"]: c["open"] for c in office.ok("admin", "snapshot")["counters"]}
    assert counters == {1: False, 2: True, 3: False, 4: False}
    wait_for(lambda: "Buka" in text_of(driver, 'tr[data-counter="2"]'), 10, "counter 2 open")
    click(driver, 'tr[data-counter="2"] button[value=close]')
    flash(driver, "Loket 2 ditutup.")
    assert not any(c["open"] for c in office.ok("admin", "snapshot")["counters"])
    audit = [(r[1], r[2], r[5]) for r in web.users.audit_rows()]
    assert audit == [("sri", "counter_close", "ok"), ("sri", "counter_open", "ok")]
    assert "sri\tcounter_close\ttutup Loket 2" in text_of(driver, "table.audit")


def test_spoiled_cards_and_a_correction_carry_the_user(web_office, chromium, tmp_path):
    office, web = web_office
    driver = chromium
    log_in(driver, web.url, "sri")
    go(driver, f"{web.url}/admin/stok")
    fill(driver, "#stock-form", count="50", note="SJ-2026-120")
    click(driver, "#stock-form button")
    flash(driver, "Kiriman 50 blanko dicatat.")
    fill(driver, "#spoil-form", count="3", reason="cetak gagal, chip rusak")
    click(driver, "#spoil-form button")
    flash(driver, "3 blanko rusak dicatat.")
    fill(driver, "#adjust-form", count="-2", reason="hitung fisik lemari")
    click(driver, "#adjust-form button")
    flash(driver, "Koreksi -2 blanko dicatat.")
    assert office.ok("admin", "snapshot")["stock"]["balance"] == 45
    wait_for(lambda: text_of(driver, "#available") == "45", 10, "45 on the page")
    entries = rows(web.config, "SELECT kind, count, note, who FROM stock ORDER BY id")
    assert [(k, n, note) for k, n, note, _who in entries] == [
        ("delivery", 50, "SJ-2026-120"),
        ("spoiled", -3, "cetak gagal, chip rusak"),
        ("correction", -2, "hitung fisik lemari"),
    ]
    assert all("sri" in who for *_x, who in entries), entries
    shoot(driver, tmp_path, "admin-stock")


def nik(serial: int, day: int = 12) -> str:
    return f"337401{day:02d}0590{serial:04d}"


def test_import_a_booking_list_see_its_bad_rows_then_find_and_cancel(
    desk_office, chromium, tmp_path
):
    office, web = desk_office
    listing = tmp_path / "kelurahan-petompon.csv"
    listing.write_text(
        "nama;nik;no_hp;kelurahan;layanan;tanggal\n"
        f"Siti Aminah;{nik(1, day=45)};0812;Petompon;A;27/11/2026\n"
        f"Budi;{nik(2)[:15]};;Petompon;A;\n"
        f"Rini;{nik(5)};;Petompon;Z;\n"
        f"Dewi;{nik(7)};;Petompon;Perekaman KTP-el;\n",
        encoding="utf-8",
    )
    driver = chromium
    log_in(driver, web.url, "sri")
    go(driver, f"{web.url}/admin/booking")
    driver.find_element(By.CSS_SELECTOR, "#import-form [name=list]").send_keys(str(listing))
    click(driver, "#import-form button")
    wait_for(lambda: "Hasil impor" in driver.page_source, 20, "the import report")
    assert text_of(driver, "#import-report .summary").startswith("2 dibooking, 0 sudah ada")
    refused = text_of(driver, "#import-report table.refused tbody")
    assert "3\tBudi\tPetompon\tNIK ****0000: NIK harus 16 angka" in refused
    assert "4\tRini\tPetompon\tlayanan 'Z' tidak ada" in refused
    shoot(driver, tmp_path, "admin-booking-import")
    booked = rows(web.config, "SELECT code, name, status FROM bookings ORDER BY name")
    assert [(n, s) for _c, n, s in booked] == [("Dewi", "booked"), ("Siti Aminah", "booked")]
    # No full NIK in the page, the web's files or its audit.
    assert nik(1, day=45) not in driver.page_source
    for path in (web.settings.users_path, *tmp_path.glob("var/*")):
        assert nik(1, day=45).encode() not in path.read_bytes(), path
    (row,) = web.users.audit_rows()
    assert row[1:4] == (
        "sri",
        "booking_import",
        "kelurahan-petompon.csv: 2 baru, 0 sudah ada, 2 ditolak",
    )

    code = booked[0][0]
    fill(driver, "#find-form", kode=code)
    click(driver, "#find-form button")
    wait_for(lambda: "Batalkan booking" in driver.page_source, 10, "the booking")
    assert "Dewi" in text_of(driver, "#booking")
    assert "****0007" in text_of(driver, "#booking")
    shoot(driver, tmp_path, "admin-booking")
    click(driver, "#cancel-form button")
    flash(driver, f"Booking {code} dibatalkan.")
    assert rows(web.config, f"SELECT status FROM bookings WHERE code = '{code}'") == [
        ("cancelled",)
    ]
    imported, cancelled = rows(web.config, "SELECT who, action, subject FROM audit ORDER BY id")
    assert imported[:2] == ("web/sri", "booking_import")
    assert imported[2].endswith(": 2 booked of 2")
    assert cancelled == ("web/sri", "cancel_booking", code)
    # An unknown code says so, in Indonesian, and changes nothing.
    go(driver, f"{web.url}/admin/booking?kode=12345678")
    assert "tidak" in text_of(driver, ".flash.bad").lower()
    assert office.ok("admin", "snapshot")["office"]


def test_plan_a_visit_and_see_each_units_sync_state(desk_office, chromium, tmp_path):
    office, web = desk_office
    driver = chromium
    log_in(driver, web.url, "sri")
    go(driver, f"{web.url}/admin/kunjungan")
    assert "belum pernah" in text_of(driver, 'tr[data-unit="keliling-1"]')
    fill(driver, "#visit-form", day="12052026", start="08:00", end="12:00", place="Melati")
    fill(driver, "#visit-form", kelurahan="Petompon", organiser="Bu Ani 0812", expected="40")
    click(driver, "#visit-form button")
    flash(driver, "Kunjungan ke Melati tanggal 2026-12-05 dijadwalkan.")
    (visit,) = office.ok("admin", "snapshot")["visits"]["visits"]
    assert (visit["unit"], visit["day"], visit["start"], visit["end"]) == (
        "keliling-1", "2026-12-05", "08:00", "12:00",
    )  # fmt: skip
    assert (visit["place_name"], visit["kelurahan"], visit["expected"]) == (
        "Posyandu Melati", "Petompon", 40,
    )  # fmt: skip
    wait_for(lambda: visit["id"] in driver.page_source, 10, "the visit in the schedule")

    # What the office applied of a unit's outbox is the page's sync state: one ack
    # written by the store's own method, as antrean/sync.py writes it.
    store = Store(web.config.store_path)
    try:
        at = datetime(2026, 11, 26, 3, 15, tzinfo=UTC)
        store.apply_sync("keliling-2", visit["id"], 17, SyncRows(), at)
    finally:
        store.close()
    go(driver, f"{web.url}/admin/kunjungan")
    assert f"{visit['id']}: 17" in text_of(driver, 'tr[data-unit="keliling-2"]')
    assert "2026-11-26 10:15:00" in text_of(driver, 'tr[data-unit="keliling-2"]')
    assert "belum pernah" in text_of(driver, 'tr[data-unit="keliling-1"]')
    shoot(driver, tmp_path, "admin-visits")

    # A wrong form says why and plans nothing; cancelling is audited with the user.
    fill(driver, "#visit-form", day="12062026", start="13:00", end="12:00", place="Mawar")
    fill(driver, "#visit-form", kelurahan="Petompon")
    click(driver, "#visit-form button")
    flash(driver, "mulai sebelum selesai")
    assert len(office.ok("admin", "snapshot")["visits"]["visits"]) == 1
    click(driver, f'tr[data-visit="{visit["id"]}"] button')
    flash(driver, f"Kunjungan {visit['id']} dibatalkan.")
    assert [(r[1], r[2]) for r in web.users.audit_rows()] == [
        ("sri", "visit_cancel"), ("sri", "visit_plan"),
    ]  # fmt: skip
    assert rows(web.config, "SELECT who, action, subject FROM audit ORDER BY id") == [
        ("web/sri", "visit_plan", visit["id"]), ("web/sri", "visit_cancel", visit["id"]),
    ]  # fmt: skip
