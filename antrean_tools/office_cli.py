"""`antrean office`: services and counters open or closed, the running text (as the web's admin).

    antrean office close-service B --reason "Printer rusak" [--user sri]
    antrean office open-service B
    antrean office open-counter 2 | antrean office close-counter 2
    antrean office text "Istirahat pukul 12.00"

Each is the contract's action (service_open, service_close, counter_open,
counter_close, set_running_text) sent as the admin device
(antrean_tools/admin.py); the store's audit names the device and the user.
"""

from __future__ import annotations

import argparse
from typing import Any

from antrean_tools import admin

COMMAND = "office"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="office_command", required=True)
    for verb, what in (("open", "take tickets for a service again"), ("close", "stop a service")):
        p = sub.add_parser(f"{verb}-service", help=what)
        p.add_argument("service", help="the service's letter, e.g. B")
        if verb == "close":
            p.add_argument("--reason", default="", help="shown to residents on the kiosk")
        admin.add_common(p)
    for verb in ("open", "close"):
        p = sub.add_parser(f"{verb}-counter", help=f"{verb} a counter (loket)")
        p.add_argument("counter", type=int, help="the counter's number")
        admin.add_common(p)
    running = sub.add_parser("text", help="the running text the board scrolls")
    running.add_argument("text", help="the text ('' for none)")
    admin.add_common(running)


def action(args: argparse.Namespace) -> tuple[str, dict[str, Any], str]:
    """The contract's action, its args and what to print when it is done."""
    verb, _dash, what = args.office_command.partition("-")
    if what == "service":
        body: dict[str, Any] = {"service": args.service.strip().upper()}
        if verb == "close":
            body["reason"] = args.reason
        done = "dibuka" if verb == "open" else "ditutup"
        return f"service_{verb}", body, f"Layanan {body['service']} {done}."
    if what == "counter":
        done = "dibuka" if verb == "open" else "ditutup"
        return f"counter_{verb}", {"counter": args.counter}, f"Loket {args.counter} {done}."
    return "set_running_text", {"text": args.text}, "Teks berjalan disimpan."


def run(args: argparse.Namespace) -> int:
    name, body, done = action(args)
    try:
        admin.send(args, name, body)
    except admin.AdminError as exc:
        return admin.fail(COMMAND, exc)
    print(done)  # noqa: T201 - the command's output
    return 0
