"""Ticket bytes, the decoder that reads them back, the simulator's faults, DLE EOT status,
and the real python-escpos drivers against a fake printer on a serial line (a pty) and a
TCP socket, and on a file."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from kiosk.printer import Printer, PrintError, PrinterStatus, open_printer
from kiosk.printer.drivers.network import NetworkSettings
from kiosk.printer.drivers.serial import SerialSettings
from kiosk.printer.drivers.usb import UsbSettings
from kiosk.printer.escpos_decode import decode, render
from kiosk.printer.registry import PrinterSettings
from kiosk.printer.sim import SimPrinter
from kiosk.printer.sim_line import LinePrinter
from kiosk.printer.status import is_status_byte, read_status
from kiosk.ticket import COLUMNS, TicketInfo, printer_test_bytes, ticket_bytes

REPLY = {
    "id": "2026-11-26/B012",
    "code": "B012",
    "service": "B",
    "issued_at": "2026-11-26T02:04:00.000+00:00",
    "ahead": 3,
    "estimated_wait_s": 4000,
    "priority": False,
}


def ticket(zone: str = "Asia/Jakarta", office: str = "Kecamatan Gajahmungkur") -> TicketInfo:
    return TicketInfo.from_reply(REPLY, office, "Pencetakan KTP-el", ZoneInfo(zone))


@pytest.mark.parametrize("paper", [58, 80])
def test_the_ticket_bytes_hold_the_number_the_service_and_the_qr_command(paper: int) -> None:
    data = ticket_bytes(ticket(), paper)
    assert data.startswith(b"\x1b@")  # printer reset first
    assert b"B012" in data
    assert b"Pencetakan KTP-el" in data
    qr = b"\x1d(k\x12\x001P0" + b"2026-11-26/B012"  # GS ( k, store 15 bytes + 3
    assert qr in data
    assert b"\x1d(k\x03\x001Q0" in data  # ...and print it
    assert data.endswith(b"\x1dV\x00")  # full cut
    printed = decode(data)
    assert printed.unknown == []
    assert printed.qr_codes == ["2026-11-26/B012"]
    assert "Kamis, 26 November 2026" in printed.lines
    assert "Pukul 09.04 WIB" in printed.lines
    assert "Di depan Anda: 3 orang" in printed.lines
    assert "Perkiraan tunggu: 1 jam 7 menit" in printed.lines
    assert "Harap menunggu panggilan" in printed.lines
    for element in printed.elements:  # every line fits the paper's columns at its size
        if hasattr(element, "runs"):
            used = sum(len(r.text) * r.width for r in element.runs)
            assert used <= COLUMNS[paper], (paper, element.text)


def test_the_number_is_printed_very_large_and_the_widths_differ() -> None:
    narrow, wide = decode(ticket_bytes(ticket(), 58)), decode(ticket_bytes(ticket(), 80))
    number = next(e for e in wide.elements if getattr(e, "text", "") == "B012")
    assert number.runs[0].height == 8  # type: ignore[union-attr]
    assert number.runs[0].bold  # type: ignore[union-attr]
    assert "-" * 32 in narrow.lines
    assert "-" * 48 in wide.lines
    assert render(ticket_bytes(ticket(), 58), 58).width < render(ticket_bytes(ticket(), 80)).width


@pytest.mark.parametrize(
    ("zone", "abbreviation", "hour"),
    [
        ("Asia/Jakarta", "WIB", "09.04"),
        ("Asia/Makassar", "WITA", "10.04"),
        ("Asia/Jayapura", "WIT", "11.04"),
    ],
)
def test_the_time_is_office_local_with_its_zone(zone: str, abbreviation: str, hour: str) -> None:
    assert f"Pukul {hour} {abbreviation}" in decode(ticket_bytes(ticket(zone))).lines


def test_a_long_office_name_wraps_inside_the_paper() -> None:
    long_name = "Kecamatan Kepulauan Seribu Utara Kabupaten Administrasi"
    printed = decode(ticket_bytes(ticket(office=long_name), 58))
    assert " ".join(printed.lines[:4]).startswith("Kecamatan Kepulauan Seribu")
    assert all(len(line) <= 16 for line in printed.lines[:3])  # double width: 16 columns


def test_the_preview_is_drawn_from_the_bytes(tmp_path: Path) -> None:
    image = render(ticket_bytes(ticket()), 80)
    assert image.width == 576 + 32
    # The big number makes a tall run of dark rows; the QR code, a square of modules.
    dark_rows = sum(
        1
        for y in range(image.height)
        if min(image.crop((0, y, image.width, y + 1)).getdata()) < 128
    )
    assert dark_rows > 300


def test_the_simulator_keeps_the_bytes_and_writes_a_preview(tmp_path: Path) -> None:
    sim = SimPrinter(58, tmp_path)
    data = ticket_bytes(ticket(), 58)
    sim.print_ticket(data)
    job = sim.jobs[0]
    assert job.data == data
    assert job.complete
    assert job.preview is not None
    with Image.open(job.preview) as image:
        assert image.width == 384 + 32
    assert (tmp_path / "ticket-0001.bin").read_bytes() == data


@pytest.mark.parametrize(
    ("fault", "status"),
    [
        ("paper_low", PrinterStatus.PAPER_LOW),
        ("paper_out", PrinterStatus.PAPER_OUT),
        ("cover_open", PrinterStatus.COVER_OPEN),
        ("offline", PrinterStatus.OFFLINE),
    ],
)
def test_the_simulator_reports_its_faults(fault: str, status: PrinterStatus) -> None:
    sim = SimPrinter(80, None, faults=(fault,))
    assert sim.status() is status
    if status.blocks_issuing:
        with pytest.raises(PrintError) as failed:
            sim.print_ticket(b"x\n")
        assert failed.value.status is status
    else:
        sim.print_ticket(b"x\n")  # paper low still prints


def test_the_simulator_fails_half_way_once_then_prints() -> None:
    sim = SimPrinter(80, None, faults=("fail_mid",))
    data = ticket_bytes(ticket())
    with pytest.raises(PrintError):
        sim.print_ticket(data)
    sim.print_ticket(data)
    assert [j.complete for j in sim.jobs] == [False, True]
    assert sim.jobs[0].data == data[: len(data) // 2]
    with pytest.raises(ValueError, match="unknown simulator fault"):
        sim.set_faults(on_fire=True)


# ---- DLE EOT as printers send it ---------------------------------------------------------
# Replies to DLE EOT 1, 2, 3, 4 taken from the ESC/POS reference's bit tables (Epson TM
# series; Bixolon and Citizen agree), written out here rather than computed by the code
# under test. Every byte has bits 1 and 4 on and bits 0 and 7 off.
OK_BYTES = {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12}
STATES: dict[str, dict[int, int]] = {
    "ok": OK_BYTES,
    "near_end": {**OK_BYTES, 4: 0x1E},  # n=4 bits 2-3
    "paper_end": {1: 0x1A, 2: 0x32, 3: 0x12, 4: 0x7E},  # offline; stopped by paper end
    "paper_end_sensor_only": {1: 0x1A, 2: 0x32, 3: 0x12, 4: 0x72},  # no near-end sensor
    "paper_end_no_stop": {**OK_BYTES, 4: 0x7E},  # a printer that stays online
    "cover_open": {1: 0x1A, 2: 0x16, 3: 0x12, 4: 0x12},  # n=2 bit 2
    "cover_open_roll_out": {1: 0x1A, 2: 0x36, 3: 0x12, 4: 0x7E},  # changing the roll
    "cutter_error": {1: 0x1A, 2: 0x52, 3: 0x1A, 4: 0x12},  # n=2 bit 6, n=3 bit 3
    "head_hot": {1: 0x1A, 2: 0x52, 3: 0x52, 4: 0x1E},  # n=3 bit 6 (recoverable)
    "feed_button": {1: 0x1A, 2: 0x1A, 3: 0x12, 4: 0x12},  # offline while FEED is held
    "offline_no_cause": {**OK_BYTES, 1: 0x1A},
}
EXPECTED = {
    "ok": "ok",
    "near_end": "paper_low",
    "paper_end": "paper_out",
    "paper_end_sensor_only": "paper_out",
    "paper_end_no_stop": "paper_out",
    "cover_open": "cover_open",
    "cover_open_roll_out": "cover_open",
    "cutter_error": "offline",
    "head_hot": "offline",
    "feed_button": "ok",
    "offline_no_cause": "offline",
}


def table(state: dict[int, int]) -> Callable[[int], bytes]:
    """A printer's firmware answer: one byte per class it knows, nothing otherwise."""
    return lambda n: bytes((state[n],)) if n in state else b""


