"""Sessions, roles and CSRF for the web's pages.

The session is Starlette's signed cookie (itsdangerous, with the secret kept
in a file of mode 600); it holds the user's name, role, its CSRF token and
when it was last used, so an idle session ends after the configured timeout.
Every form carries the session's CSRF token, and a post without the same
token changes nothing (the cookie is also SameSite=Strict).
"""

from __future__ import annotations

import hmac
import os
import secrets
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from web.users import User, WebRole

Handler = Callable[[Request], Awaitable[Response]]
ALL_ROLES = frozenset(WebRole)
CSRF_FIELD = "csrf"


class Refused(Exception):
    """A request refused before it did anything: status and a message in Indonesian."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def session_secret(path: Path) -> str:
    """The cookie-signing secret, made on first start (mode 600)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(secrets.token_hex(32))
    return path.read_text(encoding="ascii").strip()


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made when the session starts)."""
    token = request.session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(24)
        request.session[CSRF_FIELD] = token
    return token


async def checked_form(request: Request) -> dict[str, str]:
    """The posted form, or Refused(403) when its CSRF token is not the session's."""
    form = await request.form()
    given = form.get(CSRF_FIELD)
    expected = request.session.get(CSRF_FIELD)
    if not (isinstance(given, str) and isinstance(expected, str)) or not hmac.compare_digest(
        given, expected
    ):
        raise Refused(403, "Formulir tidak sah atau kedaluwarsa. Muat ulang halaman, coba lagi.")
    return {k: v for k, v in form.items() if isinstance(v, str)}


def log_in(request: Request, user: User) -> None:
    """A fresh session for this user (a new CSRF token too: no fixation)."""
    request.session.clear()
    request.session.update(
        {
            "user": user.name,
            "role": user.role.value,
            "seen": time.time(),
            CSRF_FIELD: secrets.token_urlsafe(24),
        }
    )


def current_user(
    request: Request, timeout_s: int, lookup: Callable[[str], User | None]
) -> User | None:
    """The session's user, unless idle past the timeout or the account is disabled or changed."""
    session = request.session
    name, role, seen = session.get("user"), session.get("role"), session.get("seen")
    if not isinstance(name, str) or role not in ALL_ROLES or not isinstance(seen, int | float):
        return None
    account = lookup(name)
    if time.time() - seen > timeout_s or account is None or account.role.value != role:
        session.clear()
        return None
    session["seen"] = time.time()
    return account


def require(
    roles: frozenset[WebRole], timeout_s: int, lookup: Callable[[str], User | None]
) -> Callable[[Handler], Handler]:
    """A page only for a session of one of these roles; others go to the login or get 403.

    `lookup` is the users file's: a disabled account's open sessions end at once.
    """

    def wrap(page: Handler) -> Handler:
        async def guarded(request: Request) -> Response:
            user = current_user(request, timeout_s, lookup)
            if user is None:
                if request.method == "GET" and "text/event-stream" not in request.headers.get(
                    "accept", ""
                ):
                    return RedirectResponse(f"/masuk?lanjut={request.url.path}", 303)
                raise Refused(401, "Sesi berakhir. Silakan masuk lagi.")
            if user.role not in roles:
                raise Refused(403, "Halaman ini bukan untuk peran Anda.")
            request.state.user = user
            return await page(request)

        return guarded

    return wrap


def safe_next(target: Any) -> str:
    """Where to go after the login: only a path of this site (no open redirect)."""
    if isinstance(target, str) and target.startswith("/") and not target.startswith("//"):
        return target
    return "/dasbor"
