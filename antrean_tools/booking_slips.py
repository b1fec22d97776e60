"""`antrean booking slips`: the slips a kelurahan hands out, as one printable A4 PDF.

Eight slips a page (two columns, four rows) with dashed cut lines. A slip
says the office, the resident's name and kelurahan, the service, the day and
slot, the code large (in two groups of four, as people read it out), a QR
of the code for the kiosk's scanner, what to bring and where to go.

Pages are drawn with Pillow at 200 dpi and saved as one PDF (Pillow writes
each page as an image, so no font is embedded and it prints alike on any
office printer). The slips are read from the store read-only, so this runs
beside the queue service. The PDF is written beside its final name and
renamed into place: no other file ever holds the names. The web's reprint
of one slip (issue 15) makes it in memory and sends it: no file at all.
"""

from __future__ import annotations

import io
import os
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont

from antrean.config import Config
from antrean.store import StoreReader
from antrean.words import day_text
from kiosk.slip import BRING, grouped, where_text

DPI = 200
PAGE = (1654, 2339)  # A4 at 200 dpi
COLUMNS, ROWS = 2, 4
MARGIN = 60
PAD = 34
FONTS = Path("/usr/share/fonts/truetype/dejavu")  # Debian's fonts-dejavu-core
QR_BOX = 6  # pixels per QR module: 0.76 mm, well within a USB scanner's reach


@dataclass(frozen=True, slots=True)
class Slip:
    code: str
    day: date
    slot: str  # "08.00-09.00" (with an en dash)
    service: str  # the service's name
    name: str
    kelurahan: str


def slips_of(config: Config, day: date, kelurahan: str | None = None) -> list[Slip]:
    """The day's live bookings (not cancelled, redeemed or expired), by kelurahan and name."""
    rows = _rows(
        config,
        "WHERE day = ? AND status = 'booked' AND (? IS NULL OR kelurahan = ?)"
        " ORDER BY kelurahan, name, code",
        (day.isoformat(), kelurahan, kelurahan),
    )
    return [slip for slip, _status in rows]


def slip_by_code(config: Config, code: str) -> tuple[Slip, str] | None:
    """One booking's slip and its status (booked, redeemed, cancelled, expired), or None."""
    rows = _rows(config, "WHERE code = ? ORDER BY day DESC LIMIT 1", (code,))
    return rows[0] if rows else None


def slip_of(config: Config, code: str) -> Slip | None:
    """The slip of one live booking, to print again; None if there is none (any more)."""
    found = slip_by_code(config, code)
    return found[0] if found is not None and found[1] == "booked" else None


def _rows(config: Config, where: str, args: tuple[str | None, ...]) -> list[tuple[Slip, str]]:
    """Slips from the store, read-only (this runs beside the queue service)."""
    reader = StoreReader(config.store_path)
    try:
        # `where` is one of the two constant clauses above, the values are parameters.
        rows = reader.db.execute(
            f"SELECT code, day, slot, service, name, kelurahan, status FROM bookings {where}",  # noqa: S608 - `where` is this module's own text
            args,
        ).fetchall()
    except sqlite3.Error as exc:
        raise RuntimeError(f"cannot read the bookings: {exc}") from exc
    finally:
        reader.close()
    names = {s.code: s.name for s in config.services}
    minutes = config.booking.slot_minutes
    return [
        (Slip(code, date.fromisoformat(d), slot_text(slot, minutes), names.get(svc, svc),
              name or "", kel), status)
        for code, d, slot, svc, name, kel, status in rows
    ]  # fmt: skip


def slot_text(start: str, minutes: int) -> str:
    """'08:00' and 60 -> '08.00-09.00' (en dash), as an Indonesian office writes times."""
    begin = datetime.strptime(start, "%H:%M")
    end = begin + timedelta(minutes=minutes)
    return f"{begin:%H.%M}\u2013{end:%H.%M}"


