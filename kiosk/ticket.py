"""The printed ticket: what is on it, and its ESC/POS bytes (built with python-escpos)."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from kiosk import words

if TYPE_CHECKING:
    from escpos.printer import Dummy

# Font A character columns across the paper (12-dot cells on 384 and 576 dots).
COLUMNS = {58: 32, 80: 48}
# The ticket number's size multiplier: 5 characters (A1000) still fit the width.
NUMBER_SIZE = {58: 6, 80: 8}
QR_MODULE = {58: 5, 80: 6}
QR_LEVEL_M = 1  # escpos.constants.QR_ECLEVEL_M: recovers 15% of a smudged code


def escpos_buffer() -> Dummy:
    """python-escpos's in-memory printer. Imported here, not at the top: loading its
    printer capabilities takes about 0.3 s, which the kiosk spends after its first frame."""
    from escpos.printer import Dummy  # noqa: PLC0415

    return Dummy()


@dataclass(frozen=True, slots=True)
class TicketInfo:
    """What a resident's ticket says."""

    office_name: str
    service_code: str
    service_name: str
    code: str  # "A012"
    ticket_id: str  # "2026-11-27/A012", in the QR code when there is no phone page
    issued_at: datetime  # office-local, aware
    ahead: int
    estimated_wait_s: int | None  # None: no counter serving the service is open yet
    priority: bool = False
    booking_slot: str = ""  # "08.00-09.00" for a ticket of a booking code, else ""
    phone_url: str = ""  # the ticket's phone page ("http://hub:8080/t/TOKEN"), else ""

    @property
    def qr_text(self) -> str:
        """What the QR code holds: the phone page, or (with no web configured) the ticket id."""
        return self.phone_url or self.ticket_id

    @classmethod
    def from_reply(
        cls,
        ticket: dict[str, Any],
        office_name: str,
        service_name: str,
        zone: ZoneInfo,
        booking: dict[str, Any] | None = None,
        token: str = "",
        phone_base: str = "",
    ) -> TicketInfo:
        """From the `ticket` of an `issue` or `redeem` reply (and the latter's `booking`).

        `token` is the reply's phone-page token and `phone_base` the kiosk's
        `{public_url}/t/`; with either missing the QR holds the ticket id.
        """
        issued = datetime.fromisoformat(str(ticket["issued_at"])).astimezone(zone)
        return cls(
            office_name=office_name,
            service_code=str(ticket["service"]),
            service_name=service_name,
            code=str(ticket["code"]),
            ticket_id=str(ticket["id"]),
            issued_at=issued,
            ahead=int(ticket.get("ahead") or 0),
            estimated_wait_s=words.wait_estimate(ticket),
            priority=bool(ticket.get("priority")),
            booking_slot=str((booking or {}).get("slot") or ""),
            phone_url=f"{phone_base}{token}" if token and phone_base else "",
        )


def office_heading(office_name: str, cols: int) -> Dummy:
    """A new print job: printer reset, the office's name large and centred, then normal text."""
    p = escpos_buffer()
    p.hw("INIT")
    p.set(align="center", bold=True, double_width=True, double_height=True)
    for line in textwrap.wrap(office_name, cols // 2):
        p.textln(line)
    p.set(align="center", bold=False, normal_textsize=True)
    return p


def ticket_bytes(t: TicketInfo, paper_mm: int = 80) -> bytes:
    """The whole ticket, from printer reset to the cut."""
    cols = COLUMNS[paper_mm]
    p = office_heading(t.office_name, cols)
    p.textln("-" * cols)
    p.set(align="center", bold=True, double_height=True)
    for line in textwrap.wrap(t.service_name, cols):
        p.textln(line)
    if t.booking_slot or t.priority:  # marked so the counter sees it
        p.set(align="center", bold=True, invert=True, double_width=True, double_height=True)
        p.textln(" BOOKING " if t.booking_slot else " PRIORITAS ")
        p.set(invert=False)
    if t.booking_slot:
        p.set(normal_textsize=True, bold=True)
        p.textln(f"Jadwal {t.booking_slot}")
    p.set(normal_textsize=True, bold=False)
    p.textln("Nomor antrean")
    size = NUMBER_SIZE[paper_mm]
    p.set(align="center", bold=True, custom_size=True, width=size, height=size)
    p.textln(t.code)
    p.set(align="center", bold=False, normal_textsize=True)
    p.ln()
    p.textln(words.long_date("id", t.issued_at))
    p.textln(f"Pukul {words.clock_time(t.issued_at)}")
    p.ln()
    p.textln(f"Di depan Anda: {t.ahead} orang")
    if t.estimated_wait_s is None:  # an estimate would be a guess: say what is true
        p.textln(words.text("id", "no_counter").capitalize())
    else:
        p.textln(f"Perkiraan tunggu: {words.duration('id', t.estimated_wait_s)}")
    p.ln()
    p.qr(t.qr_text, ec=QR_LEVEL_M, size=QR_MODULE[paper_mm], native=True)
    p.set(align="center", bold=True)
    p.textln("Harap menunggu panggilan")
    p.set(bold=False)
    p.cut()
    return bytes(p.output)


def printer_test_bytes(
    office_name: str, device_id: str, now: datetime, paper_mm: int = 80
) -> bytes:
    """The staff menu's test print: the widths, sizes and a QR code, no number."""
    cols = COLUMNS[paper_mm]
    p = escpos_buffer()
    p.hw("INIT")
    p.set(align="center", bold=True, double_height=True, double_width=True)
    p.textln("TES PRINTER")
    p.set(align="center", bold=False, normal_textsize=True)
    for line in textwrap.wrap(office_name, cols):
        p.textln(line)
    p.textln(f"{device_id}  {paper_mm} mm  {cols} kolom")
    p.textln(f"{words.long_date('id', now)} {words.clock_time(now)}")
    p.set(align="left")
    p.textln("".join(str(i % 10) for i in range(1, cols + 1)))
    p.set(align="center")
    p.qr(f"antrean-test/{device_id}", ec=QR_LEVEL_M, size=QR_MODULE[paper_mm], native=True)
    p.textln("Bukan nomor antrean")
    p.cut()
    return bytes(p.output)
