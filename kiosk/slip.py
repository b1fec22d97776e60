"""One booking slip on the thermal printer: its ESC/POS bytes (built with python-escpos).

The A4 sheet of slips (`antrean booking slips`, antrean_tools/booking_slips.py)
is for the kelurahan; this is the one slip the office prints at the desk for
a resident booked by phone, or one who lost theirs (`antrean booking slip
CODE`). It says what the A4 slip says: office, name, kelurahan, service,
day and slot, the code large in two groups of four, a QR of the code for the
kiosk's scanner, what to bring and where to go. Only ASCII and the printer's
own code page: an en dash becomes a hyphen, as on the ticket.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from kiosk.ticket import COLUMNS, QR_LEVEL_M, QR_MODULE, office_heading

BRING = "Bawa fotokopi Kartu Keluarga."
# "4821 3379" is 9 characters: the largest size that fits the paper's columns
# (32 at 58 mm, 48 at 80 mm), so the code reads from arm's length.
CODE_SIZE = {58: 3, 80: 5}


def where_text(office: str) -> str:
    """Where the slip is used (the A4 slip says the same)."""
    return f"Ketik kode ini di kios antrean {office}."


@dataclass(frozen=True, slots=True)
class SlipInfo:
    """What one slip says, as text."""

    office_name: str
    name: str  # "" once erased (`erase_after_days`)
    kelurahan: str
    service_name: str
    day: str  # "Jumat, 27 November 2026"
    slot: str  # "08.00-09.00"
    code: str  # the 8 digits


# A made-up resident's slip: the docs' picture (kiosk/screenshots.py) and the tests.
SAMPLE = SlipInfo(
    office_name="Kecamatan Gajahmungkur",
    name="Siti Aminah",
    kelurahan="Bendan Ngisor",
    service_name="Perekaman KTP-el",
    day="Jumat, 27 November 2026",
    slot="08.00\u201309.00",
    code="48213379",  # a valid code: its last digit is the Damm check digit
)


def grouped(code: str) -> str:
    """'4821 3379': two groups of four, as a resident reads it out or types it."""
    return f"{code[:4]} {code[4:]}"


def slip_bytes(s: SlipInfo, paper_mm: int = 80) -> bytes:
    """The whole slip, from printer reset to the cut."""
    cols = COLUMNS[paper_mm]
    p = office_heading(s.office_name, cols)
    p.textln("Bukti pendaftaran antrean")
    p.textln("-" * cols)
    p.set(align="center", bold=True, double_height=True)
    for line in textwrap.wrap(s.name or "(nama sudah dihapus)", cols):
        p.textln(line)
    p.set(align="center", bold=False, normal_textsize=True)
    for line in textwrap.wrap(f"Kelurahan {s.kelurahan}", cols):
        p.textln(line)
    for line in textwrap.wrap(s.service_name, cols):
        p.textln(line)
    p.textln(s.day)
    p.set(bold=True)
    p.textln(f"Jadwal {s.slot.replace(chr(0x2013), '-')}")
    p.set(bold=False)
    p.ln()
    p.textln("Kode booking")
    size = CODE_SIZE[paper_mm]
    p.set(align="center", bold=True, custom_size=True, width=size, height=size)
    p.textln(grouped(s.code))
    p.set(align="center", bold=False, normal_textsize=True)
    p.ln()
    p.qr(s.code, ec=QR_LEVEL_M, size=QR_MODULE[paper_mm], native=True)
    p.set(align="center", bold=True)
    p.textln(BRING)
    p.set(bold=False)
    for line in textwrap.wrap(where_text(s.office_name), cols):
        p.textln(line)
    p.cut()
    return bytes(p.output)
