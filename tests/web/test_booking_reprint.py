"""A booking's slip printed again from /admin/booking: a one-slip PDF, for petugas only.

Headless Chromium finds a booking made through the real queue service and
clicks "Cetak ulang slip"; the download is a PDF whose page shows that
booking's code and QR where `antrean booking slips` draws them. The slip is
made in memory: no file but the store (and the download itself) holds the
resident's name. Other roles and other sessions get no PDF.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from PIL import Image, ImageChops, ImageDraw, ImageStat

from antrean_tools import booking_slips
from tests.support.broker_world import wait_for
from tests.support.chromium import go
from tests.web.conftest import PASSWORD
from tests.web.http_client import Client
from tests.web.test_admin_desk import click, nik
from tests.web.test_pages import log_in

NAME = "Siti Aminah Reprint"


def book(office: Any, serial: int, name: str = NAME) -> str:
    first = {"name": name, "kelurahan": "Bendan", "service": "A", "day": "2026-11-27"}
    return str(office.ok("admin", "book", nik=nik(serial), **first)["booking"]["code"])


def page_of(pdf: bytes) -> Image.Image:
    """The one page of a Pillow-written PDF: its image (a JPEG stream)."""
    assert pdf.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type /Page\b", pdf)) == 1
    start = pdf.index(b"stream\n", pdf.index(b"/DCTDecode")) + len(b"stream\n")
    return Image.open(io.BytesIO(pdf[start : pdf.index(b"\nendstream", start)])).convert("L")


def unlike(page: Image.Image, drawn: Image.Image, at: tuple[int, int]) -> float:
    """Mean grey difference between the page and `drawn` placed at `at` (0: the same)."""
    region = page.crop((at[0], at[1], at[0] + drawn.width, at[1] + drawn.height))
    return float(ImageStat.Stat(ImageChops.difference(region, drawn)).mean[0])


def code_alone(code: str) -> tuple[Image.Image, tuple[int, int]]:
    """The slip's large code drawn alone, cropped to its ink, and where it sits."""
    alone = Image.new("L", booking_slips.PAGE, 255)
    ImageDraw.Draw(alone).text(
        booking_slips.code_origin(0), booking_slips.grouped(code),
        font=booking_slips.Fonts.load().code, fill=0,
    )  # fmt: skip
    box = alone.point(lambda v: 255 if v < 255 else 0).getbbox()
    assert box is not None
    return alone.crop(box), (box[0], box[1])


def test_a_found_booking_is_printed_again_as_a_one_slip_pdf(desk_office, chromium, tmp_path):
    office, web = desk_office
    code, other = book(office, 801), book(office, 802, "Budi Lain")
    driver = chromium
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    log_in(driver, web.url, "sri")
    go(driver, f"{web.url}/admin/booking?kode={code}")
    click(driver, "#reprint-form button")
    pdf_path = downloads / f"booking-{code}.pdf"
    wait_for(pdf_path.is_file, 15, lambda: f"{pdf_path.name} in {list(downloads.iterdir())}")
    page = page_of(pdf_path.read_bytes())
    assert page.size == booking_slips.PAGE  # A4, the slip where the day's slips start

    # The page shows this booking's code and QR, not another's. The page is a JPEG in
    # the PDF: measured here the right code differs by 1.7 grey levels, another by 71
    # (its QR: 1.7 and 46).
    drawn, at = code_alone(code)
    wrong, _ = code_alone(other)
    assert unlike(page, drawn, at) < 6
    assert unlike(page, wrong, at) > 20
    qr = booking_slips.qr_image(code)
    qr_at = booking_slips.qr_origin(0, qr)
    qr_other = booking_slips.qr_image(other)
    assert unlike(page, qr, qr_at) < 6
    assert unlike(page, qr_other, qr_at) > 20

    rows = web.users.audit_rows()
    assert (rows[0][1], rows[0][2], rows[0][3], rows[0][5]) == (
        "sri",
        "booking_reprint",
        code,
        "ok",
    )
    # No file but the store and the download holds the name: nothing spooled or cached.
    store = Path(web.config.store_path)
    for path in tmp_path.rglob("*"):
        if path.is_file() and path != pdf_path and not path.name.startswith(store.name):
            assert NAME.encode() not in path.read_bytes(), path


def test_the_slip_only_for_petugas_and_only_for_a_live_booking(desk_office):
    office, web = desk_office
    code = book(office, 811)
    anonymous = Client(web.url)
    form = {"csrf": anonymous.csrf(), "code": code}
    assert anonymous.post("/admin/booking-slip", form)[0] == 401
    head = Client(web.url)
    assert head.login("budi", PASSWORD) == 303  # kepala: reports, not admin
    status, _h, _b = head.post("/admin/booking-slip", {"csrf": head.csrf("/dasbor"), "code": code})
    assert status == 403
    assert not head.raw.startswith(b"%PDF")
    staff = Client(web.url)
    assert staff.login("sri", PASSWORD) == 303
    assert staff.post("/admin/booking-slip", {"csrf": "x" * 20, "code": code})[0] == 403
    csrf = staff.csrf("/admin/booking")
    status, headers, _b = staff.post("/admin/booking-slip", {"csrf": csrf, "code": code})
    assert (status, headers["content-type"]) == (200, "application/pdf")
    assert headers["cache-control"] == "no-store"
    assert page_of(staff.raw).size == booking_slips.PAGE
    # A cancelled booking gets no slip: the page says why.
    office.ok("admin", "cancel_booking", code=code)
    status, headers, _b = staff.post("/admin/booking-slip", {"csrf": csrf, "code": code})
    assert (status, headers["location"]) == (303, f"/admin/booking?kode={code}")
    assert "tidak berlaku lagi" in staff.get(headers["location"])[2]
    outcomes = [(r[1], r[2], r[5][:7]) for r in web.users.audit_rows()]
    assert outcomes == [("sri", "booking_reprint", "refused"), ("sri", "booking_reprint", "ok")]
