"""The phone page's routes: `/t/{token}` (whole page), its live stream, and one 404 for the rest.

No login and no session: the token in the path is the key (web/phone.py).
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from antrean.config import Config
from antrean.tokens import token_shaped
from web import phone, survey
from web.admin import FormError, clean_text
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


def missing(jinja: Environment, status: int = 404) -> Response:
    """The one page of every wrong token (or of a queue service that does not answer)."""
    message, message_en = MISSING[status]
    html = jinja.get_template("phone_missing.html").render(message=message, message_en=message_en)
    return HTMLResponse(html, status, headers=HEADERS)


class PhonePages:
    """The resident's pages of one office."""

    def __init__(
        self, config: Config, live: OfficeLive, jinja: Environment, surveys: survey.Surveys
    ) -> None:
        self.config = config
        self.live = live
        self.jinja = jinja
        self.surveys = surveys
        self.tickets = phone.PhoneTickets(live)
        self.misses = phone.Misses()

    def routes(self) -> list[Route]:
        return [
            Route("/t/{token}", self.page),
            Route("/t/{token}/live", self.stream),
            Route("/t/{token}/survei", self.survey_post, methods=["POST"]),
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

    def context(self, ticket: dict[str, Any], **extra: Any) -> dict[str, Any]:
        served = ticket["status"] == "served"
        answered = served and self.surveys.answered(ticket["day"], ticket["code"])
        return {
            "t": ticket,
            "final": ticket["status"] in phone.FINAL,
            "title": phone.title(ticket),
            "office": self.config.office.name,
            "survey": "done" if answered else "open",
            "elements": survey.ELEMENTS,
            "scale": survey.SCALE,
            "max_comment": survey.MAX_COMMENT,
            "chosen": {},
            "survey_error": "",
            **extra,
        }

    def render_page(self, ticket: dict[str, Any], status: int = 200, **extra: Any) -> Response:
        html = self.jinja.get_template("phone.html").render(
            stream=f"/t/{ticket['token']}/live", **self.context(ticket, **extra)
        )
        return HTMLResponse(html, status, headers=HEADERS)

    def missing(self, status: int = 404) -> Response:
        return missing(self.jinja, status)

    async def missing_page(self, _request: Request) -> Response:
        return self.missing()

    async def page(self, request: Request) -> Response:
        ticket = await self.ticket(request)
        if isinstance(ticket, Response):
            return ticket
        return self.render_page(ticket)

    async def survey_post(self, request: Request) -> Response:
        """One SKM response for a served ticket; a wrong form says why and keeps nothing.

        No CSRF token: there is no session to ride on, and a forged post would
        need the ticket's token, which is the whole secret.
        """
        ticket = await self.ticket(request)
        if isinstance(ticket, Response):
            return ticket
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        if ticket["status"] != "served":
            return self.render_page(ticket, 409)
        try:
            scores = survey.checked_scores(form)
            comment = clean_text(form.get("komentar", ""), "Komentar", survey.MAX_COMMENT, False)
        except (survey.SurveyError, FormError) as err:
            return self.render_page(ticket, 400, chosen=form, survey_error=str(err))
        self.surveys.add(ticket["day"], ticket["code"], ticket["service"], scores, comment)
        return RedirectResponse(f"/t/{ticket['token']}", 303)  # a second response changes nothing

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