@pytest.mark.parametrize("state", sorted(STATES))
def test_the_status_classes_are_read_together_as_printers_report_them(state: str) -> None:
    answers = STATES[state]
    assert read_status(answers.get).value == EXPECTED[state]


def test_no_answer_or_a_byte_that_is_no_status_byte_is_unknown() -> None:
    assert read_status(lambda n: None) is PrinterStatus.UNKNOWN
    assert read_status(lambda n: 0x12 if n == 1 else None) is PrinterStatus.UNKNOWN
    assert not is_status_byte(0xFF)
    assert not is_status_byte(0x00)
    assert all(is_status_byte(b) for state in STATES.values() for b in state.values())


@pytest.mark.parametrize(
    ("fault", "state"),
    [
        ((), "ok"),
        (("paper_low",), "near_end"),
        (("paper_out",), "paper_end"),
        (("cover_open",), "cover_open"),
        (("offline",), "offline_no_cause"),
    ],
)
def test_the_simulator_answers_dle_eot_like_an_epson_clone(
    fault: tuple[str, ...], state: str
) -> None:
    sim = SimPrinter(80, None, faults=fault)
    for n in (1, 2, 3, 4):
        assert sim.realtime_status(n) == bytes((STATES[state][n],)), (fault, n)
    assert sim.status().value == EXPECTED[state]


