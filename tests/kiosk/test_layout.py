"""Every kiosk screen, at every screen size it is sold for, in both languages: no text is cut.

The real app against a real Mosquitto and queue service; Done and Trouble come
from real taps (Trouble from a printer that fails mid-ticket), the notices
from the outcomes the controller hands the app.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from antrean.config import Config
from kiosk.app import KioskApp
from kiosk.controller import Offline, PrinterBlocked, Refused, Unanswered
from kiosk.printer import PrinterStatus
from kiosk.printer.sim import SimPrinter
from kiosk.settings import kiosk_settings
from tests.support.helpers import FakeClock, Office
from tests.support.kivy_harness import pump, pump_until, set_window_size, start_app, stop_app, tap
from tests.support.layout_check import cut_text

# 7" Pi touchscreen, 7" HDMI panels, 10" panels, Pi Touch Display 2 and a 1080p
# totem, both portrait.
KIOSK_SIZES = [(800, 480), (1024, 600), (1280, 800), (720, 1280), (1080, 1920)]
NOTICES = [
    Refused("quota_full", "Kuota hari ini sudah penuh."),
    Refused("closed", "Blanko KTP-el habis"),
    Offline(),
    Unanswered(0),
    Unanswered(2),
    PrinterBlocked(PrinterStatus.PAPER_OUT),
]


@pytest.fixture
def kiosk(
    config: Config,
    office: Office,
    clock: FakeClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[KioskApp, SimPrinter]]:
    monkeypatch.setattr("kiosk.app.GUARD_S", 0.05)  # many screens in a row: no bounce wait
    printer = SimPrinter(80, tmp_path / "tickets")
    app = KioskApp(config, kiosk_settings(config), printer=printer, now=clock)
    start_app(app, KIOSK_SIZES[0])
    try:
        yield app, printer
    finally:
        stop_app(app)
        set_window_size(800, 480)


def home(app: KioskApp, language: str) -> None:
    app.printer_status = PrinterStatus.OK  # as the printer says (a PrinterBlocked notice set it)
    app.go_home()
    app.language = language
    app.render_home()
    pump(0.1)  # past the bounce guard
    pump_until(lambda: not app.home.service_buttons["A"].disabled, 10, "A offered")


def take(app: KioskApp, service: str, where: str, problems: list[str]) -> None:
    """A tap on a service; the question a second ticket soon after brings is checked, then Ya."""
    tap(app.home.service_buttons[service])
    pump_until(lambda: app.screens.current == "message", 10, "a screen after the tap")
    if "yes" in app.message.buttons:
        problems += cut_text(app.message, f"{where} Again? ({service})")
        app.message.buttons["yes"].dispatch("on_release")


@pytest.mark.parametrize("size", KIOSK_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_no_kiosk_screen_cuts_its_text(
    kiosk: tuple[KioskApp, SimPrinter], office: Office, size: tuple[int, int]
) -> None:
    app, printer = kiosk
    office.ok("admin", "service_close", service="B", reason="Blanko KTP-el habis")
    set_window_size(*size)
    problems: list[str] = []
    for language in ("id", "en"):
        where = f"{size[0]}x{size[1]} {language}"
        home(app, language)
        problems += cut_text(app.home, f"{where} Home")
        app.toggle_priority()
        pump(0.1)
        problems += cut_text(app.home, f"{where} Home, priority chosen")
        take(app, "A", where, problems)  # a priority ticket: the longest service line
        pump_until(lambda: "take" in app.message.labels, 10, "Done")
        problems += cut_text(app.message, f"{where} Done")
        home(app, language)
        printer.set_faults(fail_mid=1)
        take(app, "C", where, problems)
        pump_until(lambda: "reprint" in app.message.buttons, 10, "Trouble")
        problems += cut_text(app.message, f"{where} Trouble")
        for notice in NOTICES:
            home(app, language)
            app.show_outcome(notice)
            problems += cut_text(app.message, f"{where} {notice}")
        home(app, language)
        printer.set_faults(paper_out=True)
        app.controller.poll_printer()
        pump_until(lambda: app.home.service_buttons["A"].disabled, 10, "the paper-out banner")
        problems += cut_text(app.home, f"{where} Home, paper out")
        printer.set_faults(paper_out=False)
        app.controller.poll_printer()
        pump_until(lambda: app.printer_status is PrinterStatus.OK, 10, "the printer back")
    pad = app.open_pin_pad()
    assert pad is not None
    pump(0.5)  # the popup's opening animation
    problems += cut_text(pad, f"{size} PIN pad")
    pad.dismiss()
    menu = app.open_staff_menu()
    pump(0.5)
    problems += cut_text(menu, f"{size} staff menu")
    menu.dismiss()
    assert not problems, "\n".join(problems)
