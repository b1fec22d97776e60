"""The USB scanner read with evdev (issue 12): a slip's QR scanned at the real kiosk.

The kiosk app in a real Kivy window under Xvfb, a real Mosquitto, the real
queue service and bookings imported by the real `antrean booking import`;
the scanner is the simulator (kiosk/scanner/drivers/sim.py), read through
the same source as a real one and with evdev's own key table; the printed
bytes are decoded back. Without Xvfb: how key events become codes, and
[kiosk.scanner] with its errors and its doctor line.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from antrean.config import Config, ConfigError, load_config, parse_config
from antrean_testing.devbroker import DevBroker
from antrean_tools.doctor import Doctor
from kiosk.app import KioskApp
from kiosk.printer.escpos_decode import decode
from kiosk.printer.sim import SimPrinter
from kiosk.scanner.drivers.sim import SimScanner, open_source
from kiosk.scanner.registry import SCANNERS, doctor_check
from kiosk.scanner.source import STALE_S, CodeReader, ScannerSource, key_names
from kiosk.settings import kiosk_settings
from tests.kiosk.test_booking import codes, printer, status_of, wait_done, wait_note
from tests.service.test_booking import BOOKING
from tests.support import kivy_harness as harness
from tests.support.helpers import FakeClock, example_text
from tests.support.kivy_harness import pump, pump_until

__all__ = ["codes", "printer"]  # fixtures of the booking-code tests, used here as they are
SCANNER = '[kiosk.scanner]\ndriver = "sim"\n\n[printer]\n'


@pytest.fixture
def config(tmp_path: Path, broker: DevBroker) -> Config:
    path = tmp_path / "antrean.toml"
    text = example_text(broker.port, edit={"[kiosk]\n": BOOKING, "[printer]\n": SCANNER})
    path.write_text(text, encoding="utf-8")
    return load_config(path)


@pytest.fixture
def scanner() -> SimScanner:
    return SimScanner()


@pytest.fixture
def kiosk(
    config: Config,
    codes: dict[str, str],
    clock: FakeClock,
    printer: SimPrinter,
    scanner: SimScanner,
) -> Iterator[KioskApp]:
    settings = kiosk_settings(config)
    assert settings.scanner is not None
    source = open_source(settings.scanner, scanner)
    app = KioskApp(config, settings, printer=printer, now=clock, scanner=source)
    harness.start_app(app, (800, 480))
    try:
        pump_until(lambda: app.home.booking_button is not None, 15, "the booking button")
        pump_until(lambda: not app.home.booking_button.disabled, 15, "booking offered")
        pump_until(lambda: source.status == "ok", 5, "the scanner grabbed")
        yield app
    finally:
        harness.stop_app(app)


def test_a_scanned_slip_on_home_prints_its_booked_ticket(
    kiosk: KioskApp, scanner: SimScanner, printer: SimPrinter, config: Config, codes: dict[str, str]
) -> None:
    code = codes["08:00"]
    assert scanner.connection is not None
    assert scanner.connection.grabbed
    scanner.scan(code)
    wait_done(kiosk)
    assert kiosk.message.labels["number"].text == "[b]A001[/b]"
    [job] = printer.complete_jobs()
    printed = decode(job.data)
    assert "BOOKING" in " ".join(printed.lines)
    assert "Jadwal 08.00-09.00" in printed.lines
    assert status_of(config, code) == "redeemed"
    assert kiosk.link.health["scanner"] == "ok"


def test_a_mistyped_scan_says_so_and_issues_nothing(
    kiosk: KioskApp, scanner: SimScanner, printer: SimPrinter, config: Config, codes: dict[str, str]
) -> None:
    code = codes["08:00"]
    wrong = code[:7] + str((int(code[7]) + 1) % 10)
    scanner.scan(wrong, keypad=True)  # a scanner set to type keypad keys
    note = wait_note(kiosk, "salah ketik")
    assert "typing error" in note
    assert kiosk.code.entry.code == wrong  # on screen, to be fixed or scanned again
    pump(0.5)
    assert printer.jobs == []
    assert status_of(config, code) == "booked"
    scanner.scan(code)  # the same slip again, read right: it replaces what is there
    wait_done(kiosk)
    assert len(printer.complete_jobs()) == 1
    assert status_of(config, code) == "redeemed"


def test_junk_and_a_scan_cut_off_by_a_disconnect_issue_nothing_and_the_source_reconnects(
    kiosk: KioskApp, scanner: SimScanner, printer: SimPrinter, config: Config, codes: dict[str, str]
) -> None:
    code = codes["08:00"]
    assert kiosk.scanner is not None
    scanner.junk()  # a QR that is not a slip's: letters among the digits
    pump(0.5)
    assert kiosk.screens.current == "home"
    scanner.partial(code[:5])
    scanner.unplug()  # mid-code
    pump_until(lambda: kiosk.link.health.get("scanner") == "offline", 5, "the scanner offline")
    scanner.plug()
    pump_until(lambda: scanner.opened == 2, 10, "the scanner opened again")
    pump_until(lambda: kiosk.link.health.get("scanner") == "ok", 5, "the scanner back")
    assert kiosk.screens.current == "home"  # the five digits went with the cable
    assert kiosk.code.entry.code == ""
    assert printer.jobs == []
    assert status_of(config, code) == "booked"
    assert scanner.connection is not None
    assert scanner.connection.grabbed
    scanner.scan(code)
    wait_done(kiosk)
    assert len(printer.complete_jobs()) == 1
    assert status_of(config, code) == "redeemed"


# ---- without a window --------------------------------------------------------------------


def feed(reader: CodeReader, keys: list[tuple[str, int]], start: float = 100.0) -> list[str]:
    """Key events (name, value) 5 ms apart; the codes they make."""
    codes = {name: code for code, name in key_names().items()}
    made = []
    for i, (name, value) in enumerate(keys):
        found = reader.feed(1, codes[name], value, start + i * 0.005)
        if found is not None:
            made.append(found)
    return made


def pressed(*names: str) -> list[tuple[str, int]]:
    return [(name, value) for name in names for value in (1, 0)]


def test_top_row_and_keypad_digits_make_one_code_and_modifiers_repeats_ups_count_nothing() -> None:
    reader = CodeReader(key_names())
    keys = [*pressed("KEY_LEFTSHIFT", "KEY_1", "KEY_KP2", "KEY_3"), ("KEY_4", 2)]
    keys += pressed("KEY_KP0", "KEY_9", "KEY_NUMLOCK", "KEY_KPENTER")
    assert feed(reader, keys) == ["12309"]
    assert feed(reader, pressed("KEY_5", "KEY_ENTER")) == ["5"]


def test_a_letter_spoils_the_scan_and_digits_left_without_enter_go_stale() -> None:
    reader = CodeReader(key_names())
    assert feed(reader, pressed("KEY_1", "KEY_H", "KEY_2", "KEY_ENTER")) == []
    assert feed(reader, pressed("KEY_ENTER")) == []  # an Enter alone: nothing
    assert feed(reader, pressed("KEY_7", "KEY_7"), start=200.0) == []
    later = 200.0 + STALE_S + 1
    assert feed(reader, pressed("KEY_1", "KEY_2", "KEY_ENTER"), start=later) == ["12"]


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, f"timed out after {timeout} s waiting for {what}"
        time.sleep(0.01)


def test_a_scanner_not_there_is_offline_and_looked_for_again() -> None:
    sim = SimScanner()
    sim.unplug()
    settings = kiosk_settings(settings_of('driver = "sim"')).scanner
    assert settings is not None
    source = open_source(settings, sim)
    health: list[str] = []
    codes: list[str] = []
    source.start(codes.append, health.append)
    try:
        wait_for(lambda: health == ["offline"], 3, "offline")
        sim.plug()
        wait_for(lambda: health == ["offline", "ok"], 5, "ok once plugged")
        sim.scan("12345678")
        wait_for(lambda: codes == ["12345678"], 3, "the code")
    finally:
        source.stop()


def settings_of(scanner: str) -> Config:
    edit = {"[printer]\n": f"[kiosk.scanner]\n{scanner}\n\n[printer]\n"}
    return parse_config(example_text(edit=edit), source="office.toml")


def line_of(config: Config, text: str) -> int:
    return next(n for n, raw in enumerate(config.text.splitlines(), 1) if text in raw)


@pytest.mark.parametrize(
    ("table", "bad", "message"),
    [
        ('driver = "laser"', "laser", "kiosk.scanner.driver: unknown scanner driver 'laser'; "
         "registered: evdev, sim"),
        ('driver = "evdev"\npth = "/dev/input/event3"', "pth",
         "kiosk.scanner.pth: unknown key for driver 'evdev'"),
        ('driver = "evdev"\npath = "/dev/ttyUSB0"', "ttyUSB0",
         "kiosk.scanner.path: must be an input device under /dev/input/, got '/dev/ttyUSB0'"),
        ('driver = "evdev"\npath = "/dev/input/event3"\nname = "Scanner"', "event3",
         "kiosk.scanner.path: write either path"),
        ('driver = "sim"\nsim_gap_ms = 900', "sim_gap_ms", "kiosk.scanner.sim_gap_ms:"),
    ],
)  # fmt: skip
def test_a_bad_scanner_table_names_its_line_and_key(table: str, bad: str, message: str) -> None:
    config = settings_of(table)
    with pytest.raises(ConfigError) as error:
        kiosk_settings(config)
    assert str(error.value).startswith(f"office.toml:{line_of(config, bad)}: {message}")


def test_the_evdev_driver_reads_a_path_or_a_name_and_the_doctor_fails_a_missing_one(
    tmp_path: Path,
) -> None:
    assert sorted(SCANNERS.backends()) == ["evdev", "sim"]
    by_path = kiosk_settings(settings_of('driver = "evdev"\npath = "/dev/input/by-id/usb-x-kbd"'))
    assert by_path.scanner is not None
    assert (by_path.scanner.driver, by_path.scanner.options.path) == (
        "evdev", "/dev/input/by-id/usb-x-kbd"
    )  # fmt: skip
    by_name = kiosk_settings(settings_of('driver = "evdev"\nname = "Newland NLS-FR40"'))
    assert by_name.scanner is not None
    assert by_name.scanner.options.name == "Newland NLS-FR40"
    doctor = Doctor(config_file=tmp_path / "antrean.toml", role="hub")
    for config in (settings_of('driver = "evdev"\npath = "/dev/input/by-id/usb-x-kbd"'),
                   settings_of('driver = "evdev"\nname = "Newland NLS-FR40"')):  # fmt: skip
        result = doctor_check(config, doctor)
        assert (result.status, result.name) == ("FAIL", "scanner")
        assert "/dev/input/by-id/" in result.fix
    assert doctor_check(parse_config(example_text(), source="office.toml"), doctor) is None


def test_the_real_driver_finds_no_scanner_by_name_here_and_says_so() -> None:
    """No input device on this machine: the evdev driver's source reports offline, not a crash."""
    config = settings_of('driver = "evdev"\nname = "No Such Scanner"')
    settings = kiosk_settings(config).scanner
    assert settings is not None
    source: ScannerSource = SCANNERS.open("evdev", settings)
    health: list[str] = []
    source.start(lambda _code: None, health.append)
    try:
        wait_for(lambda: health == ["offline"], 3, "offline")
    finally:
        source.stop()
