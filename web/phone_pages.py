"""The phone page's routes: `/t/{token}` (whole page), its live stream, and one 404 for the rest.

No login and no session: the token in the path is the key (web/phone.py).
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from antrean.config import Config
from antrean.tokens import token_shaped
from web import phone
from web.live import NoAnswer, NotConnected, OfficeLive
from web.stream import Frame, sse

HEADERS = {"cache-control": "no-store"}  # a shared phone keeps no other ticket's page
UNREACHABLE = (NotConnected, NoAnswer, RuntimeError)
MISSING = {
    404: ("Karcis tidak ditemukan.", "Ticket not found."),
    503: (
        "Layanan antrean sedang tidak menjawab. Coba lagi sebentar.",
        "The queue service is not answering. Try again shortly.",
    ),
}


class PhonePages:
    """The resident's pages of one office."""

    def __init__(self, config: Config, live: OfficeLive, jinja: Environment) -> None:
        self.config = config
        self.live = live
        self.jinja = jinja
        self.tickets = phone.PhoneTickets(live)
        self.misses = phone.Misses()

    def routes(self) -> list[Route]:
        return [
            Route("/t/{token}", self.page),
            Route("/t/{token}/live", self.stream),
            Route("/t/{rest:path}", self.missing_page),  # the same 404 for any other path
        ]

    async def ticket(self, request: Request) -> dict[str, Any] | Response:
        """The ticket of the path's token, or the page that says why there is none."""
        token = request.path_params["token"]
        address = request.client.host if request.client else "?"
        if not token_shaped(token) or self.misses.blocked(address):
            return self.missing()
        try:
            ticket = await self.tickets.get(token)
        except UNREACHABLE:
            return self.missing(503)
        if ticket is None:
            self.misses.missed(address)
            return self.missing()
        return ticket

    def context(self, ticket: dict[str, Any]) -> dict[str, Any]:
        return {
            "t": ticket,
            "final": ticket["status"] in phone.FINAL,
            "title": phone.title(ticket),
            "office": self.config.office.name,
        }

    def missing(self, status: int = 404) -> Response:
        """The one page of every wrong token (or of a queue service that does not answer)."""
        message, message_en = MISSING[status]
        html = self.jinja.get_template("phone_missing.html").render(
            message=message, message_en=message_en
        )
        return HTMLResponse(html, status, headers=HEADERS)

    async def missing_page(self, _request: Request) -> Response:
        return self.missing()

    async def page(self, request: Request) -> Response:
        ticket = await self.ticket(request)
        if isinstance(ticket, Response):
            return ticket
        html = self.jinja.get_template("phone.html").render(
            stream=f"/t/{ticket['token']}/live", **self.context(ticket)
        )
        return HTMLResponse(html, headers=HEADERS)

    async def stream(self, request: Request) -> Response:
        first = await self.ticket(request)
        if isinstance(first, Response):
            return first
        token = first["token"]
        fragment = self.jinja.get_template("_phone.html")
        pending: list[dict[str, Any]] = [first]

        async def frame() -> Frame:
            ticket = pending.pop() if pending else None
            if ticket is None:
                try:
                    ticket = await self.tickets.get(token)
                except UNREACHABLE:
                    return None  # the page keeps what it shows; the next change asks again
            if ticket is None:  # the day ended: today's tokens are gone
                ticket = {**first, "status": "expired"}
            context = self.context(ticket)
            return fragment.render(**context), context["final"]

        return sse(request, self.live, "tiket", frame)