def qr_image(code: str) -> Image.Image:
    qr = qrcode.QRCode(border=2, box_size=QR_BOX, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(code)
    qr.make(fit=True)
    image: Image.Image = qr.make_image(fill_color="black", back_color="white").get_image()
    return image.convert("L")


def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    path = FONTS / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    if not path.is_file():
        raise RuntimeError(f"{path} is missing: install the Debian package fonts-dejavu-core")
    return ImageFont.truetype(str(path), size)


@dataclass(frozen=True, slots=True)
class Fonts:
    small: ImageFont.FreeTypeFont
    text: ImageFont.FreeTypeFont
    bold: ImageFont.FreeTypeFont
    code: ImageFont.FreeTypeFont

    @classmethod
    def load(cls) -> Fonts:
        return cls(_font(24), _font(30), _font(34, bold=True), _font(72, bold=True))


def slip_box(index: int) -> tuple[int, int, int, int]:
    """The slip's rectangle on its page (left, top, right, bottom)."""
    width = (PAGE[0] - 2 * MARGIN) // COLUMNS
    height = (PAGE[1] - 2 * MARGIN) // ROWS
    col, row = index % COLUMNS, (index // COLUMNS) % ROWS
    left, top = MARGIN + col * width, MARGIN + row * height
    return left, top, left + width, top + height


def code_origin(index: int) -> tuple[int, int]:
    """Where the large code is drawn (its text's anchor, left-top)."""
    left, top, _right, _bottom = slip_box(index)
    return left + PAD, top + PAD + 256


def qr_origin(index: int, qr: Image.Image) -> tuple[int, int]:
    """The QR's place: right of the code, clear of every line of text."""
    _left, top, right, _bottom = slip_box(index)
    return right - PAD - qr.width, top + PAD + 250


Line = tuple[tuple[int, int], str, ImageFont.FreeTypeFont, int]  # where, text, font, grey


def slip_lines(index: int, slip: Slip, office: str, fonts: Fonts) -> list[Line]:
    """Every line of text of a slip, where it goes (the code included)."""
    left, top, _right, bottom = slip_box(index)
    x, y = left + PAD, top + PAD
    return [
        ((x, y), office, fonts.bold, 0),
        ((x, y + 44), "Bukti pendaftaran antrean \u00b7 Booking slip", fonts.small, 70),
        ((x, y + 84), slip.name or "(nama sudah dihapus)", fonts.bold, 0),
        ((x, y + 128), f"Kelurahan {slip.kelurahan}", fonts.text, 0),
        ((x, y + 168), slip.service, fonts.text, 0),
        ((x, y + 208), f"{day_text(slip.day)} \u00b7 {slip.slot}", fonts.text, 0),
        (code_origin(index), grouped(slip.code), fonts.code, 0),
        ((x, bottom - PAD - 92), BRING, fonts.text, 0),
        ((x, bottom - PAD - 46), where_text(office), fonts.small, 40),
    ]


def draw_slip(page: Image.Image, index: int, slip: Slip, office: str, fonts: Fonts) -> None:
    # The QR first: a line of text that ran into it would change its pixels,
    # which is what the slips' test compares.
    qr = qr_image(slip.code)
    page.paste(qr, qr_origin(index, qr))
    d = ImageDraw.Draw(page)
    for xy, text, font, grey in slip_lines(index, slip, office, fonts):
        d.text(xy, text, font=font, fill=grey)
    _cut_lines(d, *slip_box(index))


def _cut_lines(d: ImageDraw.ImageDraw, left: int, top: int, right: int, bottom: int) -> None:
    """Dashed lines on the slip's edges: where the scissors go."""
    for a, b in (((left, top), (right, top)), ((left, bottom), (right, bottom))):
        for xs in range(a[0], b[0], 24):
            d.line([(xs, a[1]), (min(xs + 12, b[0]), a[1])], fill=150, width=2)
    for xv in (left, right):
        for ys in range(top, bottom, 24):
            d.line([(xv, ys), (xv, min(ys + 12, bottom))], fill=150, width=2)


def pages(slips: list[Slip], office: str) -> list[Image.Image]:
    """The pages, eight slips each."""
    fonts = Fonts.load()
    per_page = COLUMNS * ROWS
    out = []
    for start in range(0, len(slips), per_page):
        page = Image.new("L", PAGE, 255)
        for i, slip in enumerate(slips[start : start + per_page]):
            draw_slip(page, i, slip, office, fonts)
        out.append(page)
    return out


def pdf_bytes(images: list[Image.Image]) -> bytes:
    """The pages as one PDF, in memory."""
    out = io.BytesIO()
    first, *rest = images
    first.save(out, "PDF", save_all=True, append_images=rest, resolution=DPI)
    return out.getvalue()


def write_pdf(images: list[Image.Image], path: Path) -> None:
    """One PDF, written beside `path` and renamed into place (a half-written file never shows)."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        first, *rest = images
        first.save(partial, "PDF", save_all=True, append_images=rest, resolution=DPI)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
