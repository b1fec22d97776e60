"""The users page (teknisi): add an account, reset a password, disable or enable; the audit page.

The forms are checked here with Indonesian messages (web/users.py's own
errors are for the technician's command line); a wrong form changes
nothing. Every change is written to the audit with the technician's name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from web import audit, auth
from web.admin import FormError
from web.auth import Handler
from web.users import MIN_PASSWORD, User, UserError, WebRole, name_ok

if TYPE_CHECKING:
    from collections.abc import Callable

    from web.app import WebApp

AUDIT_ROWS = 500  # of each record, per day
ROLE_WORDS = {
    WebRole.KEPALA: "kepala (dasbor, laporan, audit)",
    WebRole.PETUGAS: "petugas (dasbor, admin, laporan)",
    WebRole.TEKNISI: "teknisi (dasbor, pengguna, audit)",
}


def _password(form: dict[str, str]) -> str:
    password = form.get("password", "")
    if len(password) < MIN_PASSWORD:
        raise FormError(f"Kata sandi paling sedikit {MIN_PASSWORD} karakter.")
    if password != form.get("again", ""):
        raise FormError("Kedua kata sandi tidak sama.")
    return password


class PeoplePages:
    """The accounts and the audit of one office's web."""

    def __init__(self, web: WebApp) -> None:
        self.web = web

    def routes(
        self, tech: Callable[[Handler], Handler], auditors: Callable[[Handler], Handler]
    ) -> list[Route]:
        return [
            Route("/pengguna", tech(self.users_page)),
            Route("/pengguna/{do}", tech(self.post), methods=["POST"]),
            Route("/audit", auditors(self.audit_page)),
        ]

    async def users_page(self, request: Request) -> Response:
        return self.web.render(
            request, "users.html", accounts=self.web.users.accounts(), roles=ROLE_WORDS
        )

    async def audit_page(self, request: Request) -> Response:
        """Both audits of one day (`?hari=`), merged by time: the web's and the queue store's."""
        web = self.web
        error = ""
        try:
            day = audit.asked_day(web.config, request.query_params.get("hari"))
        except audit.DayError as err:
            error = str(err)
            day = audit.asked_day(web.config, None)
        rows, store_read = await run_in_threadpool(
            audit.merged, web.config, web.users, web.settings.device, day, AUDIT_ROWS
        )
        return web.render(
            request, "audit.html", audit=rows, day=day, error=error, store_read=store_read,
            limit=AUDIT_ROWS,
        )  # fmt: skip

    async def post(self, request: Request) -> Response:
        form = await auth.checked_form(request)
        user: User = request.state.user
        do = request.path_params["do"]
        try:
            action, detail, message = await run_in_threadpool(self._change, user, do, form)
        except FormError as err:
            self.web.flash(request, False, str(err))
            return RedirectResponse("/pengguna", 303)
        self.web.users.audit(user.name, action, detail, "", "ok")
        self.web.flash(request, True, message)
        return RedirectResponse("/pengguna", 303)

    def _change(self, user: User, do: str, form: dict[str, str]) -> tuple[str, str, str]:
        """(audit action, detail, message) of one checked change; FormError changes nothing."""
        users = self.web.users
        name = form.get("name", "").strip()
        if do == "tambah":
            if not name_ok(name):
                raise FormError("Nama masuk 1-40 huruf, angka, '.' atau '-' (tanpa spasi).")
            try:
                role = WebRole(form.get("role", ""))
            except ValueError:
                raise FormError("Pilih peran: kepala, petugas atau teknisi.") from None
            password = _password(form)
            try:
                users.add(name, role, password)
            except UserError:
                raise FormError(f"Nama {name} sudah dipakai.") from None
            return "user_add", f"{name} ({role.value})", f"Pengguna {name} ditambahkan."
        known = {n for n, *_rest in users.accounts()}
        if name not in known:
            raise FormError("Pilih pengguna yang ada.")
        if do == "sandi":
            users.set_password(name, _password(form))
            return "user_password", name, f"Kata sandi {name} diganti."
        if do in ("nonaktif", "aktif"):
            if name == user.name:
                raise FormError("Akun Anda sendiri tidak bisa dinonaktifkan di sini.")
            users.set_disabled(name, do == "nonaktif")
            words = "dinonaktifkan" if do == "nonaktif" else "diaktifkan lagi"
            return f"user_{'disable' if do == 'nonaktif' else 'enable'}", name, f"{name} {words}."
        raise FormError("Tindakan tidak dikenal.")
