"""Real printers through python-escpos: USB, serial, network (port 9100) and file.

python-escpos writes the bytes; the status is read here, because its
`query_status` asks the transport for 16 bytes where a printer answers one,
so on a serial line every query waited the whole timeout. Each DLE EOT query
reads exactly its one byte (see status.py for which classes are asked).

- No answer from a printer that has never answered since the kiosk started
  (many cheap printers do not) is UNKNOWN, never OK, and such a printer is
  not asked again for SILENT_RETRY_S so that each tap does not wait for the
  timeout. A printer that did answer and falls silent is OFFLINE (switched
  off, cable pulled).
- End of file on a network printer is a dead link, not silence: the kiosk
  connects again at once, and if that fails the printer is OFFLINE. The next
  status poll connects again, so a printer that is back is seen in seconds.
- A device that cannot be opened is OFFLINE. A file (e.g. /dev/usb/lp0)
  cannot be read back: its status is always UNKNOWN.

The drivers themselves (usb, serial, network, file) are in kiosk/printer/drivers/;
each imports escpos inside its `open_device`: a kiosk with the simulator, the
doctor, and the tests of the rest, do not need pyusb.
"""

from __future__ import annotations

import logging
import select
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kiosk.printer.base import PrintError, PrinterStatus
from kiosk.printer.status import dle_eot, is_status_byte, read_status

log = logging.getLogger(__name__)

SILENT_RETRY_S = 60.0  # a printer that has never answered DLE EOT is asked again after this
BITS_PER_BYTE = 10  # 8N1 on a serial line: start bit, 8 data bits, stop bit


class LinkClosed(ConnectionError):
    """The printer's end closed the connection (end of file on a read)."""


@dataclass(frozen=True, slots=True)
class Line:
    """How status replies are read on one transport (python-escpos object in, bytes out)."""

    drain: Callable[[Any], None]  # drops bytes left over from a reply that came too late
    read_byte: Callable[[Any, float], bytes]  # one byte, b"" by the timeout; LinkClosed at EOF
    byte_s: float = 0.0  # a serial line: how long one byte takes at its baud rate


class EscposPrinter:
    """One python-escpos printer object behind the kiosk's Printer interface."""

    def __init__(
        self,
        name: str,
        paper_mm: int,
        open_device: Callable[[], Any],
        line: Line | None,
        describe: str,
        timeout_s: float = 3.0,
    ) -> None:
        self.name = name
        self.paper_mm = paper_mm
        self.describe = describe
        self.timeout_s = timeout_s
        self._open_device = open_device
        self._line = line
        self._device: Any = None
        self._lock = threading.Lock()
        self._silent_until = 0.0
        self._answered = False  # has it ever answered DLE EOT (then silence means it is gone)
        self._line_free_at = 0.0  # a serial line is busy with a ticket's bytes until then

    def status(self) -> PrinterStatus:
        with self._lock:
            try:
                device = self._connect()
            except Exception as exc:
                log.warning("printer %s cannot be opened: %s", self.describe, exc)
                return PrinterStatus.OFFLINE
            if self._line is None or time.monotonic() < self._silent_until:
                return PrinterStatus.UNKNOWN
            try:
                status = self._read_status(device)
            except ConnectionError as exc:  # EOF, reset, broken pipe: the link is dead
                log.info("printer %s: %s; connecting again", self.describe, exc)
                self._drop()
                try:
                    status = self._read_status(self._connect())
                except Exception as again:
                    log.warning("printer %s is gone: %s", self.describe, again)
                    self._drop()
                    return PrinterStatus.OFFLINE
            except Exception as exc:
                log.info("printer %s does not answer status queries: %s", self.describe, exc)
                # The handle may be dead (printer switched off and on, replugged):
                # open it afresh next time instead of failing on it for ever.
                self._drop()
                status = PrinterStatus.UNKNOWN
            if status is not PrinterStatus.UNKNOWN:
                self._answered = True
            elif self._answered:
                log.warning("printer %s stopped answering status queries", self.describe)
                return PrinterStatus.OFFLINE
            else:
                self._silent_until = time.monotonic() + SILENT_RETRY_S
            return status

    def print_ticket(self, data: bytes) -> None:
        with self._lock:
            try:
                self._connect()._raw(data)
            except Exception as exc:
                self._drop()
                raise PrintError(f"printer {self.describe}: {exc}", PrinterStatus.OFFLINE) from exc
            if self._line is not None and self._line.byte_s:
                start = max(time.monotonic(), self._line_free_at)
                self._line_free_at = start + len(data) * self._line.byte_s

    def close(self) -> None:
        with self._lock:
            self._drop()

    def _read_status(self, device: Any) -> PrinterStatus:
        return read_status(lambda n: self._ask(device, n))

    def _ask(self, device: Any, n: int) -> int | None:
        """DLE EOT n: the status byte, or None when none (or not a status byte) came in time."""
        assert self._line is not None
        self._line.drain(device)
        device._raw(dle_eot(n))
        # A reply queues behind the ticket bytes still on a slow serial line.
        wait = self.timeout_s + max(0.0, self._line_free_at - time.monotonic())
        reply = self._line.read_byte(device, wait)
        log.debug("printer %s: DLE EOT %d -> %r", self.describe, n, reply)
        if not reply or not is_status_byte(reply[0]):
            return None
        return reply[0]

    def _connect(self) -> Any:
        if self._device is None:
            device = self._open_device()
            device.open()
            self._device = device
        return self._device

    def _drop(self) -> None:
        device, self._device = self._device, None
        self._line_free_at = 0.0
        if device is not None:
            try:
                device.close()
            except Exception as exc:
                log.debug("closing printer %s: %s", self.describe, exc)


# ---- reading one byte on each transport -------------------------------------------------


def _serial_drain(device: Any) -> None:
    device.device.reset_input_buffer()


def _serial_read(device: Any, timeout: float) -> bytes:
    port = device.device
    port.timeout = timeout
    return bytes(port.read(1))  # returns as soon as the byte is in, unlike read(16)


def _socket_drain(device: Any) -> None:
    sock = device.device
    while select.select([sock], [], [], 0)[0]:
        if not sock.recv(64):
            raise LinkClosed("the printer closed the connection")


def _socket_read(device: Any, timeout: float) -> bytes:
    sock = device.device
    sock.settimeout(timeout)
    try:
        reply = sock.recv(1)
    except TimeoutError:
        return b""
    if not reply:
        raise LinkClosed("the printer closed the connection")
    return bytes(reply)


def _usb_drain(_device: Any) -> None:
    pass  # a bulk read returns one packet: nothing is left over to misread


def _usb_read(device: Any, timeout: float) -> bytes:
    import usb.core  # noqa: PLC0415 - pyusb, only for this driver

    try:
        return bytes(device.device.read(device.in_ep, 16, int(timeout * 1000)))[:1]
    except usb.core.USBTimeoutError:
        return b""


# ---- the line of each transport ---------------------------------------------------------

USB_LINE = Line(_usb_drain, _usb_read)
SOCKET_LINE = Line(_socket_drain, _socket_read)


def serial_line(baudrate: int) -> Line:
    """A serial line at `baudrate`: a status reply waits behind the bytes still on the wire."""
    return Line(_serial_drain, _serial_read, BITS_PER_BYTE / baudrate)
