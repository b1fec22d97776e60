"""The printer seam: what the kiosk asks of a ticket printer, whatever is behind it."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol


class PrinterStatus(StrEnum):
    """What the printer says about itself (also the `printer` field of the device status)."""

    OK = "ok"
    PAPER_LOW = "paper_low"  # the near-end sensor: still prints, staff should change the roll
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"  # staff opened it (to change the roll) and have not closed it
    OFFLINE = "offline"  # cannot be reached, switched off, or in an error state
    UNKNOWN = "unknown"  # the driver cannot ask (a file, a printer that never answers)

    @property
    def blocks_issuing(self) -> bool:
        """A known problem: a number taken now would not be printed."""
        return self in (PrinterStatus.PAPER_OUT, PrinterStatus.COVER_OPEN, PrinterStatus.OFFLINE)


class PrintError(Exception):
    """A ticket could not be printed (in full); `status` is what the printer said after."""

    def __init__(self, message: str, status: PrinterStatus = PrinterStatus.UNKNOWN) -> None:
        super().__init__(message)
        self.status = status


class Printer(Protocol):
    """A ticket printer. Calls may block (I/O): the kiosk makes them off the UI thread."""

    name: str
    paper_mm: int

    def status(self) -> PrinterStatus:
        """Asks the printer now; never raises (a failure to ask is OFFLINE or UNKNOWN)."""
        ...

    def print_ticket(self, data: bytes) -> None:
        """Sends one whole ticket (ESC/POS bytes); raises PrintError when it did not print."""
        ...

    def close(self) -> None:
        """Releases the device (USB handle, socket, file)."""
        ...
