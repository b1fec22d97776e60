"""`antrean sync`: on a mobile unit, send its visits' history to the office, and say how far.

    antrean sync run [--config unit.toml]   replay the outbox to the office until stopped
    antrean sync status [--json]            items the office has not acknowledged, per visit

`run` is the unit's antrean-sync service (antrean/unitsync.py): it also
plans on the unit the visits the office plans for it (follow_schedule); `status`
reads the unit's store and what the office last acknowledged, offline.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import threading
from types import FrameType
from typing import Any

from antrean.config import CONFIG_HELP, Config, ConfigError, config_path, load_config
from antrean.store import StoreReader, outbox_heads, unit_visits
from antrean.unitsync import UnitSync, read_state, waiting_items
from antrean.visits import follow_plan
from antrean_tools import admin

COMMAND = "sync"
log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="sync_command", required=True)
    run_ = sub.add_parser("run", help="replay the unit's outbox to the office until stopped")
    status = sub.add_parser("status", help="what the office has not acknowledged yet")
    status.add_argument("--json", action="store_true", help="print the status as JSON")
    for p in (run_, status):
        p.add_argument("--config", help=CONFIG_HELP)


def status(config: Config) -> dict[str, Any]:
    """The unit's outbox heads against the office's last ack, from the store and state file."""
    reader = StoreReader(config.store_path)
    try:
        heads = outbox_heads(reader.db)
    finally:
        reader.close()
    state = read_state(config) or {}
    acked = {str(k): int(v) for k, v in (state.get("acked") or {}).items()}
    waiting = waiting_items(heads, acked)
    return {
        "heads": heads,
        "acked": acked,
        "waiting": waiting,
        "complete": not waiting,
        "refused": state.get("refused"),
        "heard_at": state.get("heard_at"),
    }


def status_text(s: dict[str, Any]) -> str:
    """The status for the unit's staff (Bahasa Indonesia, English in brackets)."""
    heard = s["heard_at"] or "belum pernah (never)"
    if s["complete"]:
        lines = [f"Semua sudah sampai di kantor (everything reached the office). Ack: {heard}"]
    else:
        lines = [f"BELUM terkirim (not yet at the office); ack terakhir {heard}:"]
        lines += [f"  {v}: {n} item menunggu (waiting)" for v, n in sorted(s["waiting"].items())]
    if s["refused"]:
        r = s["refused"]
        where = f"{r.get('visit')} item {r.get('seq')}: " if r.get("visit") else ""
        lines.append(
            f"  DITOLAK kantor (refused): {where}{r.get('code')} {r.get('message')}. "
            "Data tetap di unit (kept on the unit)."
        )
    return "\n".join(lines)


def follow_schedule(config: Config, schedule: dict[str, Any]) -> int:
    """Plans and cancels on the unit what the office's schedule says; the commands sent.

    Sent as the unit's admin device to its own queue service (the store's one
    writer). Only differences are sent, so a schedule heard again sends nothing.
    Raises AdminError when the unit's queue service does not take one.
    """
    assert config.unit is not None
    reader = StoreReader(config.store_path)
    try:
        local = unit_visits(reader.db, config.unit.id)
    finally:
        reader.close()
    commands = follow_plan(schedule, local, config.unit.id)
    mine = sum(1 for v in schedule["visits"] if v.get("unit") == config.unit.id)
    log.info("the office's plan: %d visits for %s, %d to send", mine, config.unit.id, len(commands))
    device = admin.admin_device(config, None)
    for action, body in commands:
        admin.request(config, device, action, body)
        log.info("sync: %s %s from the office's plan", action, body.get("id"))
    return len(commands)


def carry_bookings(config: Config, body: dict[str, Any]) -> int:
    """Gives the unit's queue service the office's bookings of its visits it lacks; how many.

    Only differences are sent (a booking new here, or cancelled at the office
    since), so hearing the same list again sends nothing.
    """
    reader = StoreReader(config.store_path)
    try:
        held = dict(reader.db.execute("SELECT code, status FROM bookings WHERE visit IS NOT NULL"))
    finally:
        reader.close()
    new = [b for b in body["bookings"] if isinstance(b, dict)
           and held.get(b.get("code_hash"), "booked") == "booked"
           and held.get(b.get("code_hash")) != b.get("status")]  # fmt: skip
    if not new:
        return 0
    device = admin.admin_device(config, None)
    taken = admin.request(config, device, "visit_bookings", {"bookings": new})
    log.info("sync: %d of the office's visit bookings taken", taken["taken"])
    return int(taken["taken"])


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(config_path(args.config))
    except ConfigError as exc:
        log.error("config error: %s", exc)
        return 2
    if args.sync_command == "status":
        s = status(config)
        if args.json:
            print(json.dumps(s, indent=2, ensure_ascii=False))  # noqa: T201
        else:
            print(status_text(s))  # noqa: T201
        return 0 if s["complete"] else 1
    stop = threading.Event()

    def _signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _signal)
    signal.signal(signal.SIGINT, _signal)
    client = UnitSync(
        config,
        on_schedule=lambda s: follow_schedule(config, s),
        on_bookings=lambda b: carry_bookings(config, b),
    ).start()
    stop.wait()
    client.stop()
    return 0
