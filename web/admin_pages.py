"""The admin pages (petugas): office, blank cards, bookings, visits; every form posts here.

Each form is checked by its builder in web/admin.py; a wrong form says why
and sends nothing. A right one is sent as the web device's command for the
logged-in user, audited, and the page says how it went.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartParser
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from antrean.booking import clean_nik, masked
from antrean.visits import KIND_LABEL
from antrean.words import day_text
from web import admin, auth, desk
from web.auth import Handler, Refused

if TYPE_CHECKING:
    from collections.abc import Callable

    from web.app import WebApp

# An upload up to the limit stays in memory: a booking list holds full NIKs,
# which must not reach the hub's disk (Starlette spools 1 MB and more to /tmp).
MultiPartParser.spool_max_size = desk.MAX_UPLOAD + 1

NO_STORE = "no-store"  # a page or slip with a resident's name: kept in no browser cache
# form kind -> its checker and the page it came from
FORMS: dict[str, tuple[admin.Builder, str]] = {
    "layanan": (admin.service_command, "/admin"),
    "loket": (admin.counter_command, "/admin"),
    "teks": (admin.running_text_command, "/admin"),
    "blanko": (admin.delivery_command, "/admin/stok"),
    "rusak": (admin.spoil_command, "/admin/stok"),
    "koreksi": (admin.adjust_command, "/admin/stok"),
    "booking-batal": (admin.booking_cancel_command, "/admin/booking"),
    "kunjungan": (admin.visit_command, "/admin/kunjungan"),
    "kunjungan-batal": (admin.visit_cancel_command, "/admin/kunjungan"),
}


PHONE_FIELDS = ("name", "phone", "kelurahan", "service", "day")


@dataclass(frozen=True, slots=True)
class PhoneCall:
    """The phone form as the page shows it again: its fields but the NIK, which is only hinted."""

    form: dict[str, str]
    nik_hint: str = ""  # "NIK ****1234": a refused form never echoes the full NIK
    booked: desk.Booked | None = None


def _day_text(iso: str) -> str:
    """A booking's day as residents read it ("Jumat, 27 November 2026")."""
    return day_text(date.fromisoformat(iso))