# ---- the real drivers over a real line ----------------------------------------------------


def open_line_printer(kind: str, fake: LinePrinter, timeout_s: float) -> Printer:
    if kind == "serial":
        fake.on_pty()
        settings = PrinterSettings("serial", timeout_s=timeout_s, options=SerialSettings(fake.path))
    else:
        fake.on_tcp()
        settings = PrinterSettings(
            "network", timeout_s=timeout_s, options=NetworkSettings("127.0.0.1", fake.port)
        )
    return open_printer(settings)


@pytest.mark.parametrize("kind", ["serial", "network"])
@pytest.mark.parametrize("state", ["ok", "near_end", "paper_end", "cover_open", "cutter_error"])
def test_the_drivers_read_each_state_from_a_printer_on_the_line(kind: str, state: str) -> None:
    """Paper end on an Epson-style printer sets the offline bit: it must read `paper_out`."""
    fake = LinePrinter(table(STATES[state]))
    printer = open_line_printer(kind, fake, timeout_s=2.0)
    try:
        started = time.perf_counter()
        assert printer.status().value == EXPECTED[state]
        elapsed = time.perf_counter() - started
    finally:
        printer.close()
        fake.close()
    assert elapsed < 0.3, f"{elapsed:.2f} s: a status read waited for its timeout"
    assert fake.queries[:2] == [1, 4]  # each class asked once, a byte read for each


@pytest.mark.parametrize("kind", ["serial", "network"])
def test_the_driver_prints_the_exact_bytes(kind: str) -> None:
    fake = LinePrinter(table(OK_BYTES))
    printer = open_line_printer(kind, fake, timeout_s=1.0)
    data = ticket_bytes(ticket())
    try:
        printer.print_ticket(data)
        fake.wait_for(data)
    finally:
        printer.close()
        fake.close()
    assert data in bytes(fake.received)


