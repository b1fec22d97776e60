"""Ticket printers: the interface, python-escpos drivers, and a simulator with faults."""

from __future__ import annotations

from collections.abc import Callable

from kiosk.printer.base import Printer, PrintError, PrinterStatus
from kiosk.printer.escpos_drivers import (
    file_printer,
    network_printer,
    serial_printer,
    usb_printer,
)
from kiosk.printer.sim import SimPrinter
from kiosk.settings import PrinterSettings

__all__ = ["PrintError", "Printer", "PrinterStatus", "SimPrinter", "open_printer"]


def _sim(s: PrinterSettings) -> SimPrinter:
    return SimPrinter(s.paper_mm, s.sim_output, s.sim_faults, s.sim_slow_s)


DRIVERS: dict[str, Callable[[PrinterSettings], Printer]] = {
    "usb": usb_printer,
    "serial": serial_printer,
    "network": network_printer,
    "file": file_printer,
    "sim": _sim,
}


def open_printer(settings: PrinterSettings) -> Printer:
    """The driver named in [printer] driver (opens the device lazily, at first use)."""
    return DRIVERS[settings.driver](settings)
