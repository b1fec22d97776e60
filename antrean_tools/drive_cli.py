"""`antrean drive`: the recording drive's targets per kelurahan, from the office PC.

    antrean drive target "Sampangan" 390     residents still to record there (Dukcapil's list)
    antrean drive show [--json]              every kelurahan's target

`target` is the contract's drive_target, `show` reads a snapshot, both sent
as the office's admin device (antrean_tools/admin.py). A target set here
overrides the config's [drive.targets] and is kept in the store; the
progress against it is in `antrean report`.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from antrean_tools import admin

COMMAND = "drive"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="drive_command", required=True)
    target = sub.add_parser("target", help="set a kelurahan's target (residents to record)")
    target.add_argument("kelurahan", help="the kelurahan's name, as on the console's buttons")
    target.add_argument("count", type=int, help="residents required to record who have not")
    show = sub.add_parser("show", help="every kelurahan's target")
    show.add_argument("--json", action="store_true", help="print the targets as JSON")
    admin.add_common(target)
    admin.add_common(show, user=False)


def run(args: argparse.Namespace) -> int:
    try:
        config = admin.load(args)
        device = admin.admin_device(config, args.device)
        if args.drive_command == "target":
            body = {"kelurahan": args.kelurahan, "target": args.count}
            body |= admin.user_arg(args, COMMAND)
            done = admin.request(config, device, "drive_target", body)
            print(f"Tercatat: target {done['kelurahan']} = {done['target']} warga.")  # noqa: T201
            return 0
        drive = admin.request(config, device, "snapshot", {})["drive"]
    except admin.AdminError as exc:
        return admin.fail(COMMAND, exc)
    if args.json:
        print(json.dumps(drive, indent=2, ensure_ascii=False))  # noqa: T201
    else:
        print(targets_text(drive))  # noqa: T201
    return 0


def targets_text(drive: dict[str, Any]) -> str:
    """The targets as a table, by kelurahan, with the kecamatan's total."""
    targets: dict[str, int] = drive["targets"]
    if not targets:
        return "Belum ada target kelurahan (no targets): antrean drive target KELURAHAN JUMLAH"
    width = max(len(k) for k in [*targets, "Jumlah (total)"])
    lines = ["Target perekaman per kelurahan (residents to record):"]
    lines += [f"  {name:<{width}}  {targets[name]:>7}" for name in sorted(targets)]
    lines.append(f"  {'Jumlah (total)':<{width}}  {sum(targets.values()):>7}")
    return "\n".join(lines)
