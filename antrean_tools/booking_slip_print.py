"""`antrean booking slip CODE`: one booking slip on the office's ESC/POS printer.

For a resident booked by phone, or one who lost the slip the kelurahan gave
out. The booking is read from the store read-only (as `booking slips` does),
so this runs beside the queue service; the slip goes to the printer of the
office's [printer] section, or with `--printer sim:DIR` to the simulator
(its bytes and a PNG preview in DIR). A printer that is out of paper, open
or offline prints nothing and says so; so does a booking that is no longer
live (redeemed, cancelled, expired).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from antrean.booking import CODE_DIGITS
from antrean.config import CONFIG_HELP, Config
from antrean.words import day_text
from kiosk.printer import Printer, PrintError, PrinterStatus, open_printer
from kiosk.printer.registry import printer_settings
from kiosk.slip import SlipInfo, slip_bytes

# What the printer's trouble is, in the words staff act on (Indonesian, then English).
TROUBLE = {
    PrinterStatus.PAPER_OUT: "kertas printer habis / the printer is out of paper",
    PrinterStatus.COVER_OPEN: "tutup printer terbuka / the printer's cover is open",
    PrinterStatus.OFFLINE: "printer tidak tersambung / the printer is offline",
}
NOT_LIVE = {
    "redeemed": "sudah dipakai / already used",
    "cancelled": "sudah dibatalkan / cancelled",
    "expired": "sudah lewat waktunya / expired",
}


def add_arguments(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    slip = sub.add_parser("slip", help="print one booking slip on the ESC/POS printer")
    slip.add_argument("code", help="the 8-digit booking code")
    slip.add_argument("--config", help=CONFIG_HELP)
    slip.add_argument(
        "--printer",
        default="config",
        help="'config' (the [printer] section, default) or sim:DIR (the simulator, into DIR)",
    )


def run(config: Config, args: argparse.Namespace) -> int:
    """Prints the slip; 0 when it printed, 1 when the booking or the printer says no."""
    from antrean_tools import booking_slips  # noqa: PLC0415 - Pillow and qrcode only here

    code = str(args.code).replace(" ", "")
    if len(code) != CODE_DIGITS or not code.isdigit():
        return _fail(f"{args.code!r}: kode booking terdiri dari 8 angka / a code is 8 digits", 2)
    try:
        found = booking_slips.slip_by_code(config, code)
        printer = _printer(config, args.printer)
    except (ValueError, OSError, RuntimeError) as exc:
        return _fail(str(exc), 2)
    if found is None:
        return _fail(f"kode {code} tidak ada / no booking has code {code}", 1)
    slip, status = found
    if status != "booked":
        return _fail(f"booking {code} {NOT_LIVE.get(status, status)}: no slip printed", 1)
    info = SlipInfo(
        office_name=config.office.name,
        name=slip.name,
        kelurahan=slip.kelurahan,
        service_name=slip.service,
        day=day_text(slip.day),
        slot=slip.slot,
        code=slip.code,
    )
    try:
        return _print(printer, slip_bytes(info, printer.paper_mm), code)
    finally:
        printer.close()


def _printer(config: Config, chosen: str) -> Printer:
    settings = printer_settings(config)
    if chosen.startswith("sim:"):
        from kiosk.printer.drivers.sim import SimSettings  # noqa: PLC0415

        sim = SimSettings(output=Path(chosen.removeprefix("sim:")))
        settings = replace(settings, driver="sim", options=sim)
    elif chosen != "config":
        raise ValueError(f"--printer {chosen!r}: use 'config' or sim:DIR")
    return open_printer(settings)


def _print(printer: Printer, data: bytes, code: str) -> int:
    status = printer.status()
    if status.blocks_issuing:  # asked first: a slip half-printed is worse than none
        return _fail(f"{TROUBLE[status]}: slip {code} not printed", 1)
    try:
        printer.print_ticket(data)
    except PrintError as exc:
        trouble = TROUBLE.get(exc.status, f"printer error / {exc}")
        return _fail(f"{trouble}: slip {code} not printed in full; print it again", 1)
    print(f"slip {code} printed ({printer.name}, {printer.paper_mm} mm)")  # noqa: T201
    return 0


def _fail(message: str, status: int) -> int:
    print(f"antrean booking slip: {message}", file=sys.stderr)  # noqa: T201 - the command's output
    return status
