"""`antrean unit`: a mobile unit's own repairs, on the unit.

    antrean unit clock-reset --config /etc/antrean/antrean.toml [--confirm ID] [--user Sri]

clock-reset: a unit whose clock once ran ahead keeps that time as its floor
and, once the clock is set right, refuses to number (`clock_behind`). After
checking that the clock is right now, this sets the floor to now: the
contract's `clock_floor_reset`, sent as the unit's admin device
(antrean_tools/admin.py) and audited in its store. The unit's id is the
confirmation: typed at the prompt, or given with --confirm.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from antrean_tools import admin

COMMAND = "unit"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="unit_command", required=True)
    reset = sub.add_parser(
        "clock-reset", help="after the unit's clock ran ahead and was set right: number again"
    )
    reset.add_argument("--confirm", help="the unit's id ([unit] id); asked for when left out")
    admin.add_common(reset)


def run(args: argparse.Namespace) -> int:
    try:
        config = admin.load(args)
        if config.unit is None:
            raise admin.AdminError(
                f"{config.source} has no [unit]: only a unit has a clock floor", 2
            )
        zone = config.office.timezone
        confirm = args.confirm
        if confirm is None:
            now = datetime.now(UTC).astimezone(zone)
            print(f"Jam unit sekarang (the unit's clock now): {now:%d-%m-%Y %H.%M}")  # noqa: T201
            confirm = input(f"Jam sudah benar? Ketik id unit ({config.unit.id}): ").strip()
        body = {"confirm": confirm, **admin.user_arg(args, COMMAND)}
        device = admin.admin_device(config, args.device)
        result = admin.request(config, device, "clock_floor_reset", body)
    except admin.AdminError as exc:
        return admin.fail(COMMAND, exc)
    except EOFError:
        return admin.fail(COMMAND, admin.AdminError("no confirmation typed; nothing changed", 2))
    floor = datetime.fromisoformat(result["floor"]).astimezone(zone)
    was = result["previous"]
    before = f" (was {datetime.fromisoformat(was).astimezone(zone):%d-%m-%Y %H.%M})" if was else ""
    done = f"Batas jam unit diatur ke {floor:%d-%m-%Y %H.%M}{before}. Unit bisa memberi nomor lagi."
    print(done)  # noqa: T201
    return 0
