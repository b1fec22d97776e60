"""The web's pages: login, dashboard (live by SSE), admin; Starlette, rendered on the server.

Every page is whole HTML that works without scripts; a few lines of shipped
JavaScript swap in the live part when the server says it changed. Nothing
is loaded from outside the package (the office may have no internet).
"""

from __future__ import annotations

import logging
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from antrean.config import Config
from antrean_tools.figures import Period
from antrean_tools.report_cli import duration, render_csv
from antrean_tools.report_html import render_html
from web import phone, reports, views
from web.admin_pages import AdminPages
from web.auth import Refused, require
from web.ikm_state import IkmState
from web.live import OfficeLive
from web.pages import LoginPages, session_middleware
from web.people import PeoplePages
from web.phone_pages import PhonePages
from web.settings import WebSettings
from web.stream import Frame, sse
from web.survey import BANDS, ELEMENTS, Surveys
from web.tablet import TabletPages
from web.users import Users, WebRole

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
STAFF = frozenset({WebRole.KEPALA, WebRole.PETUGAS, WebRole.TEKNISI})
ADMIN = frozenset({WebRole.PETUGAS})
REPORTS = frozenset({WebRole.KEPALA, WebRole.PETUGAS})
FAILED_LOGIN_PAUSE_S = 0.5
# No scripts or styles from anywhere else, no framing (clickjacking of the admin forms).
HEADERS = [
    (b"content-security-policy", b"default-src 'self'; frame-ancestors 'none'; form-action 'self'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]
PRINT_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"


class SecurityHeaders:
    """Adds HEADERS to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                own = {k for k, _v in message.get("headers", [])}
                extra = [(k, v) for k, v in HEADERS if k not in own]  # a page's own CSP stays
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)


class WebApp(LoginPages):
    """The pages, bound to one office's live state and users file."""

    def __init__(
        self, config: Config, settings: WebSettings, live: OfficeLive, users: Users
    ) -> None:
        self.config = config
        self.settings = settings
        self.live = live
        super().__init__(users)
        self.jinja.globals["minutes"] = views.minutes
        self.jinja.globals["wait"] = phone.wait_words
        self.jinja.globals["duration"] = duration
        self.surveys = Surveys(settings.users_path)  # the web's own file (web/survey.py)
        self.ikm = IkmState(live, self.surveys)  # its figures (only) to the centre
        self.ikm.publish()  # the office's day may be known already
        self.phone = PhonePages(config, live, self.jinja, self.surveys)
        self.tablet = TabletPages(self.phone, settings)  # the survey at the exit (off unless set)
        self.jinja.filters["local"] = lambda at: views.local_time(at, config.office.timezone)

    # ---- dashboard -------------------------------------------------------------

    def dashboard_view(self) -> views.Dashboard:
        return views.dashboard(
            self.config, self.live.link.states(), self.live.devices(), self.live.queue_online
        )

    async def dashboard(self, request: Request) -> Response:
        return self.render(request, "dashboard.html", dash=self.dashboard_view())

    async def dashboard_stream(self, request: Request) -> Response:
        fragment = self.jinja.get_template("_dashboard.html")

        async def frame() -> Frame:
            return fragment.render(dash=self.dashboard_view()), False

        return sse(request, self.live, "dash", frame)

    # ---- the satisfaction survey's figures (kepala) ------------------------------

    async def skm_page(self, request: Request) -> Response:
        names = {s.code: s.name for s in self.config.services}
        return self.render(
            request,
            "skm.html",
            figures=self.surveys.figures(),
            comments=self.surveys.comments(),
            names=names,
            elements=ELEMENTS,
            bands=BANDS,
        )

    # ---- reports (kepala, petugas) ---------------------------------------------

    async def _period(self, request: Request) -> tuple[reports.Choice, Period]:
        query = dict(request.query_params)
        asked = reports.choice(self.config, query)
        return asked, await run_in_threadpool(reports.figures, self.config, asked)

    async def reports_page(self, request: Request) -> Response:
        try:
            asked, period = await self._period(request)
        except reports.ReportError as err:
            return self.render(request, "reports.html", 400, error=str(err), asked=None)
        return self.render(
            request,
            "reports.html",
            asked=asked,
            period=period,
            charts=reports.charts(period),
            office=self.config.office.name,
            services={s.code: f"{s.code} {s.name}" for s in self.config.services},
            counters={str(c.number): c.name for c in self.config.counters},
        )

    async def reports_csv(self, request: Request) -> Response:
        try:
            asked, period = await self._period(request)
        except reports.ReportError as err:
            return Response(str(err), 400, media_type="text/plain; charset=utf-8")
        name = f"laporan-{self.config.office.id}-{asked.start}-{asked.end}.csv"
        return Response(
            render_csv(period) + "\n",
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )

    async def reports_print(self, request: Request) -> Response:
        try:
            _asked, period = await self._period(request)
        except reports.ReportError as err:
            return self.render(request, "reports.html", 400, error=str(err), asked=None)
        # report_html's one page: its style and its heat map's colours are inline.
        return HTMLResponse(
            render_html(period, self.config), headers={"content-security-policy": PRINT_CSP}
        )


def build_app(config: Config, settings: WebSettings, live: OfficeLive, users: Users) -> Starlette:
    """The ASGI app of one office."""
    web = WebApp(config, settings, live, users)
    timeout = settings.session_timeout_s
    lookup = users.get  # every request: a disabled account's sessions end at once
    staff, admins = require(STAFF, timeout, lookup), require(ADMIN, timeout, lookup)
    readers = require(REPORTS, timeout, lookup)
    tech = require(frozenset({WebRole.TEKNISI}), timeout, lookup)
    auditors = require(frozenset({WebRole.KEPALA, WebRole.TEKNISI}), timeout, lookup)
    routes = [
        Route("/", lambda _r: RedirectResponse("/dasbor", 303)),
        *web.login_routes(),
        Route("/dasbor", staff(web.dashboard)),
        Route("/dasbor/live", staff(web.dashboard_stream)),
        Route("/skm", staff(web.skm_page)),
        Route("/laporan", readers(web.reports_page)),
        Route("/laporan.csv", readers(web.reports_csv)),
        Route("/laporan/cetak", readers(web.reports_print)),
        *AdminPages(web).routes(admins),
        *PeoplePages(web).routes(tech, auditors),
        *web.tablet.routes(),
        *web.phone.routes(),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [
        Middleware(SecurityHeaders),
        session_middleware(settings.secret_path, timeout, settings.scheme == "https"),
    ]
    handlers = {Refused: web.refused}
    app = Starlette(routes=routes, middleware=middleware, exception_handlers=handlers)
    app.state.web = web  # tests and the bench read its counters
    return app
