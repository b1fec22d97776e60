"""The `antrean` command: one entry point, a subcommand per process.

Each app (kiosk, board, counter, broker tools) lives in its own module with
`add_arguments(parser)` and `run(args) -> int`; the table below names them.
They are imported only to build the parser, so those modules must import their
heavy libraries (Kivy, escpos, gpiozero) inside `run`, not at the top: a
queue-only Pi does not have them installed.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import Any, Protocol

from antrean import __version__
from antrean.config import (
    CONFIG_HELP,
    ROOT_HELP,
    Config,
    ConfigError,
    check_app_sections,
    config_path,
    load_config,
)
from antrean.runner import run_queue_service
from antrean_tools import logs
from antrean_tools.demo import run_demo

# subcommand -> (module, one-line help). Keep in the order of `antrean --help`.
APP_COMMANDS: dict[str, tuple[str, str]] = {
    "kiosk": ("kiosk.cli", "run the kiosk: touchscreen and ticket printer"),
    "board": ("display_board.cli", "run the waiting-room TV board with its voice"),
    "voice": ("display_board.voice.cli", "build the board's voice clips (antrean voice build)"),
    "counter": ("counter.cli", "run a counter's buttons, keypad, serial box or console"),
    "broker": (
        "antrean_tools.broker.cli",
        "office broker: CA, TLS, device credentials, access rules",
    ),
    "doctor": (
        "antrean_tools.doctor",
        "check this unit: config, broker, queue, devices, clock, disk",
    ),
    "report": ("antrean_tools.report_cli", "the day's figures: issued, served, no-shows, waits"),
    "stock": ("antrean_tools.stock_cli", "blank cards: record a delivery, spoiled cards, a count"),
    "drive": ("antrean_tools.drive_cli", "the recording drive: each kelurahan's target"),
    "booking": (
        "antrean_tools.booking_cli",
        "pre-registration: import kelurahan lists, find, cancel, purge",
    ),
    "web": ("web.cli", "run the office web: the dashboard and the admin pages"),
    "central": (
        "central.cli",
        "kabupaten/province: every office's events into PostgreSQL, gaps replayed",
    ),
    "office": (
        "antrean_tools.office_cli",
        "open and close services and counters, the running text (as the web's admin page)",
    ),
    "visit": ("antrean_tools.visit_cli", "mobile unit visits: plan, list, cancel, open, close"),
    "sync": ("antrean_tools.sync_cli", "mobile unit: send its visits home; status"),
    "unit": ("antrean_tools.unit_cli", "mobile unit: reset its clock floor (clock-reset)"),
}


VERBOSE_HELP = "log every MQTT message in and out (DEBUG); default INFO"


class _Subcommands:
    """add_parser with the options every subcommand shares."""

    def __init__(self, actions: Any, common: argparse.ArgumentParser) -> None:
        self._actions = actions
        self._common = common

    def add_parser(self, name: str, help: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = self._actions.add_parser(
            name, help=help, parents=[self._common]
        )
        return parser


class AppCommand(Protocol):
    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...
    def run(self, args: argparse.Namespace) -> int: ...


def build_parser() -> argparse.ArgumentParser:
    """The whole command line, core subcommands first."""
    parser = argparse.ArgumentParser(prog="antrean", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"antrean {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help=VERBOSE_HELP)
    # Also after the subcommand (`antrean kiosk --verbose`), where a unit's
    # ExecStart= line is easiest to edit; SUPPRESS keeps the default above.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help=VERBOSE_HELP
    )
    sub = _Subcommands(parser.add_subparsers(dest="command", required=True), common)

    q = sub.add_parser("queue", help="run the queue service (the authority for numbers)")
    q.add_argument("--config", help=CONFIG_HELP)

    c = sub.add_parser("check-config", help="validate an office config and print a summary")
    c.add_argument("--config", help=CONFIG_HELP)
    c.add_argument(
        "--role",
        choices=("hub", "display", "counter", "portable"),
        help="also check this unit's broker credentials (CA, passwords) as --user reads them",
    )
    c.add_argument("--counter", type=int, default=0, help="the unit's counter number, if any")
    c.add_argument("--user", default="antrean", help="the services' user (default antrean)")
    c.add_argument("--root", type=Path, default=Path("/"), help=ROOT_HELP)

    d = sub.add_parser("demo", help="run the whole system on this machine")
    d.add_argument(
        "--config",
        default="antrean.example.toml",
        help="office config file (default: antrean.example.toml, the example office)",
    )
    d.add_argument(
        "--headless", action="store_true", help="on a private virtual screen (Xvfb), no monitor"
    )
    d.add_argument("--office-hours", action="store_true", help="keep the config's opening hours")

    for name, (module, help_text) in APP_COMMANDS.items():
        app = load_app(module)
        p = sub.add_parser(name, help=help_text)
        app.add_arguments(p)
        p.set_defaults(app_module=module)
    return parser


def load_app(module: str) -> AppCommand:
    app: AppCommand = importlib.import_module(module)
    return app


def main(argv: list[str] | None = None) -> int:
    """Parses arguments and runs the chosen subcommand."""
    args = build_parser().parse_args(argv)
    logs.configure(verbose=args.verbose)
    if getattr(args, "app_module", None):
        try:
            return load_app(args.app_module).run(args)
        except ConfigError as exc:
            print(f"antrean: config error: {exc}", file=sys.stderr)
            return 2
    try:
        config = load_config(config_path(args.config))
    except ConfigError as exc:
        print(f"antrean: config error: {exc}", file=sys.stderr)
        return 2

    if args.command == "queue":
        try:
            return run_queue_service(config)
        except ConfigError as exc:  # e.g. an unreadable broker.password_file
            print(f"antrean: config error: {exc}", file=sys.stderr)
            return 2
    if args.command == "check-config":
        try:
            check_app_sections(config)  # what each app checks at its start, checked now
        except ConfigError as exc:
            print(f"antrean: config error: {exc}", file=sys.stderr)
            return 2
        print_summary(config)
        if args.role:
            return _check_logins(config, args)
        return 0
    if args.command == "demo":
        return run_demo(config, headless=args.headless, office_hours=args.office_hours)
    return 1


def _check_logins(config: Config, args: argparse.Namespace) -> int:
    from antrean_tools.broker.logins import check_logins  # noqa: PLC0415 - only with --role

    problems = check_logins(config, args.role, args.counter, args.user, args.root)
    for p in problems:
        print(f"antrean: credentials: {p.detail}\n  fix: {p.fix}", file=sys.stderr)
    if problems:
        return 2
    print(f"  logins   {args.role}: the CA and passwords are readable by {args.user}")
    return 0


def print_summary(config: Config) -> None:
    o = config.office
    print(f"{config.source}: OK")
    print(f"  office   {o.id} - {o.name} ({o.timezone.key})")
    print(f"  broker   {config.broker.host}:{config.broker.port}")
    print(f"  store    {config.store_path}")
    for s in config.services:
        quota = s.daily_quota or "no quota"
        print(f"  service  {s.code} {s.name} ({quota})")
    for k in config.counters:
        print(f"  counter  {k.number} {k.name}: {', '.join(k.services)}")
    for dev in config.devices:
        extra = f" (counter {dev.counter})" if dev.counter else ""
        print(f"  device   {dev.id}: {dev.role}{extra}")


if __name__ == "__main__":
    sys.exit(main())
