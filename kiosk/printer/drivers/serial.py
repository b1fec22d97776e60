"""`driver = "serial"`: an ESC/POS printer on a serial line (python-escpos Serial, pyserial)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from antrean.backends import Backend, Key, Probe
from antrean.config import Config, ConfigReader
from kiosk.printer.escpos_drivers import EscposPrinter, serial_line
from kiosk.printer.registry import PRINTERS, PrinterSettings, node_check


@dataclass(frozen=True, slots=True)
class SerialSettings:
    device: str
    baudrate: int = 9600


def parse(r: ConfigReader, t: dict[str, Any], where: str, _config: Config) -> SerialSettings:
    """serial_device and serial_baudrate."""
    return SerialSettings(
        device=r.string(t, where, "serial_device"),
        baudrate=r.integer(t, where, "serial_baudrate", default=9600, low=1200, high=921600),
    )


def open_serial(s: PrinterSettings) -> EscposPrinter:
    """The printer, opened at first use."""
    o: SerialSettings = s.options

    def open_device() -> Any:
        from escpos.printer import Serial  # noqa: PLC0415

        return Serial(o.device, baudrate=o.baudrate, timeout=s.timeout_s)

    line = serial_line(o.baudrate)
    return EscposPrinter("serial", s.paper_mm, open_device, line, f"serial {o.device}", s.timeout_s)


def check(s: PrinterSettings, probe: Probe) -> Any:
    """The serial device exists and the service may write it."""
    return node_check(probe, s.options.device)


PRINTERS.register(
    Backend(
        name="serial",
        summary="ESC/POS printer on a serial line",
        keys=(
            Key("serial_device", "str", help="e.g. /dev/ttyUSB0"),
            Key("serial_baudrate", "int", 9600),
        ),
        parse=parse,
        open=open_serial,
        check=check,
    )
)
