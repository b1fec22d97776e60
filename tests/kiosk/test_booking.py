"""A booking code at the real kiosk (issue 12, part 3): keypad taps, a scanner, the printed ticket.

A real Mosquitto, the real queue service on SQLite, the bookings imported by
the real `antrean booking import`, and the kiosk app in a real Kivy window
under Xvfb; the printer is the simulator, whose bytes are decoded back.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kivy.core.window import Window
from kivy.tests.common import UnitTestTouch

from antrean.config import Config, load_config
from antrean_testing.devbroker import DevBroker
from kiosk import code_screen
from kiosk.app import KioskApp
from kiosk.controller import Printed
from kiosk.printer.escpos_decode import decode
from kiosk.printer.sim import SimPrinter
from kiosk.settings import kiosk_settings
from tests.service.test_booking import BOOKING, HEADER, bookings, nik, run_import, wait_day, wib
from tests.support import kivy_harness as harness
from tests.support.helpers import FakeClock, Office, example_text
from tests.support.kivy_harness import keep_tapping, pump, pump_until, tap
from tests.support.layout_check import cut_text, kiosk_languages_at


@pytest.fixture
def config(tmp_path: Path, broker: DevBroker) -> Config:
    path = tmp_path / "antrean.toml"
    path.write_text(example_text(broker.port, edit={"[kiosk]\n": BOOKING}), encoding="utf-8")
    return load_config(path)


@pytest.fixture
def codes(
    config: Config,
    office: Office,
    clock: FakeClock,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> dict[str, str]:
    """A code of each slot of Friday 27 (A: two a slot), the clock at 08:10 that day."""
    rows = [f"Warga {i};{nik(700 + i)};;Bendan;A;27/11/2026" for i in range(6)]
    status, _out = run_import(config, tmp_path, HEADER + "\n".join(rows), capsys)
    assert status == 0
    clock.set(wib(27, 8, 10))
    wait_day(office, "2026-11-27")
    by_slot: dict[str, str] = {}
    for code, _day, slot, *_ in bookings(config):
        by_slot.setdefault(slot, code)
    return by_slot


@pytest.fixture
def printer(tmp_path: Path) -> SimPrinter:
    return SimPrinter(80, tmp_path / "tickets")


@pytest.fixture
def kiosk(
    config: Config, codes: dict[str, str], clock: FakeClock, printer: SimPrinter
) -> Iterator[KioskApp]:
    app = KioskApp(config, kiosk_settings(config), printer=printer, now=clock)
    harness.start_app(app, (800, 480))
    try:
        pump_until(lambda: app.home.booking_button is not None, 15, "the booking button")
        pump_until(lambda: not app.home.booking_button.disabled, 15, "booking offered")
        pump(0.9)  # past the bounce guard of the first Home
        yield app
    finally:
        harness.stop_app(app)


def status_of(config: Config, code: str) -> str:
    return next(r[6] for r in bookings(config) if r[0] == code)


def open_code(app: KioskApp) -> None:
    assert app.home.booking_button is not None
    tap(app.home.booking_button)
    pump_until(lambda: app.screens.current == "code", 5, "the code screen")


def type_code(app: KioskApp, code: str) -> None:
    for digit in code:
        tap(app.code.keys[digit])


def wait_note(app: KioskApp, text: str) -> str:
    def shown() -> bool:
        return app.screens.current == "code" and text in app.code.note.text

    try:
        pump_until(shown, 10, repr(text))
    except AssertionError as exc:
        note = f"{app.screens.current}, {app.code.entry.code!r}, {app.code.note.text!r}"
        raise AssertionError(f"{exc}; the screen: {note}") from None
    return str(app.code.note.text)


def wait_done(app: KioskApp) -> None:
    pump_until(lambda: "take" in app.message.labels, 10, "the Done screen")


def test_a_code_typed_on_the_keypad_prints_a_booked_ticket_once(
    kiosk: KioskApp, printer: SimPrinter, config: Config, codes: dict[str, str]
) -> None:
    code = codes["08:00"]
    open_code(kiosk)
    type_code(kiosk, code[:5])
    assert kiosk.code.field.text == f"[b]{code[:4]} {code[4]}___[/b]"  # in groups, as typed
    type_code(kiosk, code[5:])
    tap(kiosk.code.keys["ok"])
    wait_done(kiosk)
    assert kiosk.message.labels["number"].text == "[b]A001[/b]"
    assert "Booking 08.00-09.00" in kiosk.message.labels["service"].text
    assert len(printer.complete_jobs()) == 1
    printed = decode(printer.complete_jobs()[0].data)
    assert "BOOKING" in " ".join(printed.lines)
    assert "Jadwal 08.00-09.00" in printed.lines
    [qr] = printed.qr_codes
    assert qr.startswith("http://127.0.0.1:8080/t/")  # the booked ticket has its phone page too
    assert status_of(config, code) == "redeemed"

    kiosk.go_home()  # the same slip again, by another hand
    pump(0.9)
    open_code(kiosk)
    assert kiosk.code.field.text == "[b]____ ____[/b]"  # the last resident's code is gone
    type_code(kiosk, code)
    tap(kiosk.code.keys["ok"])
    note = wait_note(kiosk, "sudah dipakai")
    assert "already been used" in note
    assert len(printer.jobs) == 1


def test_a_mistyped_digit_is_refused_the_code_kept_and_one_fix_gives_the_ticket(
    kiosk: KioskApp, printer: SimPrinter, config: Config, codes: dict[str, str]
) -> None:
    code = codes["08:00"]
    wrong = code[:7] + str((int(code[7]) + 1) % 10)
    open_code(kiosk)
    type_code(kiosk, wrong)
    tap(kiosk.code.keys["ok"])
    note = wait_note(kiosk, "salah ketik")
    assert "typing error" in note
    assert kiosk.code.field.text == f"[b]{wrong[:4]} {wrong[4:]}[/b]"  # kept for the fix
    assert printer.jobs == []
    assert status_of(config, code) == "booked"
    tap(kiosk.code.keys["delete"])
    tap(kiosk.code.keys[code[7]])
    assert kiosk.code.note.text == ""  # the refusal goes with the first key
    tap(kiosk.code.keys["ok"])
    wait_done(kiosk)
    assert len(printer.complete_jobs()) == 1
    assert status_of(config, code) == "redeemed"


def test_too_early_says_when_to_come_back_in_both_languages(
    kiosk: KioskApp, printer: SimPrinter, codes: dict[str, str]
) -> None:
    open_code(kiosk)
    type_code(kiosk, codes["10:00"])
    tap(kiosk.code.keys["ok"])
    note = wait_note(kiosk, "Jadwal Anda pukul 10.00-11.00. Silakan kembali mulai pukul 09.30.")
    assert "Your time is 10.00-11.00. Please come back from 09.30." in note
    assert printer.jobs == []


def test_a_scanner_typing_digits_and_enter_on_home_gives_a_ticket(
    kiosk: KioskApp, printer: SimPrinter, config: Config, codes: dict[str, str]
) -> None:
    code = codes["08:00"]
    # What Kivy's SDL2 window dispatches for a keyboard: key down, then the text it typed.
    for digit in code:
        Window.dispatch("on_key_down", ord(digit), 0, digit, [])
        Window.dispatch("on_textinput", digit)
        pump(0.01)
    assert kiosk.screens.current == "code"
    assert kiosk.code.entry.code == code
    Window.dispatch("on_key_down", 13, 40, "\r", [])  # Enter
    wait_done(kiosk)
    assert len(printer.complete_jobs()) == 1
    assert "Jadwal 08.00-09.00" in decode(printer.complete_jobs()[0].data).lines
    assert status_of(config, code) == "redeemed"


def test_ok_tapped_again_and_again_gives_one_ticket(
    kiosk: KioskApp, printer: SimPrinter, office: Office, codes: dict[str, str]
) -> None:
    printer.set_faults(slow_s=0.5)  # a slow printer: the taps fall on every screen in turn
    open_code(kiosk)
    type_code(kiosk, codes["08:00"])
    keep_tapping(kiosk.code.keys["ok"], taps=16, every_s=0.3)
    wait_done(kiosk)
    pump(1.0)
    assert [type(o) for o in kiosk.outcomes] == [Printed]
    assert len(printer.jobs) == 1
    assert kiosk.screens.current == "message"  # the number stays up while the finger taps
    snapshot = office.ok("admin", "snapshot")
    assert next(s for s in snapshot["services"] if s["code"] == "A")["issued"] == 1


def test_paper_out_redeems_nothing_and_keeps_the_code(
    kiosk: KioskApp, printer: SimPrinter, office: Office, config: Config, codes: dict[str, str]
) -> None:
    code = codes["08:00"]
    open_code(kiosk)
    type_code(kiosk, code)
    printer.set_faults(paper_out=True)
    tap(kiosk.code.keys["ok"])
    note = wait_note(kiosk, "Printer tiket sedang bermasalah")
    assert "ticket printer has a problem" in note
    assert kiosk.code.entry.code == code
    assert printer.complete_jobs() == []
    assert status_of(config, code) == "booked"
    snapshot = office.ok("admin", "snapshot")
    assert next(s for s in snapshot["services"] if s["code"] == "A")["issued"] == 0


def test_the_code_screen_closes_itself_when_left_untouched(
    kiosk: KioskApp, monkeypatch: pytest.MonkeyPatch, codes: dict[str, str]
) -> None:
    monkeypatch.setattr(code_screen, "IDLE_S", 1.0)
    open_code(kiosk)
    type_code(kiosk, codes["08:00"][:3])
    pump(0.6)
    tap(kiosk.code.keys["5"])  # a touch re-arms it
    pump(0.6)
    assert kiosk.screens.current == "code"
    pump_until(lambda: kiosk.screens.current == "home", 3, "back home by itself")
    pump(0.9)  # Home's bounce guard
    open_code(kiosk)
    assert kiosk.code.entry.code == ""


def test_a_finger_held_on_ok_through_the_refusal_sends_the_code_once(
    kiosk: KioskApp, codes: dict[str, str]
) -> None:
    code = codes["08:00"]
    open_code(kiosk)
    type_code(kiosk, code[:7] + str((int(code[7]) + 1) % 10))
    x, y = kiosk.code.keys["ok"].to_window(*kiosk.code.keys["ok"].center)
    finger = UnitTestTouch(x, y)
    finger.touch_down()
    tap(kiosk.code.keys["ok"])  # the first OK: refused while the finger stays down
    wait_note(kiosk, "salah ketik")
    finger.touch_up()  # lifted on the screen drawn for the refusal
    pump(1.0)
    assert len(kiosk.outcomes) == 1


# 7" Pi touchscreen, 7" HDMI panels, 10" panels, Pi Touch Display 2 and a 1080p
# totem, both portrait (tests/kiosk/test_layout.py has the same list).
KIOSK_SIZES = [(800, 480), (1024, 600), (1280, 800), (720, 1280), (1080, 1920)]


@pytest.mark.parametrize("size", KIOSK_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_home_and_the_code_screen_cut_no_text(
    kiosk: KioskApp, codes: dict[str, str], size: tuple[int, int]
) -> None:
    problems: list[str] = []
    for where in kiosk_languages_at(kiosk, size):
        problems += cut_text(kiosk.home, f"{where} Home")
        open_code(kiosk)
        type_code(kiosk, codes["08:00"][:5])
        problems += cut_text(kiosk.code, f"{where} code, typing")
        good = codes["08:00"]
        type_code(kiosk, good[5:7] + str((int(good[7]) + 1) % 10))  # mistyped
        tap(kiosk.code.keys["ok"])
        wait_note(kiosk, "salah ketik" if kiosk.language == "id" else "typing error")
        problems += cut_text(kiosk.code, f"{where} code, mistyped")
        for _ in range(8):
            tap(kiosk.code.keys["delete"])
        type_code(kiosk, codes["10:00"])
        tap(kiosk.code.keys["ok"])  # early: the longest message, naming the slot
        wait_note(kiosk, "09.30")
        problems += cut_text(kiosk.code, f"{where} code, too early")
    assert not problems, "\n".join(problems)
