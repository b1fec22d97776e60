"""ESC/POS real-time status (DLE EOT n): the bytes, and how the kiosk reads them together.

Each class answers with one byte; bits 1 and 4 are fixed on and bits 0 and 7
fixed off, which tells a status byte from anything else on the line. The bit
meanings are Epson's (ESC/POS command reference, DLE EOT; Bixolon, Citizen,
HPRT and the clones agree on the bits used here):

- n = 1 printer: bit 3 offline. An Epson-style printer is offline on paper
  end and with the cover open, so this bit alone cannot say which.
- n = 2 offline cause: bit 2 cover open, bit 3 paper being fed with the FEED
  button, bit 5 printing stopped by a paper end, bit 6 an error.
- n = 3 error cause: bit 3 auto-cutter error, bit 5 unrecoverable error,
  bit 6 automatically recoverable error (head too hot).
- n = 4 roll paper sensor: bits 2-3 near end, bits 5-6 roll end.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from kiosk.printer.base import PrinterStatus

log = logging.getLogger(__name__)

PRINTER, OFFLINE_CAUSE, ERROR_CAUSE, PAPER = 1, 2, 3, 4
FIXED_MASK, FIXED_BITS = 0x93, 0x12  # bits 0, 1, 4, 7 and their fixed values

OFFLINE = 0x08  # n = 1
COVER_OPEN, FEED_BUTTON, PAPER_END_STOP, ERROR = 0x04, 0x08, 0x20, 0x40  # n = 2
CUTTER_ERROR, UNRECOVERABLE, AUTO_RECOVERABLE = 0x08, 0x20, 0x40  # n = 3
NEAR_END, ROLL_END = 0x0C, 0x60  # n = 4

# Asks the printer one class; the status byte, or None when no (valid) byte came.
Ask = Callable[[int], int | None]


def dle_eot(n: int) -> bytes:
    """The query of status class n."""
    return bytes((0x10, 0x04, n))


def is_status_byte(value: int) -> bool:
    """A byte with the fixed bits of a DLE EOT reply."""
    return value & FIXED_MASK == FIXED_BITS


def read_status(ask: Ask) -> PrinterStatus:
    """Asks the classes that matter (1 and 4; 2 and 3 only to explain an offline printer).

    An open cover wins over paper end (staff opening it to change the roll
    see "cover open" until it is closed); a printer whose only cause is the
    FEED button being held is not a fault. No answer to 1 or 4 is UNKNOWN.
    """
    printer = ask(PRINTER)
    if printer is None:
        return PrinterStatus.UNKNOWN
    paper = ask(PAPER)
    if paper is None:
        return PrinterStatus.UNKNOWN
    if paper & ROLL_END:
        paper_status = PrinterStatus.PAPER_OUT
    elif paper & NEAR_END:
        paper_status = PrinterStatus.PAPER_LOW
    else:
        paper_status = PrinterStatus.OK
    if not printer & OFFLINE:
        return paper_status
    cause = ask(OFFLINE_CAUSE)
    if cause is None:  # offline for a reason it does not tell
        return PrinterStatus.PAPER_OUT if paper & ROLL_END else PrinterStatus.OFFLINE
    if cause & COVER_OPEN:
        return PrinterStatus.COVER_OPEN
    if cause & PAPER_END_STOP or paper & ROLL_END:
        return PrinterStatus.PAPER_OUT
    if cause & ERROR:
        error = ask(ERROR_CAUSE)
        log.warning("printer error: %s", describe_error(error))
        return PrinterStatus.OFFLINE
    if cause & FEED_BUTTON:
        return paper_status
    return PrinterStatus.OFFLINE


def describe_error(error: int | None) -> str:
    """DLE EOT 3 in words, for the log."""
    if error is None:
        return "no answer to DLE EOT 3"
    names = [
        name
        for bit, name in (
            (CUTTER_ERROR, "auto-cutter error"),
            (UNRECOVERABLE, "unrecoverable error"),
            (AUTO_RECOVERABLE, "recoverable error (head too hot?)"),
        )
        if error & bit
    ]
    return ", ".join(names) or f"unexplained (DLE EOT 3 = {error:#04x})"


def status_bytes(
    *,
    paper_low: bool = False,
    paper_out: bool = False,
    cover_open: bool = False,
    offline: bool = False,
    error: bool = False,
) -> dict[int, int]:
    """What an Epson-style printer answers to DLE EOT 1-4 in the given state (the simulator)."""
    cause = (
        (COVER_OPEN if cover_open else 0)
        | (PAPER_END_STOP if paper_out else 0)
        | (ERROR if error else 0)
    )
    stopped = offline or bool(cause)
    paper = (NEAR_END if paper_low or paper_out else 0) | (ROLL_END if paper_out else 0)
    return {
        PRINTER: FIXED_BITS | (OFFLINE if stopped else 0),
        OFFLINE_CAUSE: FIXED_BITS | cause,
        ERROR_CAUSE: FIXED_BITS | (UNRECOVERABLE if error else 0),
        PAPER: FIXED_BITS | paper,
    }
