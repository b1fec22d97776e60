"""Before any counter opens, the kiosk and the ticket say so instead of "segera".

The real kiosk in a Kivy window against a real Mosquitto and queue service;
the printed ticket is the simulator's bytes, decoded back.
"""

from __future__ import annotations

from kiosk import words
from kiosk.app import KioskApp
from kiosk.printer.escpos_decode import decode
from kiosk.printer.sim import SimPrinter
from tests.kiosk import test_app as test_kiosk_app
from tests.support.helpers import Office
from tests.support.kivy_harness import pump, pump_until, tap

# The kiosk app in its window on the simulated printer, as tests/kiosk/test_app.py has them.
kiosk, printer = test_kiosk_app.kiosk, test_kiosk_app.printer


def take(app: KioskApp, service: str) -> str:
    """Taps a service (answering Ya if asked again); the Done screen's details (ahead, wait)."""
    tap(app.home.service_buttons[service])
    pump_until(lambda: app.screens.current == "message", 10, "the Done screen or the question")
    if "yes" in app.message.buttons:  # the same service again soon: a deliberate Ya
        pump(test_kiosk_app.NUMBER_GUARD.after_shown_s)
        tap(app.message.buttons["yes"])
    pump_until(lambda: "take" in app.message.labels, 10, "the Done screen")
    details = app.message.labels["details"].text
    app.go_home()
    pump_until(lambda: app.screens.current == "home", 5, "back home")
    pump(1.0)  # past Home's bounce guard, as a resident's next tap would be
    return str(details)


def home(app: KioskApp, service: str = "A") -> str:
    """The text of a service's button on Home now (the buttons are rebuilt as state comes)."""
    return str(app.home.service_buttons[service].text)


def printed(printer: SimPrinter) -> list[str]:
    assert printer.last is not None
    return decode(printer.last.data).lines


def test_no_counter_open_is_said_on_home_on_the_done_screen_and_on_the_ticket(
    kiosk: KioskApp, printer: SimPrinter, office: Office
) -> None:
    pump_until(lambda: "loket belum dibuka" in home(kiosk), 5, "Home says no counter is open")
    assert "segera" not in home(kiosk)
    details = take(kiosk, "A")
    assert details == "0 orang di depan Anda\nPerkiraan tunggu belum diketahui (loket belum dibuka)"
    lines = printed(printer)
    assert "Loket belum dibuka" in lines
    assert not any(line.startswith("Perkiraan tunggu") for line in lines)

    office.ok("admin", "counter_open", counter=1)  # loket 1 serves A
    pump_until(lambda: "loket belum" not in home(kiosk), 5, "an estimate again")
    assert "1 menunggu  ·  tunggu 5 menit" in home(kiosk)
    details = take(kiosk, "A")
    assert details == "1 orang di depan Anda\nPerkiraan tunggu 5 menit"
    assert "Perkiraan tunggu: 5 menit" in printed(printer)
    assert "Loket belum dibuka" not in printed(printer)


def test_the_english_words_for_a_wait(kiosk: KioskApp) -> None:
    assert words.text("en", "wait", t=words.duration("en", 0)) == "short wait"
    assert words.text("en", "estimate", t=words.duration("en", 1500)) == "Estimated wait: 25 min"
    kiosk.toggle_language()
    pump_until(lambda: "no counter open yet" in home(kiosk), 5, "Home in English")
    assert "0 waiting  ·  no counter open yet" in home(kiosk)
    assert take(kiosk, "A").endswith("Estimated wait: not known yet (no counter open yet)")
