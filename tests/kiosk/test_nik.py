"""A walk-in's NIK (`nik_per_day`) and a booked NIK's last four digits (`confirm_nik_last4`)
at the real kiosk (issue 12): keypad taps under Xvfb, the real queue service, the printed ticket.

The NIK is masked on screen but for its last four digits, refused on the kiosk
when it cannot be a NIK (kept there for the fix), refused by the service when
it already took a number today (`nik_used_today`), and gone from the kiosk
as soon as its command is answered: not in the keypad, the controller or a log.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from antrean.config import Config, load_config
from antrean_testing.devbroker import DevBroker
from kiosk.app import KioskApp
from kiosk.code_entry import MASK
from kiosk.code_screen import CodeScreen
from kiosk.printer.escpos_decode import decode
from kiosk.printer.sim import SimPrinter
from kiosk.settings import kiosk_settings
from tests.kiosk.test_booking import KIOSK_SIZES
from tests.service.test_booking import HEADER, TOUT_RULES, bookings, nik, run_import, wait_day, wib
from tests.support import kivy_harness as harness
from tests.support.helpers import FakeClock, Office, example_text
from tests.support.kivy_harness import pump, pump_until, tap
from tests.support.layout_check import cut_text, kiosk_languages_at

WALKER = nik(602, day=52)  # a woman born on the 12th: day 52
BOOKED = nik(611)


@pytest.fixture
def config(tmp_path: Path, broker: DevBroker) -> Config:
    path = tmp_path / "antrean.toml"
    path.write_text(example_text(broker.port, edit=TOUT_RULES), encoding="utf-8")
    return load_config(path)


@pytest.fixture
def code(
    config: Config, office: Office, clock: FakeClock, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> str:  # fmt: skip
    """The code of a booking of B at 08:00 on Friday 27, the clock at 08:10 that day."""
    listing = HEADER + f"Ani;{BOOKED};;Bendan;B;27/11/2026\n"
    status, _out = run_import(config, tmp_path, listing, capsys)
    assert status == 0
    clock.set(wib(27, 8, 10))
    wait_day(office, "2026-11-27")
    ((found, *_),) = bookings(config)
    return str(found)


@pytest.fixture
def printer(tmp_path: Path) -> SimPrinter:
    return SimPrinter(80, tmp_path / "tickets")


@pytest.fixture
def kiosk(config: Config, code: str, clock: FakeClock, printer: SimPrinter) -> Iterator[KioskApp]:
    app = KioskApp(config, kiosk_settings(config), printer=printer, now=clock)
    harness.start_app(app, (800, 480))
    try:
        pump_until(lambda: "A" in app.home.service_buttons, 15, "the service buttons")
        pump_until(lambda: not app.home.service_buttons["A"].disabled, 15, "A offered")
        pump(0.9)  # past the bounce guard of the first Home
        yield app
    finally:
        harness.stop_app(app)


def type_digits(pad: CodeScreen, digits: str) -> None:
    for digit in digits:
        tap(pad.keys[digit])


def open_nik(app: KioskApp) -> None:
    tap(app.home.service_buttons["A"])
    pump_until(lambda: app.screens.current == "nik", 5, "the NIK keypad")


def reach_last4(app: KioskApp, code: str) -> None:
    """Home's booking button, the code, OK: the service finds it good and asks its last four."""
    tap(app.home.booking_button)
    pump_until(lambda: app.screens.current == "code", 5, "the code screen")
    type_digits(app.code, code)
    tap(app.code.keys["ok"])
    pump_until(lambda: app.screens.current == "last4", 10, "the last-four keypad")


def wait_note(app: KioskApp, pad: CodeScreen, text: str) -> str:
    def shown() -> bool:
        return app.screens.current == pad.name and text in pad.note.text

    try:
        pump_until(shown, 10, repr(text))
    except AssertionError as exc:
        raise AssertionError(f"{exc}; on {app.screens.current}: {pad.note.text!r}") from None
    return str(pad.note.text)


def wait_done(app: KioskApp) -> None:
    pump_until(lambda: "take" in app.message.labels, 10, "the Done screen")


def issued(office: Office, service: str) -> int:
    snapshot = office.ok("admin", "snapshot")
    return int(next(s for s in snapshot["services"] if s["code"] == service)["issued"])


