"""`antrean web --central PATH`: the central web, the same package over PostgreSQL.

It reads only the tables the central service fills (docs/central.md); it
keeps no state of its own but its users file and session secret. The page
reloads itself every REFRESH_S (the central figures are a batch behind the
offices anyway); with scripts off it is a whole page like the others.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime
from zoneinfo import ZoneInfo

import psycopg
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from central.config import CentralConfig, CentralWeb
from web.app import STAFF, SecurityHeaders
from web.auth import Refused, require
from web.central_ikm import ikm_csv, service_names
from web.central_office import OfficePage, office_page
from web.central_phone_pages import CentralPhonePages
from web.central_summary import DriveLine, bars, csv_text, drive_lines
from web.central_view import SORTS, OfficeRow, ikm_words, office_rows, sort_rows
from web.pages import HERE, LoginPages, session_middleware
from web.users import Users
from web.views import minutes

REFRESH_S = 15
ZONE = ZoneInfo("Asia/Jakarta")  # the business day of Central Java's offices


class CentralPages(LoginPages):
    def __init__(self, config: CentralConfig, users: Users) -> None:
        super().__init__(users)
        self.config = config
        self.jinja.globals["minutes"] = minutes
        self.jinja.globals["ikm_words"] = ikm_words

    def rows(self) -> list[OfficeRow]:
        today = datetime.now(ZONE).date()
        with psycopg.connect(self.config.dsn) as conn:
            return office_rows(conn, self.config.offices, today, self.config.recording_services)

    def page(self, office: str) -> OfficePage:
        today = datetime.now(ZONE).date()
        c = self.config
        with psycopg.connect(c.dsn) as conn:
            return office_page(conn, office, c.offices, today, c.recording_services)

    async def office(self, request: Request) -> Response:
        office = request.path_params["office"]
        if office not in self.config.offices:
            return self.render(request, "error.html", 404, central=True,
                               message=f"Kantor {office} tidak ada di daftar pusat.")  # fmt: skip
        page = await run_in_threadpool(self.page, office)
        return self.render(request, "central_office.html", page=page, refresh=REFRESH_S,
                           central=True)  # fmt: skip

    def lines(self) -> list[DriveLine]:
        with psycopg.connect(self.config.dsn) as conn:
            return drive_lines(conn, self.config.offices, self.config.kabupaten)

    async def summary(self, request: Request) -> Response:
        lines = await run_in_threadpool(self.lines)
        chart = Markup(bars(lines))  # noqa: S704 - every name in it is escaped by bars()
        return self.render(request, "central_summary.html", lines=lines, chart=chart,
                           refresh=REFRESH_S, central=True)  # fmt: skip

    async def summary_csv(self, _request: Request) -> Response:
        lines = await run_in_threadpool(self.lines)
        headers = {"Content-Disposition": 'attachment; filename="ringkasan-perekaman.csv"'}
        return Response(csv_text(lines), media_type="text/csv; charset=utf-8", headers=headers)

    def ikm_text(self) -> str:
        today = datetime.now(ZONE).date()
        c = self.config
        with psycopg.connect(c.dsn) as conn:
            rows = office_rows(conn, c.offices, today, c.recording_services)
            return ikm_csv(rows, service_names(conn, list(c.offices)))

    async def ikm_download(self, _request: Request) -> Response:
        text = await run_in_threadpool(self.ikm_text)
        headers = {"Content-Disposition": 'attachment; filename="ikm-per-layanan.csv"'}
        return Response(text, media_type="text/csv; charset=utf-8", headers=headers)

    async def offices(self, request: Request) -> Response:
        rows = await run_in_threadpool(self.rows)
        attention = sum(1 for r in rows if r.problems)
        key = request.query_params.get("sort", "perhatian")
        key = key if key in SORTS else "perhatian"
        reverse = request.query_params.get("balik") == "1"
        return self.render(request, "central.html", rows=sort_rows(rows, key, reverse),
                           attention=attention, refresh=REFRESH_S, central=True,
                           sort=key, reverse=reverse)  # fmt: skip


def build_central_app(config: CentralConfig, web: CentralWeb, users: Users) -> Starlette:
    """The ASGI app of the central web."""
    pages = CentralPages(config, users)
    phone = CentralPhonePages(config.dsn, pages.jinja)
    staff = require(STAFF, web.session_timeout_s, users.get)
    routes = [
        Route("/", lambda _r: RedirectResponse("/kantor", 303)),
        Route("/dasbor", lambda _r: RedirectResponse("/kantor", 303)),  # where a login lands
        *pages.login_routes(),
        Route("/kantor", staff(pages.offices)),
        Route("/kantor/{office}", staff(pages.office)),
        Route("/ringkasan", staff(pages.summary)),
        Route("/ringkasan.csv", staff(pages.summary_csv)),
        Route("/ikm.csv", staff(pages.ikm_download)),
        *phone.routes(),  # no login: the token is the key (web/central_phone.py)
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    middleware = [
        Middleware(SecurityHeaders),
        session_middleware(web.secret_path, web.session_timeout_s, https=False),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        phone.notices.stop()  # the phone streams' LISTEN connection

    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan,
                    exception_handlers={Refused: pages.refused})  # fmt: skip
    app.state.web = pages
    return app
