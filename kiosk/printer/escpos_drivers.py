"""Real printers through python-escpos: USB, serial, network (port 9100) and file.

Status comes from the printer itself where the connection can be read back
(USB, serial, network): DLE EOT 1 (online) and DLE EOT 4 (paper sensors).
A printer that does not answer is UNKNOWN, never OK, and is not asked again
for a minute so that each tap does not wait for the timeout. A file (e.g.
/dev/usb/lp0) cannot be read back: its status is always UNKNOWN.

escpos is imported inside the factories: a kiosk with the simulator, and the
tests of the rest, do not need pyusb.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from kiosk.printer.base import PrintError, PrinterStatus
from kiosk.settings import PrinterSettings

log = logging.getLogger(__name__)

DLE_EOT_ONLINE = b"\x10\x04\x01"
DLE_EOT_PAPER = b"\x10\x04\x04"
SILENT_RETRY_S = 60.0  # a printer that never answers DLE EOT is asked again after this


def parse_online(reply: bytes) -> PrinterStatus:
    """DLE EOT 1: bit 3 set means offline; the fixed bits (0x12) check that it is a status byte."""
    if len(reply) < 1 or reply[0] & 0x93 != 0x12:
        return PrinterStatus.UNKNOWN
    return PrinterStatus.OFFLINE if reply[0] & 0x08 else PrinterStatus.OK


def parse_paper(reply: bytes) -> PrinterStatus:
    """DLE EOT 4: bits 5-6 paper end, bits 2-3 near end."""
    if len(reply) < 1 or reply[0] & 0x93 != 0x12:
        return PrinterStatus.UNKNOWN
    if reply[0] & 0x60:
        return PrinterStatus.PAPER_OUT
    if reply[0] & 0x0C:
        return PrinterStatus.PAPER_LOW
    return PrinterStatus.OK


class EscposPrinter:
    """One python-escpos printer object behind the kiosk's Printer interface."""

    def __init__(
        self,
        name: str,
        paper_mm: int,
        open_device: Callable[[], Any],
        readable: bool,
        describe: str,
    ) -> None:
        self.name = name
        self.paper_mm = paper_mm
        self.describe = describe
        self._open_device = open_device
        self._readable = readable
        self._device: Any = None
        self._lock = threading.Lock()
        self._silent_until = 0.0

    def status(self) -> PrinterStatus:
        with self._lock:
            try:
                device = self._connect()
            except Exception as exc:
                log.warning("printer %s cannot be opened: %s", self.describe, exc)
                return PrinterStatus.OFFLINE
            if not self._readable or time.monotonic() < self._silent_until:
                return PrinterStatus.UNKNOWN
            try:
                online = parse_online(bytes(device.query_status(DLE_EOT_ONLINE)))
                if online is PrinterStatus.OFFLINE:
                    return online
                paper = parse_paper(bytes(device.query_status(DLE_EOT_PAPER)))
            except Exception as exc:
                log.info("printer %s does not answer status queries: %s", self.describe, exc)
                # The handle may be dead (printer switched off and on, replugged):
                # open it afresh next time instead of failing on it for ever.
                self._drop()
                online = paper = PrinterStatus.UNKNOWN
            if PrinterStatus.UNKNOWN in (online, paper):
                self._silent_until = time.monotonic() + SILENT_RETRY_S
                return PrinterStatus.UNKNOWN
            return paper

    def print_ticket(self, data: bytes) -> None:
        with self._lock:
            try:
                self._connect()._raw(data)
            except Exception as exc:
                self._drop()
                raise PrintError(f"printer {self.describe}: {exc}", PrinterStatus.OFFLINE) from exc

    def close(self) -> None:
        with self._lock:
            self._drop()

    def _connect(self) -> Any:
        if self._device is None:
            device = self._open_device()
            device.open()
            self._device = device
        return self._device

    def _drop(self) -> None:
        device, self._device = self._device, None
        if device is not None:
            try:
                device.close()
            except Exception as exc:
                log.debug("closing printer %s: %s", self.describe, exc)


def usb_printer(s: PrinterSettings) -> EscposPrinter:
    def open_device() -> Any:
        from escpos.printer import Usb  # noqa: PLC0415 - needs pyusb, only for this driver

        return Usb(
            s.usb_vendor,
            s.usb_product,
            timeout=int(s.timeout_s * 1000),
            in_ep=s.usb_in_ep,
            out_ep=s.usb_out_ep,
        )

    return EscposPrinter(
        "usb", s.paper_mm, open_device, True, f"usb {s.usb_vendor:04x}:{s.usb_product:04x}"
    )


def serial_printer(s: PrinterSettings) -> EscposPrinter:
    def open_device() -> Any:
        from escpos.printer import Serial  # noqa: PLC0415

        return Serial(s.serial_device, baudrate=s.serial_baudrate, timeout=s.timeout_s)

    return EscposPrinter("serial", s.paper_mm, open_device, True, f"serial {s.serial_device}")


def network_printer(s: PrinterSettings) -> EscposPrinter:
    def open_device() -> Any:
        from escpos.printer import Network  # noqa: PLC0415

        return Network(s.host, s.tcp_port, timeout=s.timeout_s)

    return EscposPrinter("network", s.paper_mm, open_device, True, f"network {s.host}:{s.tcp_port}")


def file_printer(s: PrinterSettings) -> EscposPrinter:
    def open_device() -> Any:
        from escpos.printer import File  # noqa: PLC0415

        return File(str(s.file_path))

    return EscposPrinter("file", s.paper_mm, open_device, False, f"file {s.file_path}")
