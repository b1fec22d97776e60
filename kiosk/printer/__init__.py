"""Ticket printers: the interface, the registered drivers, and a simulator with faults.

Light on purpose: importing this package loads no escpos, pyusb or PIL (the
drivers load them when a printer is opened).
"""

from __future__ import annotations

from kiosk.printer.base import Printer, PrintError, PrinterStatus
from kiosk.printer.registry import PRINTERS, PrinterSettings, open_printer

__all__ = ["PRINTERS", "PrintError", "Printer", "PrinterSettings", "PrinterStatus", "open_printer"]
