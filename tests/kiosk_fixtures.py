"""Shared set-up of the kiosk tests: the app on the example office with a simulated printer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from antrean.config import Config
from kiosk.app import KioskApp
from kiosk.printer.sim import SimPrinter
from kiosk.settings import kiosk_settings

from .helpers import FakeClock, Office
from .kivy_harness import pump_until, start_app, stop_app

STAFF_PIN = "2468"  # the example config's


@pytest.fixture
def printer(tmp_path: Path) -> SimPrinter:
    return SimPrinter(80, tmp_path / "tickets")


@pytest.fixture
def kiosk(
    config: Config, office: Office, clock: FakeClock, printer: SimPrinter
) -> Iterator[KioskApp]:
    app = KioskApp(config, kiosk_settings(config), printer=printer, now=clock)
    start_app(app, (800, 480))
    try:
        wait_home_ready(app)
        yield app
    finally:
        stop_app(app)


def wait_home_ready(app: KioskApp, service: str = "A", timeout: float = 15) -> None:
    pump_until(
        lambda: (
            app.screens.current == "home"
            and service in app.home.service_buttons
            and not app.home.service_buttons[service].disabled
        ),
        timeout,
        f"service {service} offered on Home",
    )


def service_state(office: Office, code: str) -> dict[str, Any]:
    snapshot = office.ok("admin", "snapshot")
    return next(s for s in snapshot["services"] if s["code"] == code)
