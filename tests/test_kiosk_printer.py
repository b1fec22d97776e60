"""Ticket bytes, the decoder that reads them back, the simulator's faults, and the real
python-escpos drivers on a serial line (a pty), a TCP socket and a file."""

from __future__ import annotations

import os
import socket
import threading
import tty
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from kiosk.printer import PrintError, PrinterStatus, open_printer
from kiosk.printer.escpos_decode import decode, render
from kiosk.printer.escpos_drivers import parse_online, parse_paper
from kiosk.printer.sim import SimPrinter
from kiosk.settings import PrinterSettings
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


def test_the_status_bytes_of_dle_eot_are_read_as_escpos_defines_them() -> None:
    assert parse_online(b"\x12") is PrinterStatus.OK
    assert parse_online(b"\x1a") is PrinterStatus.OFFLINE
    assert parse_paper(b"\x12") is PrinterStatus.OK
    assert parse_paper(b"\x1e") is PrinterStatus.PAPER_LOW
    assert parse_paper(b"\x72") is PrinterStatus.PAPER_OUT
    assert parse_paper(b"") is PrinterStatus.UNKNOWN  # no answer is not "fine"
    assert parse_paper(b"\xff") is PrinterStatus.UNKNOWN  # not a status byte


# ---- the real drivers -------------------------------------------------------------------


class FakeSerialPrinter:
    """The other end of a pty: keeps what it receives, answers DLE EOT like a printer."""

    def __init__(self, paper_byte: bytes | None) -> None:
        self.master, slave = os.openpty()
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        self._slave = slave
        self.paper_byte = paper_byte
        self.received = bytearray()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                chunk = os.read(self.master, 1024)
            except OSError:
                return
            self.received += chunk
            if self.paper_byte is None:
                continue
            if chunk.endswith(b"\x10\x04\x01"):
                os.write(self.master, b"\x12")
            elif chunk.endswith(b"\x10\x04\x04"):
                os.write(self.master, self.paper_byte)

    def close(self) -> None:
        self._stop.set()
        os.close(self.master)
        os.close(self._slave)


@pytest.fixture
def serial_printer() -> Iterator[FakeSerialPrinter]:
    fake = FakeSerialPrinter(b"\x1e")
    yield fake
    fake.close()


def test_the_serial_driver_prints_the_exact_bytes_and_reads_paper_low(
    serial_printer: FakeSerialPrinter,
) -> None:
    printer = open_printer(
        PrinterSettings(driver="serial", serial_device=serial_printer.path, timeout_s=0.5)
    )
    try:
        assert printer.status() is PrinterStatus.PAPER_LOW
        data = ticket_bytes(ticket())
        printer.print_ticket(data)
        deadline = threading.Event()
        for _ in range(100):
            if data in bytes(serial_printer.received):
                break
            deadline.wait(0.02)
        assert data in bytes(serial_printer.received)
    finally:
        printer.close()


def test_a_serial_printer_that_never_answers_is_unknown_not_ok() -> None:
    silent = FakeSerialPrinter(None)
    printer = open_printer(
        PrinterSettings(driver="serial", serial_device=silent.path, timeout_s=0.2)
    )
    try:
        assert printer.status() is PrinterStatus.UNKNOWN
        assert printer.status() is PrinterStatus.UNKNOWN  # and is not asked again for a while
    finally:
        printer.close()
        silent.close()


def test_the_network_driver_talks_port_9100_and_reports_a_dead_printer_offline() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    received = bytearray()

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            while chunk := conn.recv(4096):
                received.extend(chunk)
                if chunk.endswith(b"\x10\x04\x01") or chunk.endswith(b"\x10\x04\x04"):
                    conn.sendall(b"\x12")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    printer = open_printer(
        PrinterSettings(driver="network", host="127.0.0.1", tcp_port=port, timeout_s=1.0)
    )
    data = ticket_bytes(ticket())
    try:
        assert printer.status() is PrinterStatus.OK
        printer.print_ticket(data)
    finally:
        printer.close()
        thread.join(5)
        server.close()
    assert data in bytes(received)
    dead = open_printer(
        PrinterSettings(driver="network", host="127.0.0.1", tcp_port=port, timeout_s=0.3)
    )
    assert dead.status() is PrinterStatus.OFFLINE
    with pytest.raises(PrintError):
        dead.print_ticket(data)


def test_the_file_driver_writes_the_bytes_and_cannot_know_its_status(tmp_path: Path) -> None:
    target = tmp_path / "lp0"
    printer = open_printer(PrinterSettings(driver="file", file_path=target))
    data = printer_test_bytes("Kecamatan Gajahmungkur", "kiosk-1", ticket().issued_at, 80)
    try:
        assert printer.status() is PrinterStatus.UNKNOWN
        printer.print_ticket(data)
    finally:
        printer.close()
    assert target.read_bytes() == data
    assert "TES PRINTER" in decode(data).lines
    missing = open_printer(PrinterSettings(driver="file", file_path=tmp_path / "no" / "lp0"))
    assert missing.status() is PrinterStatus.OFFLINE


def test_a_usb_printer_that_is_not_plugged_in_is_offline() -> None:
    pytest.importorskip("usb.core")
    printer = open_printer(PrinterSettings(driver="usb", usb_vendor=0x0416, usb_product=0x5011))
    try:
        assert printer.status() is PrinterStatus.OFFLINE
        with pytest.raises(PrintError):
            printer.print_ticket(b"\x1b@x\n")
    finally:
        printer.close()