def test_a_status_after_a_ticket_waits_for_the_ticket_bytes_on_a_slow_line() -> None:
    """At 9600 baud the reply queues behind the ticket (0.4 s), four times timeout_s."""
    fake = LinePrinter(table(OK_BYTES), baud=9600).on_pty()
    printer = open_printer(
        PrinterSettings("serial", timeout_s=0.1, options=SerialSettings(fake.path))
    )
    data = ticket_bytes(ticket())
    try:
        assert len(data) * 10 / 9600 > 0.3
        printer.print_ticket(data)
        assert printer.status() is PrinterStatus.OK
        assert data in bytes(fake.received)
    finally:
        printer.close()
        fake.close()


def test_a_serial_printer_that_never_answers_is_unknown_not_ok() -> None:
    fake = LinePrinter(lambda n: b"").on_pty()
    printer = open_printer(
        PrinterSettings("serial", timeout_s=0.2, options=SerialSettings(fake.path))
    )
    try:
        assert printer.status() is PrinterStatus.UNKNOWN
        started = time.perf_counter()
        assert printer.status() is PrinterStatus.UNKNOWN  # and is not asked again for a while
        assert time.perf_counter() - started < 0.1
    finally:
        printer.close()
        fake.close()


def test_a_serial_printer_that_answered_and_falls_silent_is_offline() -> None:
    answers = dict(OK_BYTES)
    fake = LinePrinter(table(answers)).on_pty()
    printer = open_printer(
        PrinterSettings("serial", timeout_s=0.2, options=SerialSettings(fake.path))
    )
    try:
        assert printer.status() is PrinterStatus.OK
        answers.clear()  # switched off: the USB-serial adapter stays, the printer is gone
        assert printer.status() is PrinterStatus.OFFLINE
        answers.update(OK_BYTES)
        assert printer.status() is PrinterStatus.OK  # asked again at once, not a minute later
    finally:
        printer.close()
        fake.close()


def test_a_network_printer_that_closes_the_connection_is_offline_then_ok_when_back() -> None:
    fake = LinePrinter(table(OK_BYTES)).on_tcp()
    printer = open_printer(
        PrinterSettings("network", timeout_s=1.0, options=NetworkSettings("127.0.0.1", fake.port))
    )
    try:
        assert printer.status() is PrinterStatus.OK
        fake.vanish()  # the printer's end closes: the next read is end of file
        started = time.perf_counter()
        assert printer.status() is PrinterStatus.OFFLINE
        assert time.perf_counter() - started < 0.5
        fake.back()
        assert printer.status() is PrinterStatus.OK
        printer.print_ticket(b"\x1b@x\n")
        fake.wait_for(b"\x1b@x\n")
    finally:
        printer.close()
        fake.close()


def test_a_network_printer_that_is_not_there_is_offline() -> None:
    fake = LinePrinter(table(OK_BYTES)).on_tcp()
    port = fake.port
    fake.close()
    dead = open_printer(
        PrinterSettings("network", timeout_s=0.3, options=NetworkSettings("127.0.0.1", port))
    )
    assert dead.status() is PrinterStatus.OFFLINE
    with pytest.raises(PrintError):
        dead.print_ticket(b"\x1b@x\n")


def test_the_file_driver_writes_the_bytes_and_cannot_know_its_status(tmp_path: Path) -> None:
    target = tmp_path / "lp0"
    printer = open_printer(PrinterSettings("file", options=target))
    data = printer_test_bytes("Kecamatan Gajahmungkur", "kiosk-1", ticket().issued_at, 80)
    try:
        assert printer.status() is PrinterStatus.UNKNOWN
        printer.print_ticket(data)
    finally:
        printer.close()
    assert target.read_bytes() == data
    assert "TES PRINTER" in decode(data).lines
    missing = open_printer(PrinterSettings("file", options=tmp_path / "no" / "lp0"))
    assert missing.status() is PrinterStatus.OFFLINE


def test_a_usb_printer_that_is_not_plugged_in_is_offline() -> None:
    pytest.importorskip("usb.core")
    printer = open_printer(PrinterSettings("usb", options=UsbSettings(0x0416, 0x5011)))
    try:
        assert printer.status() is PrinterStatus.OFFLINE
        with pytest.raises(PrintError):
            printer.print_ticket(b"\x1b@x\n")
    finally:
        printer.close()