def test_a_walk_in_types_the_nik_masked_gets_one_number_and_the_kiosk_forgets_it(
    kiosk: KioskApp, printer: SimPrinter, office: Office, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    open_nik(kiosk)
    type_digits(kiosk.nik, WALKER[:6])
    assert kiosk.nik.field.text == f"[b]{MASK * 2}{WALKER[2:4]} {WALKER[4:6]}__ ____ ____[/b]"
    type_digits(kiosk.nik, WALKER[6:])
    assert kiosk.nik.field.text == f"[b]{MASK * 4} {MASK * 4} {MASK * 4} {WALKER[-4:]}[/b]"
    tap(kiosk.nik.keys["ok"])
    wait_done(kiosk)
    assert kiosk.message.labels["number"].text == "[b]A001[/b]"
    assert kiosk.nik.entry.code == ""  # answered: the kiosk keeps no NIK
    assert kiosk.controller is not None
    assert kiosk.controller._unresolved is None
    [job] = printer.complete_jobs()
    assert "A001" in " ".join(decode(job.data).lines)
    assert WALKER not in job.data.decode("latin-1")

    kiosk.go_home()  # the same NIK again: the tout's second number
    pump(0.9)
    tap(kiosk.home.service_buttons["A"])
    pump_until(lambda: "yes" in kiosk.message.buttons, 5, "Ambil nomor baru?")
    pump(3.1)  # the question takes a touch only after 3 s
    tap(kiosk.message.buttons["yes"])
    pump_until(lambda: kiosk.screens.current == "nik", 5, "the NIK keypad")
    type_digits(kiosk.nik, WALKER)
    tap(kiosk.nik.keys["ok"])
    note = wait_note(kiosk, kiosk.nik, "NIK ini sudah mengambil nomor hari ini")
    assert "This NIK has already taken a number today." in note
    assert kiosk.nik.entry.code == ""
    assert kiosk.nik.field.text == "[b]____ ____ ____ ____[/b]"
    assert len(printer.jobs) == 1
    assert issued(office, "A") == 1
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "issue" in logged  # the debug lines were on
    assert WALKER not in logged
    assert WALKER[:12] not in logged


def test_an_impossible_nik_is_refused_on_the_kiosk_and_kept_for_one_fix(
    kiosk: KioskApp, printer: SimPrinter, office: Office
) -> None:
    wrong = WALKER[:8] + "13" + WALKER[10:]  # month 13
    open_nik(kiosk)
    type_digits(kiosk.nik, wrong[:15])
    tap(kiosk.nik.keys["ok"])
    note = wait_note(kiosk, kiosk.nik, "NIK terdiri dari 16 angka")
    assert "A NIK has 16 digits." in note
    type_digits(kiosk.nik, wrong[15])
    tap(kiosk.nik.keys["ok"])
    note = wait_note(kiosk, kiosk.nik, "bulan lahir di NIK (angka ke-9 dan 10) harus 01-12")
    assert "This is not a possible NIK. Check the digits again." in note
    assert issued(office, "A") == 0  # nothing was sent
    for _ in range(7):
        tap(kiosk.nik.keys["delete"])  # back to the month: the digits come into view again
    assert kiosk.nik.field.text == f"[b]{MASK * 4} {MASK}{wrong[5:8]} {wrong[8]}___ ____[/b]"
    tap(kiosk.nik.keys["delete"])
    type_digits(kiosk.nik, WALKER[8:])
    tap(kiosk.nik.keys["ok"])
    wait_done(kiosk)
    assert len(printer.complete_jobs()) == 1
    assert issued(office, "A") == 1


def test_a_service_without_nik_per_day_is_still_one_tap(
    kiosk: KioskApp, printer: SimPrinter
) -> None:
    tap(kiosk.home.service_buttons["C"])
    wait_done(kiosk)
    assert kiosk.message.labels["number"].text == "[b]C001[/b]"
    assert len(printer.complete_jobs()) == 1


def test_a_good_code_asks_the_last_four_digits_and_a_wrong_four_is_refused(
    kiosk: KioskApp, printer: SimPrinter, config: Config, code: str
) -> None:
    reach_last4(kiosk, code)
    assert harness.find_text(kiosk.last4, "4 angka terakhir NIK Anda")
    type_digits(kiosk.last4, "0612")
    tap(kiosk.last4.keys["ok"])
    note = wait_note(kiosk, kiosk.last4, "4 angka terakhir NIK tidak cocok dengan booking ini")
    assert "The last 4 digits of the NIK do not match this booking." in note
    assert kiosk.last4.entry.code == ""  # not kept beyond its command
    assert printer.jobs == []
    type_digits(kiosk.last4, BOOKED[-4:])
    tap(kiosk.last4.keys["ok"])
    wait_done(kiosk)
    assert "Booking 08.00-09.00" in kiosk.message.labels["service"].text
    assert "Jadwal 08.00-09.00" in decode(printer.complete_jobs()[0].data).lines
    assert next(r[6] for r in bookings(config) if r[0] == code) == "redeemed"
    kiosk.go_home()
    assert kiosk.code.entry.code == ""
    assert kiosk.last4.entry.code == ""


def test_the_last_four_keypad_cancel_goes_home_and_forgets_the_code(
    kiosk: KioskApp, code: str
) -> None:
    reach_last4(kiosk, code)
    type_digits(kiosk.last4, "06")
    tap(kiosk.last4.keys["cancel"])
    pump_until(lambda: kiosk.screens.current == "home", 5, "Home")
    assert kiosk.code.entry.code == ""
    assert kiosk.last4.entry.code == ""


@pytest.mark.parametrize("size", KIOSK_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_nik_and_last_four_keypads_cut_no_text(
    kiosk: KioskApp, code: str, size: tuple[int, int]
) -> None:
    problems: list[str] = []
    for where in kiosk_languages_at(kiosk, size):
        open_nik(kiosk)
        type_digits(kiosk.nik, WALKER[:8] + "13" + WALKER[10:])
        problems += cut_text(kiosk.nik, f"{where} NIK, typed")
        tap(kiosk.nik.keys["ok"])
        wait_note(kiosk, kiosk.nik, "01-12")  # the longest refusal
        problems += cut_text(kiosk.nik, f"{where} NIK, impossible")
        tap(kiosk.nik.keys["cancel"])
        pump(0.9)
        reach_last4(kiosk, code)
        type_digits(kiosk.last4, "0612")
        tap(kiosk.last4.keys["ok"])
        wait_note(kiosk, kiosk.last4, "cocok" if kiosk.language == "id" else "match")
        problems += cut_text(kiosk.last4, f"{where} last four, mismatch")
        tap(kiosk.last4.keys["cancel"])
    assert not problems, "\n".join(problems)
