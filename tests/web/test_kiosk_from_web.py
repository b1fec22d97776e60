"""A service closed on the web greys the real kiosk's button, through the real broker.

One real Mosquitto and queue service; the web (uvicorn) and the kiosk app
(Kivy, under Xvfb, in this process as tests/kiosk drives it) are both its
MQTT clients. Headless Chromium logs in as petugas, closes service B with a
reason on /admin, and the kiosk's B button turns disabled and grey with the
reason on it while A stays as it was; reopened on the web, B is offered again.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from kiosk.app import KioskApp
from kiosk.printer.sim import SimPrinter
from kiosk.settings import kiosk_settings
from kiosk.ui import SERVICE, SERVICE_OFF
from tests.kiosk.test_app import wait_home_ready
from tests.support.chromium import go
from tests.support.kivy_harness import pump_until, start_app, stop_app
from tests.web.test_admin_desk import click, fill, flash, rows
from tests.web.test_pages import log_in

REASON = "Printer rusak, sedang diperbaiki"


@pytest.fixture
def kiosk(web_office: tuple[Any, Any], tmp_path: Path) -> Iterator[KioskApp]:
    office, _web = web_office
    config = office.config
    # B prints KTP-el cards and the test office has none yet: B would be closed already.
    office.ok("admin", "stock_receive", count=50, note="SJ-uji")
    printer = SimPrinter(80, tmp_path / "tickets")
    app = KioskApp(config, kiosk_settings(config), printer=printer, now=office.clock)
    start_app(app, (800, 480))
    try:
        wait_home_ready(app, "B")
        yield app
    finally:
        stop_app(app)


def button(kiosk: KioskApp, code: str) -> Any:
    """The service's button on Home now (Home is drawn again when a service changes)."""
    return kiosk.home.service_buttons[code]


def set_service_b(driver: Any, do: str, reason: str = "") -> None:
    driver.find_element(By.CSS_SELECTOR, "#service-form select").send_keys("B")
    fill(driver, "#service-form", reason=reason)
    click(driver, f"#service-form button[value={do}]")


def test_a_service_closed_on_the_web_is_greyed_on_the_kiosk_then_offered_again(
    web_office, chromium, kiosk
):
    _office, web = web_office
    driver = chromium
    assert not button(kiosk, "B").disabled
    assert tuple(button(kiosk, "B").background_color) == SERVICE
    log_in(driver, web.url, "sri")
    go(driver, f"{web.url}/admin")
    set_service_b(driver, "close", REASON)
    flash(driver, "Layanan B ditutup.")
    pump_until(
        lambda: button(kiosk, "B").disabled and REASON in button(kiosk, "B").text,
        15,
        "the kiosk's B button disabled with the reason",
    )
    assert tuple(button(kiosk, "B").background_color) == SERVICE_OFF  # grey
    assert not button(kiosk, "A").disabled
    assert REASON not in button(kiosk, "A").text

    set_service_b(driver, "open")
    flash(driver, "Layanan B dibuka.")
    pump_until(lambda: not button(kiosk, "B").disabled, 15, "the kiosk's B button offered again")
    assert REASON not in button(kiosk, "B").text
    assert tuple(button(kiosk, "B").background_color) == SERVICE
    # Who did both, in the queue's own store.
    assert rows(web.config, "SELECT who, action FROM audit ORDER BY id") == [
        ("web/sri", "service_close"), ("web/sri", "service_open"),
    ]  # fmt: skip
