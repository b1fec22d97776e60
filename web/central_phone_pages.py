"""The central web's `/t/{token}` routes: the office's phone page, from PostgreSQL.

The same templates, the same 404 for any wrong token, the same limit on an
address that keeps missing (web.phone.Misses). The SKM survey is not offered
here: its answers belong to the office's web, which the centre cannot write to.
"""

from __future__ import annotations

from typing import Any

import psycopg
from jinja2 import Environment
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from antrean.tokens import token_shaped
from web import phone
from web.central_phone import Notices, Waiting, find
from web.phone_pages import HEADERS, missing
from web.stream import Frame, sse


class CentralPhonePages:
    def __init__(self, dsn: str, jinja: Environment) -> None:
        self.dsn = dsn
        self.jinja = jinja
        self.jinja.globals["wait"] = phone.wait_words
        self.notices = Notices(dsn)
        self.waiting = Waiting(self.notices.version)
        self.misses = phone.Misses()

    def routes(self) -> list[Route]:
        return [
            Route("/t/{token}", self.page),
            Route("/t/{token}/live", self.stream),
            Route("/t/{rest:path}", self.missing_page),
        ]

    def _find(self, token: str) -> tuple[str, str, dict[str, Any]] | None:
        with psycopg.connect(self.dsn) as conn:
            return find(conn, token, self.waiting)

    async def ticket(self, request: Request) -> tuple[str, str, dict[str, Any]] | Response:
        token = request.path_params["token"]
        address = request.client.host if request.client else "?"
        self.notices.start()  # the waiting lists are cached by its versions
        if not token_shaped(token) or self.misses.blocked(address):
            return self.missing()
        try:
            found = await run_in_threadpool(self._find, token)
        except psycopg.Error:
            return self.missing(503)
        if found is None:
            self.misses.missed(address)
            return self.missing()
        return found

    def context(self, office_name: str, ticket: dict[str, Any]) -> dict[str, Any]:
        return {
            "t": ticket,
            "final": ticket["status"] in phone.FINAL,
            "title": phone.title(ticket),
            "office": office_name,
            "survey": "none",
        }

    def missing(self, status: int = 404) -> Response:
        return missing(self.jinja, status)  # the office's very page

    async def missing_page(self, _request: Request) -> Response:
        return self.missing()

    async def page(self, request: Request) -> Response:
        found = await self.ticket(request)
        if isinstance(found, Response):
            return found
        _office, name, ticket = found
        html = self.jinja.get_template("phone.html").render(
            stream=f"/t/{ticket['token']}/live", **self.context(name, ticket)
        )
        return HTMLResponse(html, headers=HEADERS)

    async def stream(self, request: Request) -> Response:
        found = await self.ticket(request)
        if isinstance(found, Response):
            return found
        office, name, first = found
        fragment = self.jinja.get_template("_phone.html")

        async def frame() -> Frame:
            try:
                now = await run_in_threadpool(self._find, first["token"])
            except psycopg.Error:
                return None  # the page keeps what it shows; the next notice asks again
            ticket = now[2] if now else {**first, "status": "expired"}
            context = self.context(name, ticket)
            return fragment.render(**context), context["final"]

        return sse(request, self.notices.of(office), "tiket", frame)
