"""The satisfaction survey on a tablet at the exit (issue 15): `/survei/tablet/{key}`.

A resident who has no phone, or did not scan the QR, types the number
printed on the ticket (A012) on big keys, or a USB/Bluetooth scanner types
the ticket's QR address into the same field; then answers the nine elements
as on the phone page, into the same store with the same rule: one response
per ticket (web/survey.py). The page goes back to the start by itself after
the thanks and after IDLE_S untouched, for the next resident.

No login: a tablet locked in kiosk mode cannot keep a staff session. The
page is served only when `[web] survey_tablet = true`, and only under the
key in `survey_tablet_key` (a file made on first start, mode 600; `antrean
web tablet-url` prints the address with it). Any other path gets the phone
page's one 404. Printed codes are easy to guess, so the key keeps the form
off every phone on the Wi-Fi: only the tablet the technician set up can
answer by code. Today's day is the queue service's (`state/office`), and
a code is looked up in the store read-only; a scanned QR goes through the
phone page's token look-up. Nothing that names the resident is read.
"""

from __future__ import annotations

import hmac
import re
import sqlite3
from dataclasses import dataclass
from datetime import date
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from antrean.domain import TicketStatus
from antrean.store import StoreReader
from antrean.tokens import token_shaped
from web import survey
from web.admin import FormError, clean_text
from web.auth import session_secret
from web.phone_pages import HEADERS, UNREACHABLE, PhonePages
from web.settings import WebSettings

IDLE_S = 90  # untouched this long, the page starts again: the resident has left
THANKS_S = 8  # the thanks stays this long
CODE = re.compile(r"([A-Z]{1,3})0*(\d{1,4})")
SCANNED = re.compile(r"/t/([^/?#\s]+)/?$")  # the ticket's QR: {public_url}/t/{token}
NOT_YET = frozenset({TicketStatus.WAITING.value, TicketStatus.CALLED.value})


class Refusal(Exception):
    """Why this number cannot be rated, for the resident (Indonesian, English)."""

    def __init__(self, status: int, message: str, message_en: str) -> None:
        super().__init__(message)
        self.status, self.message, self.message_en = status, message, message_en


@dataclass(frozen=True, slots=True)
class Rated:
    """A ticket that may be rated now."""

    day: str
    code: str
    service: str
    service_name: str


def typed_code(raw: str) -> str | None:
    """A typed number as printed ("a 12" -> "A012"), or None when it is not one."""
    match = CODE.fullmatch(re.sub(r"[\s-]", "", raw.upper()))
    return f"{match[1]}{int(match[2]):03d}" if match else None


