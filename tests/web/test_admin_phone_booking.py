"""A resident booked during a phone call, from /admin/booking in a real browser.

Headless Chromium fills the phone form; the real queue service books it
(`book`, with the web's user) and the page shows the code, the day and the
slot. A second booking of the same NIK that day and a wrong NIK are refused
in Indonesian with the form kept, the NIK only as ****1234. The test then
reads the queue's store and both audits, and every log line, for a full NIK.
"""

from __future__ import annotations

import logging
import re

import pytest

from tests.support.chromium import go
from tests.web.test_admin_desk import click, fill, flash, nik, rows
from tests.web.test_pages import log_in, save_shot, text_of

CALLER = {"name": "Siti Aminah", "phone": "081234560901", "kelurahan": "Bendan"}


def value_of(driver, css: str) -> str:
    return str(driver.execute_script("return document.querySelector(arguments[0]).value", css))


def test_book_a_resident_on_the_phone_then_the_same_nik_again_is_refused(
    desk_office, chromium, tmp_path, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    office, web = desk_office
    driver = chromium
    resident = nik(901)
    log_in(driver, web.url, "sri")
    go(driver, f"{web.url}/admin/booking")
    fill(driver, "#phone-form", nik=resident, day="11272026", **CALLER)
    click(driver, "#phone-form button")
    flash(driver, "Booking dibuat.")
    shown = text_of(driver, "#phone-code")
    assert re.fullmatch(r"\d{4} \d{4}", shown), shown
    code = shown.replace(" ", "")
    # This office keeps no [office] hours: its day's slots start at midnight.
    assert text_of(driver, "#phone-booked .when") == "Jumat, 27 November 2026, pukul 00.00-01.00"
    assert "****0901" in text_of(driver, "#phone-booked")
    assert driver.find_elements("css selector", "#phone-reprint-form button")
    save_shot(driver, tmp_path / "web-admin-booking-phone-1366.png")
    assert rows(web.config, "SELECT code, day, slot, service, name, kelurahan FROM bookings") == [
        (code, "2026-11-27", "00:00", "A", "Siti Aminah", "Bendan")
    ]
    assert rows(web.config, "SELECT who, action, subject FROM audit") == [("web/sri", "book", code)]
    (row,) = web.users.audit_rows()
    assert (row[1], row[2], row[3], row[5]) == ("sri", "book", f"{code}, Bendan", "ok")

    # The same NIK the same day again: refused, the form kept, the NIK only hinted.
    fill(driver, "#phone-form", nik=resident, day="11272026", **CALLER)
    click(driver, "#phone-form button")
    flash(driver, "Tidak dibooking: NIK ****0901 sudah punya booking")
    assert value_of(driver, "#phone-form [name=name]") == "Siti Aminah"
    assert value_of(driver, "#phone-form [name=nik]") == ""
    assert value_of(driver, "#phone-form [name=day]") == "2026-11-27"
    assert text_of(driver, "#nik-hint").startswith("NIK ****0901 tidak ditampilkan ulang")
    assert resident not in driver.page_source
    assert code not in driver.page_source  # a known NIK does not read out its code
    # Past the booking horizon: the queue's own reason.
    fill(driver, "#phone-form", nik=nik(903), day="12102026", **CALLER)
    click(driver, "#phone-form button")
    flash(driver, "melewati batas booking")
    assert len(rows(web.config, "SELECT code FROM bookings")) == 1
    outcomes = [(r[2], r[3], r[5]) for r in web.users.audit_rows()]
    assert outcomes[:2] == [
        ("book", "Bendan", "refused: booking_refused"),
        ("book", f"{code}, Bendan", "refused: again"),
    ]

    # No full NIK in a log line, the web's files or the queue's audit.
    # (The test's own Selenium logs the keys it types: only the system's loggers count.)
    ours = ("antrean", "web", "uvicorn", "starlette")
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(ours))
    assert "book" in logged
    for digits in (resident, nik(903)):
        assert digits not in logged
        assert digits.encode() not in web.settings.users_path.read_bytes()
    assert office.ok("admin", "snapshot")["office"]


def test_a_wrong_nik_on_the_phone_is_refused_and_nothing_is_stored(desk_office, chromium):
    _office, web = desk_office
    driver = chromium
    log_in(driver, web.url, "sri")
    go(driver, f"{web.url}/admin/booking")
    short = nik(911)[:15]
    fill(driver, "#phone-form", nik=short, **CALLER)
    click(driver, "#phone-form button")
    flash(driver, "NIK harus 16 angka (NIK ****0091). Periksa lagi.")
    assert value_of(driver, "#phone-form [name=kelurahan]") == "Bendan"
    assert short not in driver.page_source
    born_in_month_13 = f"33740112{13:02d}900912"
    fill(driver, "#phone-form", nik=born_in_month_13, **CALLER)
    click(driver, "#phone-form button")
    flash(driver, "bulan lahir di NIK (angka ke-9 dan 10) harus 01-12")
    assert born_in_month_13 not in driver.page_source
    assert rows(web.config, "SELECT code FROM bookings") == []
    assert rows(web.config, "SELECT action FROM audit") == []
    assert web.users.audit_rows() == []  # nothing was sent


def test_a_full_day_is_booked_on_the_next_open_day_and_the_page_says_so(desk_office, chromium):
    office, web = desk_office
    wanted = {"name": "Warga", "kelurahan": "Bendan", "service": "A", "day": "2026-11-27"}
    for serial in range(920, 1120):  # fill the 27th through the queue service itself
        got = office.ok("admin", "book", nik=nik(serial), **wanted)["booking"]
        if got["day"] != "2026-11-27":
            break
    assert got["day"] == "2026-11-28", got
    driver = chromium
    log_in(driver, web.url, "sri")
    go(driver, f"{web.url}/admin/booking")
    fill(driver, "#phone-form", nik=nik(1200), day="11272026", **CALLER)
    click(driver, "#phone-form button")
    flash(driver, "Booking dibuat.")
    assert text_of(driver, "#phone-booked .when").startswith("Sabtu, 28 November 2026, pukul ")
    assert "sudah penuh" in text_of(driver, "#phone-moved")
