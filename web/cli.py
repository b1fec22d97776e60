"""`antrean web --config PATH`: the office web; `antrean web adduser NAME --role ROLE`: an account.

Starlette, Jinja2 and uvicorn are imported inside run(): a counter Pi without
the `web` extra still builds the whole command line.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from pathlib import Path
from typing import Any

from antrean.config import CONFIG_HELP, ConfigError, config_path, load_config
from web.settings import WebSettings, web_settings
from web.users import UserError, Users, WebRole

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help=CONFIG_HELP)
    parser.add_argument(
        "--central", metavar="PATH", help="serve the central web of this central.toml instead"
    )
    sub = parser.add_subparsers(dest="web_command", metavar="{adduser,tablet-url}")
    add = sub.add_parser("adduser", help="add a staff account (asks for its password)")
    add.add_argument("name", help="the login name, e.g. sri")
    add.add_argument(
        "--role",
        required=True,
        choices=[r.value for r in WebRole],
        help="kepala: dashboard; petugas: dashboard and admin; teknisi: dashboard and devices",
    )
    add.add_argument("--config", default=argparse.SUPPRESS, help=CONFIG_HELP)
    tablet = sub.add_parser(
        "tablet-url", help="print the exit tablet's survey address ([web] survey_tablet = true)"
    )
    tablet.add_argument("--config", default=argparse.SUPPRESS, help=CONFIG_HELP)


def run(args: argparse.Namespace) -> int:
    """Serves the web until SIGTERM, or adds a user."""
    if args.central:
        return _central(args)
    config = load_config(config_path(args.config))
    settings = web_settings(config)
    if args.web_command == "adduser":
        return _add_user(settings.users_path, args.name, WebRole(args.role))
    if args.web_command == "tablet-url":
        return _tablet_url(settings)
    from web.app import build_app  # noqa: PLC0415
    from web.live import OfficeLive  # noqa: PLC0415

    if not getattr(args, "verbose", False):
        # uvicorn's start and stop lines repeat ours; its warnings and errors stay.
        logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
    for path in (settings.tls_cert, settings.tls_key):
        if path is not None and not _readable(path):
            print(f"antrean web: cannot read {path} (antrean broker web-cert --owner USER "  # noqa: T201
                  "makes it for the user antrean web runs as)", file=sys.stderr)  # fmt: skip
            return 2
    live = OfficeLive(config, settings.device).start()
    users = Users(settings.users_path)
    try:
        app = build_app(config, settings, live, users)
        log.info("web for %s on %s://%s:%d", config.office.id, settings.scheme, settings.host,
                 settings.port)  # fmt: skip
        _serve(server_config(app, settings.host, settings.port, settings, graceful_s=2))
    finally:
        live.stop()
        users.close()
    return 0


def _serve(config: Any) -> None:
    """Runs uvicorn with `config` until SIGTERM (the office web and the central web)."""
    import uvicorn  # noqa: PLC0415 - only where the web runs

    uvicorn.Server(config).run()


def _central(args: argparse.Namespace) -> int:
    """The central web (docs/central.md): [web] of the central config, PostgreSQL's tables."""
    from central.config import load_central_config  # noqa: PLC0415

    config = load_central_config(Path(args.central))
    if config.web is None:
        raise ConfigError(config.source, None, "web", "the central web needs a [web] section")
    if args.web_command == "adduser":
        return _add_user(config.web.users_path, args.name, WebRole(args.role))
    from web.central_app import build_central_app  # noqa: PLC0415 - psycopg, starlette

    users = Users(config.web.users_path)
    try:
        app = build_central_app(config, config.web, users)
        log.info("central web for %d offices on http://%s:%d", len(config.offices),
                 config.web.host, config.web.port)  # fmt: skip
        _serve(server_config(app, config.web.host, config.web.port, None, graceful_s=2))
    finally:
        users.close()
    return 0


def server_config(
    app: Any, host: str, port: int, settings: WebSettings | None, graceful_s: int
) -> Any:
    """uvicorn's config: HTTPS with [web] tls_cert/tls_key, else plain (loopback, or central)."""
    import uvicorn  # noqa: PLC0415

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,  # our logging (antrean_tools.logs), one format
        access_log=False,
        timeout_graceful_shutdown=graceful_s,  # open SSE streams must not hold the stop
        # None: plain HTTP (the office's settings allow it on loopback only)
        ssl_certfile=settings.tls_cert if settings else None,
        ssl_keyfile=settings.tls_key if settings else None,
    )


def _readable(path: Path) -> bool:
    try:
        with path.open("rb"):
            return True
    except OSError:
        return False


def _tablet_url(settings: WebSettings) -> int:
    """Prints the address the exit tablet opens (with its key: web/tablet.py)."""
    if not settings.survey_tablet:
        print("antrean web: the exit tablet is off; set survey_tablet = true in [web]",  # noqa: T201
              file=sys.stderr)  # fmt: skip
        return 2
    from web.auth import session_secret  # noqa: PLC0415 - starlette, where the web runs

    key = session_secret(settings.tablet_key_path)
    print(f"{settings.public_url}/survei/tablet/{key}")  # noqa: T201
    return 0


def _add_user(path: Path, name: str, role: WebRole) -> int:
    if sys.stdin.isatty():
        password = getpass.getpass(f"Password for {name}: ")
        if getpass.getpass("Again: ") != password:
            print("antrean web: the passwords differ", file=sys.stderr)  # noqa: T201
            return 2
    else:  # provisioning pipes it in
        password = sys.stdin.readline().rstrip("\n")
    users = Users(path)
    try:
        users.add(name, role, password)
    except UserError as exc:
        print(f"antrean web: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    finally:
        users.close()
    print(f"user {name} ({role.value}) added to {path}")  # noqa: T201
    return 0