class TabletPages:
    """The exit tablet's three steps: the number, the nine elements, the thanks."""

    def __init__(self, phone: PhonePages, settings: WebSettings) -> None:
        self.phone = phone
        self.enabled = settings.survey_tablet
        self.key = session_secret(settings.tablet_key_path) if self.enabled else ""
        self.idle_s = IDLE_S  # tests shorten it
        self.thanks_s = THANKS_S

    def routes(self) -> list[Route]:
        return [
            Route("/survei/tablet/{key}", self.start, methods=["GET", "POST"]),
            Route("/survei/tablet/{key}/jawab", self.answer, methods=["POST"]),
        ]

    def _allowed(self, request: Request) -> bool:
        given = str(request.path_params["key"])
        return self.enabled and hmac.compare_digest(given.encode(), self.key.encode())

    def render(self, name: str, status: int = 200, **context: Any) -> Response:
        letters = sorted({s.code for s in self.phone.config.services})
        html = self.phone.jinja.get_template(name).render(
            home=f"/survei/tablet/{self.key}",
            survey_action=f"/survei/tablet/{self.key}/jawab",
            office=self.phone.config.office.name,
            letters=letters,
            idle_s=self.idle_s,
            thanks_s=self.thanks_s,
            elements=survey.ELEMENTS,
            scale=survey.SCALE,
            max_comment=survey.MAX_COMMENT,
            **{"chosen": {}, "survey_error": "", **context},
        )
        return HTMLResponse(html, status, headers=HEADERS)

    def refused(self, err: Refusal, typed: str) -> Response:
        return self.render(
            "tablet.html", err.status, message=err.message, message_en=err.message_en, typed=typed
        )

    async def start(self, request: Request) -> Response:
        """GET: the keypad. POST: the number typed or scanned, then the survey or why not."""
        if not self._allowed(request):
            return self.phone.missing()
        if request.method == "GET":
            return self.render("tablet.html", message="", typed="")
        typed = str((await request.form()).get("nomor", ""))[:300]
        try:
            rated = await self.find(typed)
        except Refusal as err:
            return self.refused(err, typed if len(typed) <= 8 else "")
        return self.render("tablet_survey.html", t=rated)

    async def answer(self, request: Request) -> Response:
        """The nine scores: kept once for the ticket, then the thanks; a wrong form says why."""
        if not self._allowed(request):
            return self.phone.missing()
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        try:
            rated = await self.find(form.get("nomor", ""))
        except Refusal as err:
            return self.refused(err, "")
        try:
            scores = survey.checked_scores(form)
            comment = clean_text(form.get("komentar", ""), "Komentar", survey.MAX_COMMENT, False)
        except (survey.SurveyError, FormError) as err:
            return self.render(
                "tablet_survey.html", 400, t=rated, chosen=form, survey_error=str(err)
            )
        if not self.phone.surveys.add(rated.day, rated.code, rated.service, scores, comment):
            return self.refused(answered(rated.code), "")  # the same ticket on two screens
        return self.render("tablet_thanks.html", t=rated)

    async def find(self, typed: str) -> Rated:
        """The ticket of a typed number or a scanned QR, if it may be rated now."""
        office = self.phone.live.state("office")
        if not self.phone.live.queue_online or not office or "day" not in office:
            raise unreachable()
        today = str(office["day"])
        scanned = SCANNED.search(typed.strip())
        if scanned:
            ticket = await self._by_token(scanned[1], today)
        else:
            code = typed_code(typed)
            if code is None:
                raise Refusal(
                    400,
                    "Ketik nomor seperti tercetak pada karcis, misalnya A012.",
                    "Type the number as printed on the ticket, for example A012.",
                )
            ticket = await run_in_threadpool(self._by_code, today, code)
        if ticket is None:
            raise Refusal(
                404,
                "Karcis ini bukan karcis hari ini."
                if scanned
                else f"Nomor {typed_code(typed)} tidak ada hari ini. Periksa nomor pada karcis.",
                "No such ticket today. Check the number on the ticket.",
            )
        code, status = ticket["code"], ticket["status"]
        if status in NOT_YET:
            raise Refusal(
                409,
                f"Nomor {code} belum selesai dilayani. "
                "Survei dapat diisi setelah pelayanan selesai.",
                "This number has not been served yet. The survey opens once it has.",
            )
        if status != TicketStatus.SERVED.value:
            raise Refusal(
                409,
                f"Nomor {code} tidak selesai dilayani hari ini, jadi tidak dapat dinilai.",
                "This number was not served today, so it cannot be rated.",
            )
        if self.phone.surveys.answered(today, code):
            raise answered(code)
        return Rated(today, code, ticket["service"], self._service_name(ticket["service"]))

    async def _by_token(self, token: str, today: str) -> dict[str, Any] | None:
        if not token_shaped(token):
            return None
        try:
            ticket = await self.phone.tickets.get(token)
        except UNREACHABLE as exc:
            raise unreachable() from exc
        return ticket if ticket and ticket["day"] == today else None

    def _by_code(self, today: str, code: str) -> dict[str, Any] | None:
        """Status and service of today's ticket `code`, from the store opened read-only."""
        try:
            reader = StoreReader(self.phone.config.store_path)
        except (OSError, RuntimeError, sqlite3.Error) as exc:
            raise unreachable() from exc
        try:
            found = reader.ticket(date.fromisoformat(today), code)
        finally:
            reader.close()
        if found is None:
            return None
        return {"code": found.code, "status": found.status.value, "service": found.service}

    def _service_name(self, code: str) -> str:
        service = self.phone.config.service(code)
        return service.name if service else code


def answered(code: str) -> Refusal:
    """The refusal of a ticket that has its response already."""
    return Refusal(
        409,
        f"Nomor {code} sudah mengisi survei. Terima kasih.",
        "This number has already been rated. Thank you.",
    )


def unreachable() -> Refusal:
    """The refusal while the queue service or its store cannot be asked."""
    return Refusal(
        503,
        "Layanan antrean sedang tidak menjawab. Silakan coba lagi sebentar.",
        "The queue service is not answering. Please try again shortly.",
    )
