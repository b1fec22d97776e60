"""What every web of this package shares: the templates, login and logout, the error page."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from web import auth
from web.auth import Refused
from web.users import LoginThrottle, Users

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
FAILED_LOGIN_PAUSE_S = 0.5


class LoginPages:
    """Templates, the login form and the error page, over one users file."""

    def __init__(self, users: Users) -> None:
        self.users = users
        self.throttle = LoginThrottle()
        self.jinja = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def render(
        self, request: Request, template: str, status: int = 200, **context: Any
    ) -> Response:
        user = getattr(request.state, "user", None)
        flash = request.session.pop("flash", None)
        html = self.jinja.get_template(template).render(
            csrf=auth.csrf_token(request), user=user, flash=flash, **context
        )
        return HTMLResponse(html, status)

    def flash(self, request: Request, ok: bool, message: str) -> None:
        request.session["flash"] = {"ok": ok, "message": message}

    async def login_page(self, request: Request) -> Response:
        return self.render(request, "login.html", lanjut=request.query_params.get("lanjut", ""))

    async def login(self, request: Request) -> Response:
        form = await auth.checked_form(request)
        name = form.get("name", "").strip()
        address = f"addr:{request.client.host if request.client else '?'}"
        wait = self.throttle.wait_s(f"user:{name}", address)
        if wait:
            message = f"Terlalu banyak percobaan masuk. Coba lagi dalam {wait} detik."
            return self.render(request, "login.html", 429, error=message, name=name)
        user = await run_in_threadpool(self.users.verify, name, form.get("password", ""))
        if user is None:
            self.throttle.failed(f"user:{name}", address)
            await asyncio.sleep(FAILED_LOGIN_PAUSE_S)  # other requests go on meanwhile
            log.info("failed web login from %s", address)
            message = "Nama atau kata sandi salah."
            return self.render(request, "login.html", 401, error=message, name=name)
        self.throttle.succeeded(f"user:{name}")
        auth.log_in(request, user)
        log.info("web login: %s (%s)", user.name, user.role.value)
        return RedirectResponse(auth.safe_next(form.get("lanjut")), 303)

    async def logout(self, request: Request) -> Response:
        await auth.checked_form(request)
        request.session.clear()
        return RedirectResponse("/masuk", 303)

    async def refused(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Refused)
        return self.render(request, "error.html", exc.status, message=exc.message)

    def login_routes(self) -> list[Route]:
        return [
            Route("/masuk", self.login_page, methods=["GET"]),
            Route("/masuk", self.login, methods=["POST"]),
            Route("/keluar", self.logout, methods=["POST"]),
        ]


def session_middleware(secret: Path, timeout_s: int, https: bool) -> Middleware:
    """The signed session cookie every web of this package uses."""
    return Middleware(
        SessionMiddleware,
        secret_key=auth.session_secret(secret),
        session_cookie="antrean_sesi",
        max_age=timeout_s,
        same_site="strict",
        https_only=https,
    )
