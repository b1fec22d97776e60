"""`antrean visit`: the mobile unit's visits from the office PC (and, open/close, on the unit).

    antrean visit plan --unit keliling-1 --day 2026-12-05 --hours 08:00-12:00 \\
        --place Melati --kind posyandu --kelurahan "Bendan Ngisor" [--expected 40]
    antrean visit list [--json]                  the coming visits and the board's text
    antrean visit cancel ID [--user sri]         (plan too: the office's audit names who)
    antrean visit open ID | antrean visit close ID   on the unit, at the visit

Each is the contract's action (visit_plan, visit_cancel, visit_open,
visit_close, snapshot) sent as the admin device (antrean_tools/admin.py).
"""

from __future__ import annotations

import argparse
import json
import re
from typing import Any

from antrean.visits import VisitKind
from antrean_tools import admin

COMMAND = "visit"
_HOURS = re.compile(r"^(\d{2}:\d{2})-(\d{2}:\d{2})$")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="visit_command", required=True)
    plan = sub.add_parser("plan", help="plan a visit (or change a planned one: --id)")
    plan.add_argument("--unit", required=True, help="the unit that goes ([mobile] units)")
    plan.add_argument("--day", required=True, help="YYYY-MM-DD")
    plan.add_argument("--hours", required=True, type=_hours, help="HH:MM-HH:MM, office time")
    plan.add_argument("--place", required=True, help="the place's name, e.g. Melati")
    kinds = [k.value for k in VisitKind]
    plan.add_argument("--kind", required=True, choices=kinds, help="what the place is")
    plan.add_argument("--kelurahan", required=True, help="its kelurahan (or desa: --desa)")
    plan.add_argument("--desa", action="store_true", help="the area is a desa, not a kelurahan")
    plan.add_argument(
        "--service", action="append", dest="services", help="a service offered (repeatable)"
    )
    plan.add_argument("--organiser", default="", help="who to contact there, with a phone")
    plan.add_argument("--expected", type=int, default=0, help="residents expected")
    plan.add_argument("--bring", help="what residents bring (default: fotokopi KK)")
    plan.add_argument("--id", help="the visit's id (default: day and place)")
    show = sub.add_parser("list", help="the coming visits and the running text made of them")
    show.add_argument("--json", action="store_true", help="print state/visits as JSON")
    for name, text in (
        ("cancel", "cancel a planned visit"),
        ("open", "open a visit on the unit: its tickets carry the visit"),
        ("close", "close the open visit on the unit"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("id", help="the visit's id (antrean visit list)")
        admin.add_common(p, user=name == "cancel")  # open/close are the unit's, not audited
    admin.add_common(plan)
    admin.add_common(show, user=False)


def _hours(text: str) -> tuple[str, str]:
    m = _HOURS.match(text)
    if not m:
        raise argparse.ArgumentTypeError(f"{text!r} is not HH:MM-HH:MM")
    return m.group(1), m.group(2)


def action(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """The contract's action and args for the command line."""
    if args.visit_command in ("cancel", "open", "close"):
        return f"visit_{args.visit_command}", {"id": args.id}
    if args.visit_command == "list":
        return "snapshot", {}
    body: dict[str, Any] = {
        "unit": args.unit, "day": args.day, "start": args.hours[0], "end": args.hours[1],
        "place": args.place, "kind": args.kind, "kelurahan": args.kelurahan, "desa": args.desa,
        "organiser": args.organiser, "expected": args.expected,
    }  # fmt: skip
    for key in ("services", "bring", "id"):
        if getattr(args, key):
            body[key] = getattr(args, key)
    return "visit_plan", body


def run(args: argparse.Namespace) -> int:
    name, body = action(args)
    try:
        result = admin.send(args, name, body)
    except admin.AdminError as exc:
        return admin.fail(COMMAND, exc)
    if name == "snapshot":
        state = result["visits"]
        if args.json:
            print(json.dumps(state, indent=2, ensure_ascii=False))  # noqa: T201
        else:
            print(schedule_text(state))  # noqa: T201
        return 0
    v = result["visit"]
    print(f"Tercatat: {v['id']} ({v['status']}) {visit_line(v)}")  # noqa: T201
    return 0


def visit_line(v: dict[str, Any]) -> str:
    """One visit on one line: day, hours, place, area, unit."""
    area = "Desa" if v["desa"] else "Kel."
    return (
        f"{v['day']} {v['start']}-{v['end']}  {v['place_name']}, {area} {v['kelurahan']}"
        f"  [{v['unit']}]" + (f"  ~{v['expected']} warga" if v["expected"] else "")
    )


def schedule_text(state: dict[str, Any]) -> str:
    """state/visits as the office reads it."""
    visits = state["visits"]
    if not visits:
        return "Belum ada kunjungan terjadwal (no visits planned)."
    lines = [f"Jadwal kunjungan (coming visits), from {state['day']}:"]
    lines += [f"  {v['id']:<32} {v['status']:<8} {visit_line(v)}" for v in visits]
    lines.append(f"Running text: {state['running_text']}")
    return "\n".join(lines)