class AdminPages:
    """The admin pages of one office, rendered by the WebApp."""

    def __init__(self, web: WebApp) -> None:
        self.web = web

    def routes(self, guard: Callable[[Handler], Handler]) -> list[Route]:
        return [
            Route("/admin", guard(self.office_page)),
            Route("/admin/stok", guard(self.stock_page)),
            Route("/admin/booking", guard(self.booking_page)),
            Route("/admin/kunjungan", guard(self.visits_page)),
            Route("/admin/unit/{unit}", guard(self.unit_page)),
            Route("/admin/booking-impor", guard(self.booking_import), methods=["POST"]),
            Route("/admin/booking-slip", guard(self.booking_reprint), methods=["POST"]),
            Route("/admin/booking-telepon", guard(self.booking_by_phone), methods=["POST"]),
            Route("/admin/{kind}", guard(self.post), methods=["POST"]),
        ]

    async def office_page(self, request: Request) -> Response:
        dash = self.web.dashboard_view()
        audit = self.web.users.audit_rows(20)
        return self.web.render(request, "admin.html", dash=dash, tab="kantor", audit=audit)

    async def stock_page(self, request: Request) -> Response:
        dash = self.web.dashboard_view()
        return self.web.render(request, "admin_stock.html", dash=dash, tab="stok")

    async def booking_page(self, request: Request, report: desk.ImportReport | None = None,
                           error: str | None = None, status: int = 200,
                           call: PhoneCall | None = None) -> Response:  # fmt: skip
        booking, wanted = None, request.query_params.get("kode", "")
        if wanted and error is None:
            try:
                code = admin.booking_code(wanted)
                booking = await run_in_threadpool(desk.find_booking, self.web.live, code)
            except (admin.FormError, desk.DeskError) as err:
                error, status = str(err), 400
        page = self.web.render(
            request, "admin_booking.html", status, tab="booking", booking=booking,
            wanted=wanted, report=report, error=error, services=self.web.config.services,
            call=call or PhoneCall({}), bookable=self._bookable(), day_text=_day_text,
        )  # fmt: skip
        page.headers["cache-control"] = NO_STORE  # names: not in the office PC's browser cache
        return page

    async def booking_import(self, request: Request) -> Response:
        form = await request.form(max_files=1, max_fields=10)
        await auth.checked_form(request)  # the same CSRF check (the form is cached)
        upload = form.get("list")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return await self.booking_page(
                request, error="Pilih berkas CSV daftar warga.", status=400
            )
        data = await upload.read(desk.MAX_UPLOAD + 1)
        user, name = request.state.user, upload.filename
        try:
            report = await run_in_threadpool(
                desk.import_bookings, self.web.config, self.web.live, name, data, user.name
            )
        except desk.DeskError as err:
            self.web.users.audit(user.name, "booking_import", name, "", f"refused: {err}")
            return await self.booking_page(request, error=str(err), status=400)
        counts = (report.booked, report.unchanged, len(report.refused))
        detail = f"{name}: %d baru, %d sudah ada, %d ditolak" % counts
        self.web.users.audit(user.name, "booking_import", detail, "", "ok")
        return await self.booking_page(request, report=report)

    def _bookable(self) -> list[tuple[str, str]]:
        """(code, name) of the services that take bookings, as the phone form offers them."""
        capacity = self.web.config.booking.capacity
        return [(s.code, s.name) for s in self.web.config.services if s.code in capacity]

    async def booking_by_phone(self, request: Request) -> Response:
        """A booking for a resident on the phone: the code shown, or why not, form kept."""
        form = await auth.checked_form(request)
        kept = {k: form.get(k, "") for k in PHONE_FIELDS}  # never the NIK: see PhoneCall
        typed = clean_nik(form.get("nik", ""))
        hint = masked(typed) if typed else ""
        user = request.state.user
        try:
            args = admin.phone_booking(self.web.config, form)
            booked = await run_in_threadpool(
                desk.book, self.web.live, self.web.users, user.name, args
            )
        except (admin.FormError, desk.DeskError) as err:
            call = PhoneCall(kept, hint)
            return await self.booking_page(request, error=str(err), status=400, call=call)
        return await self.booking_page(request, call=PhoneCall({}, booked=booked))

    async def booking_reprint(self, request: Request) -> Response:
        """One booking's slip again, as a PDF download (audited; made in memory)."""
        form = await auth.checked_form(request)
        user = request.state.user
        try:
            code = admin.booking_code(form.get("code", ""))
            pdf = await run_in_threadpool(desk.reprint, self.web.config, code)
        except (admin.FormError, desk.DeskError) as err:
            wanted = form.get("code", "")
            self.web.users.audit(user.name, "booking_reprint", wanted, "", f"refused: {err}")
            self.web.flash(request, False, str(err))
            return RedirectResponse(f"/admin/booking?kode={quote(wanted)}", 303)
        self.web.users.audit(user.name, "booking_reprint", code, "", "ok")
        headers = {
            "content-disposition": f'attachment; filename="booking-{code}.pdf"',
            "cache-control": NO_STORE,
        }
        return Response(pdf, media_type="application/pdf", headers=headers)

    async def visits_page(self, request: Request) -> Response:
        state = self.web.live.state("visits") or {}
        units = await run_in_threadpool(desk.sync_state, self.web.config)
        return self.web.render(
            request, "admin_visits.html", tab="kunjungan", visits=state.get("visits", []),
            units=units, kinds=KIND_LABEL, unit_ids=sorted(self.web.config.units),
        )  # fmt: skip

    async def unit_page(self, request: Request) -> Response:
        """One mobile unit: last seen, visits not all here, items waiting, the last refusal."""
        unit = request.path_params["unit"]
        if unit not in self.web.config.units:
            raise Refused(404, "Unit keliling ini tidak dikenal kantor.")
        ack, status = self.web.live.unit_sync(unit)
        state = await run_in_threadpool(desk.unit_state, self.web.config, unit, ack, status)
        return self.web.render(
            request, "admin_unit.html", tab="kunjungan", state=state, kinds=KIND_LABEL
        )

    async def post(self, request: Request) -> Response:
        form = await auth.checked_form(request)
        found = FORMS.get(request.path_params["kind"])
        if found is None:
            raise Refused(404, "Halaman tidak ada.")
        build, page = found
        user = request.state.user
        try:
            command = build(self.web.config, form, user)
        except admin.FormError as err:
            self.web.flash(request, False, str(err))
            return RedirectResponse(page, 303)
        web = self.web
        outcome = await run_in_threadpool(admin.run, web.live, web.users, user, command)
        self.web.flash(request, outcome.ok, outcome.message)
        return RedirectResponse(page, 303)
