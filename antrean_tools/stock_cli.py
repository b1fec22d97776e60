"""`antrean stock`: the blank-card ledger from the office PC, until the office web has pages.

    antrean stock receive 500 --note "SJ-123" [--date 2026-11-27]   a delivery (admin)
    antrean stock spoil 2 --reason "printer macet"                  cards a failed print spoiled
    antrean stock adjust -3 --reason "hitung ulang"                 a correction after a count
    antrean stock show [--json]                                     balance, available, days left

Each one is the contract's action (stock_receive, stock_spoil, stock_adjust,
snapshot) sent as the office's admin device (antrean_tools/admin.py); the
queue service writes the ledger, names the device (and --user) on the entry,
and answers with the stock as it is afterwards, which is printed.
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from typing import Any

from antrean_tools import admin

COMMAND = "stock"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="stock_command", required=True)
    receive = sub.add_parser("receive", help="record a delivery of blank cards (surat jalan)")
    receive.add_argument("count", type=int, help="cards delivered")
    receive.add_argument("--note", required=True, help="the delivery note's number, e.g. SJ-123")
    receive.add_argument(
        "--date", dest="day", type=_day, help="the delivery's day YYYY-MM-DD (default: today)"
    )
    spoil = sub.add_parser("spoil", help="record cards spoiled by a failed print")
    spoil.add_argument("count", type=int, help="cards spoiled")
    spoil.add_argument("--reason", required=True, help="why, e.g. 'printer macet'")
    adjust = sub.add_parser("adjust", help="correct the balance after a count (+ or -)")
    adjust.add_argument("delta", type=int, help="cards to add (or, negative, to take away)")
    adjust.add_argument("--reason", required=True, help="why, e.g. 'hitung ulang 27/11'")
    show = sub.add_parser("show", help="the stock now: balance, available, warning, days left")
    show.add_argument("--json", action="store_true", help="print the stock state as JSON")
    for command in (receive, spoil, adjust):
        admin.add_common(command)
    admin.add_common(show, user=False)


def _day(text: str) -> str:
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day YYYY-MM-DD") from None


def action(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    """The contract's action and args for the command line."""
    user = admin.user_arg(args, COMMAND)
    match args.stock_command:
        case "receive":
            day = {"day": args.day} if args.day else {}
            return "stock_receive", {"count": args.count, "note": args.note, **day, **user}
        case "spoil":
            return "stock_spoil", {"count": args.count, "reason": args.reason, **user}
        case "adjust":
            return "stock_adjust", {"count": args.delta, "reason": args.reason, **user}
    return "snapshot", {}


def run(args: argparse.Namespace) -> int:
    try:
        config = admin.load(args)
        name, body = action(args)
        result = admin.request(config, admin.admin_device(config, args.device), name, body)
    except admin.AdminError as exc:
        return admin.fail(COMMAND, exc)
    stock = result["stock"]
    if getattr(args, "json", False):
        print(json.dumps(stock, indent=2, ensure_ascii=False))  # noqa: T201
    else:
        print(stock_text(stock, recorded=name != "snapshot"))  # noqa: T201
    return 0


def stock_text(stock: dict[str, Any], recorded: bool = False) -> str:
    """The stock state as the office reads it (Bahasa Indonesia, English in brackets)."""
    days = stock.get("days_left")
    rows = [
        ("Stok (balance)", str(stock["balance"])),
        ("Dijanjikan (promised)", f"{stock['promised']}  tiket menunggu/dilayani"),
        ("Tersedia (available)", str(stock["available"])),
        ("Pemakaian (use)", f"{stock['rate_per_day']}/hari, {stock['rate_days']} hari terakhir"),
        ("Cukup untuk (days left)", "-" if days is None else f"{days} hari"),
    ]
    head = "Tercatat. " if recorded else ""
    lines = [f"{head}Blanko KTP-el, {stock['day']}:"]
    lines += [f"  {label:<25} {value}" for label, value in rows]
    if stock.get("out"):
        lines.append("  HABIS: layanan pencetakan tidak menerima tiket (out of cards)")
    elif stock.get("warning"):
        lines.append(f"  PERINGATAN: tersedia {stock['warning_at']} atau kurang (low stock)")
    return "\n".join(lines)
