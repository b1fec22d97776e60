"""The web in a real browser: headless Chromium logs in, closes a service, sees the dashboard live.

The queue service, the broker and the web are the real ones. Set
ANTREAN_SCREENSHOTS=docs/screenshots to keep the pages at 1366x768 and 360x740.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

from selenium.webdriver.common.by import By

from tests.support.broker_world import wait_for
from tests.support.chromium import go, page_said
from tests.web.conftest import PASSWORD

SIZES = {"desktop": (1366, 768), "phone": (360, 740)}


def log_in(driver: Any, url: str, name: str) -> None:
    driver.get(f"{url}/dasbor")
    assert "/masuk" in driver.current_url
    driver.find_element(By.NAME, "name").send_keys(name)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form.login button").click()

    def on_dashboard() -> bool:
        loaded = driver.execute_script("return document.readyState") == "complete"
        return bool(driver.current_url.endswith("/dasbor") and loaded)

    # Loaded, not only addressed: a get() sent while it still loads may not take.
    wait_for(on_dashboard, 10, lambda: f"the dashboard after login, {page_said(driver)}")


def text_of(driver: Any, css: str) -> str:
    """The shown text of an element, read in one step: the live part may be swapped any time."""
    text = driver.execute_script(
        "var e = document.querySelector(arguments[0]); return e ? e.innerText : null", css
    )
    assert text is not None, f"no {css} on the page"
    return str(text)


def count_of(driver: Any, css: str) -> int:
    return int(driver.execute_script("return document.querySelectorAll(arguments[0]).length", css))


def service_row(driver: Any, code: str) -> str:
    return text_of(driver, f'tr.service[data-code="{code}"]')


def shoot(driver: Any, tmp_path: Path, name: str) -> None:
    """A screenshot at each size, kept in ANTREAN_SCREENSHOTS when it is set."""
    for size, (w, h) in SIZES.items():
        driver.set_window_size(w, h)
        driver.execute_script("window.scrollTo(0, 0)")
        save_shot(driver, tmp_path / f"web-{name}-{size}.png")
    driver.set_window_size(*SIZES["desktop"])


def save_shot(driver: Any, shot: Path) -> None:
    """One screenshot, kept in ANTREAN_SCREENSHOTS when it is set."""
    driver.save_screenshot(str(shot))
    assert shot.stat().st_size > 5_000
    keep = os.environ.get("ANTREAN_SCREENSHOTS")
    if keep:
        shutil.copy(shot, Path(keep) / shot.name)


def test_staff_close_a_service_and_the_dashboard_changes_live(web_office, chromium, tmp_path):
    office, web = web_office
    driver = chromium
    go(driver, f"{web.url}/masuk")
    shoot(driver, tmp_path, "login")
    log_in(driver, web.url, "sri")
    assert "Buka" in service_row(driver, "B")
    office.ok("kiosk-1", "issue", service="A")
    office.ok("kiosk-1", "issue", service="A")
    # Live: the row changes without a reload (the page's own SSE stream).
    wait_for(lambda: service_row(driver, "A").split()[3:4] == ["2"], 10, "2 waiting in A")
    before = driver.find_element(By.ID, "live").get_attribute("data-version")
    assert before  # the stream has delivered at least once
    # Blank cards are out in the test office: the problem is at the top, in words.
    problems = text_of(driver, ".problems")
    assert "Blanko KTP-el habis" in problems
    assert "Catat kiriman blanko" in problems
    shoot(driver, tmp_path, "dashboard")

    go(driver, f"{web.url}/admin")
    driver.find_element(By.CSS_SELECTOR, "#service-form select").send_keys("C")
    driver.find_element(By.CSS_SELECTOR, "#service-form [name=reason]").send_keys(
        "Server Disdukcapil gangguan"
    )
    driver.find_element(By.CSS_SELECTOR, "#service-form button[value=close]").click()
    wait_for(lambda: "Layanan C ditutup." in driver.page_source, 10, "the admin's message")
    snap = office.ok("admin", "snapshot")
    service_c = next(s for s in snap["services"] if s["code"] == "C")
    assert service_c["open"] is False
    assert service_c["reason"] == "Server Disdukcapil gangguan"
    shoot(driver, tmp_path, "admin")

    go(driver, f"{web.url}/admin/stok")
    driver.find_element(By.CSS_SELECTOR, "#stock-form [name=count]").send_keys("250")
    driver.find_element(By.CSS_SELECTOR, "#stock-form [name=note]").send_keys("SJ-2026-118")
    driver.find_element(By.CSS_SELECTOR, "#stock-form button").click()
    wait_for(lambda: "Kiriman 250 blanko dicatat." in driver.page_source, 10, "delivery")
    assert office.ok("admin", "snapshot")["stock"]["balance"] == 250

    go(driver, f"{web.url}/dasbor")
    assert "Tutup" in service_row(driver, "C")
    assert "Server Disdukcapil gangguan" in service_row(driver, "C")
    assert "250" in text_of(driver, ".stock")


def test_a_running_text_with_script_shows_as_text(web_office, chromium):
    office, web = web_office
    driver = chromium
    log_in(driver, web.url, "sri")
    go(driver, f"{web.url}/admin")
    evil = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2"><b>Libur</b>'
    box = driver.find_element(By.CSS_SELECTOR, "#text-form textarea")
    box.clear()
    box.send_keys(evil)
    driver.find_element(By.CSS_SELECTOR, "#text-form button").click()
    wait_for(lambda: "Teks berjalan disimpan." in driver.page_source, 10, "saved")
    assert office.ok("admin", "snapshot")["office"]["running_text"] == evil
    go(driver, f"{web.url}/dasbor")
    assert text_of(driver, ".running") == f"Teks berjalan: {evil}"
    assert count_of(driver, ".running script, .running img, .running b") == 0
    # Live too: the SSE fragment is escaped like the page.
    office.ok("admin", "set_running_text", text=evil + " lagi")
    wait_for(lambda: text_of(driver, ".running").endswith("lagi"), 10, "the new text, live")
    assert count_of(driver, ".running script, .running img, .running b") == 0
    assert driver.execute_script("return window.pwned") is None


def test_going_back_and_forth_never_waits_for_a_left_pages_stream(web_office, chromium):
    # Chromium keeps six HTTP/1.1 connections per host; a page left for another
    # must close its SSE stream, or after a few moves the next page waits for a
    # free connection (bench/bench_web.py saw 58 s). Dashboard and phone page both
    # stream; 12 moves between two streaming pages would exhaust them twice.
    _office, web = web_office
    driver = chromium
    log_in(driver, web.url, "sri")
    driver.set_page_load_timeout(15)
    slowest = 0.0
    for n in range(12):
        start = time.monotonic()
        driver.get(f"{web.url}/dasbor" if n % 2 else f"{web.url}/laporan")
        wait_for(lambda: count_of(driver, "#live, main") > 0, 15, "the page")
        slowest = max(slowest, time.monotonic() - start)
    assert slowest < 5, f"a page waited {slowest:.1f} s"
