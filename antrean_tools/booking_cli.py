"""`antrean booking import`: a kelurahan's list into booking slots, through the queue service.

The queue service is the one writer of the store, so the list goes to it as
admin commands over MQTT (it may run during office hours; no stop, no second
writer). The NIK is checked and hashed here, with the office secret: the full
NIK never leaves this process, not in a command, a log line or the report.
Chunks stay under the contract's MAX_PAYLOAD; the service books the whole
list in one transaction when the last chunk arrives.
"""

from __future__ import annotations

import argparse
import csv
import getpass
import io
import json
import sys
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from antrean import protocol
from antrean.booking import (
    SecretError,
    clean_nik,
    masked,
    nik_key,
    nik_problem,
    office_secret,
    parse_day,
)
from antrean.config import CONFIG_HELP, Config, config_path, load_config
from antrean.device import NoAnswer
from antrean.domain import Role
from antrean_testing.client import QueueClient
from antrean_tools import booking_slip_print
from antrean_tools.admin import USER_HELP, user_arg

# Header names accepted for each column (lower case, spaces as "_").
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("name", "nama", "nama_lengkap"),
    "nik": ("nik",),
    "phone": ("phone", "no_hp", "hp", "telepon", "no_telepon"),
    "kelurahan": ("kelurahan", "desa", "kelurahan_desa"),
    "service": ("service", "layanan"),
    "day": ("preferred_day", "day", "date", "tanggal"),
}
REQUIRED = ("name", "nik", "kelurahan", "service")
CHUNK_BYTES = protocol.MAX_PAYLOAD - 1024  # room for the command's id and other fields
FINAL_TIMEOUT_S = 60.0  # the last chunk books the whole list: 10,000 rows take a few seconds


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="booking_command", required=True)
    imp = sub.add_parser("import", help="import a kelurahan list (CSV) into booking slots")
    imp.add_argument("--config", help=CONFIG_HELP)
    imp.add_argument("file", type=Path, help="CSV: nama, nik, no_hp, kelurahan, layanan, tanggal")
    imp.add_argument("--codes", type=Path, help="write the booking codes (no NIK) to this CSV")
    imp.add_argument("--device", help=DEVICE_HELP)
    imp.add_argument("--user", help=USER_HELP)
    find = sub.add_parser("find", help="look a booking up by its code, or by name and kelurahan")
    find.add_argument("code", nargs="?", help="the 8-digit booking code")
    find.add_argument("--name", help="part of the resident's name (with --kelurahan)")
    find.add_argument("--kelurahan", help="the resident's kelurahan (with --name)")
    cancel = sub.add_parser("cancel", help="cancel a booking")
    cancel.add_argument("code", help="the 8-digit booking code")
    cancel.add_argument("--user", help=USER_HELP)
    book = sub.add_parser(
        "book", help="book a resident (a phone call): the day's first free slot; asks the NIK"
    )
    book.add_argument("--name", required=True, help="the resident's name")
    book.add_argument("--kelurahan", required=True, help="the resident's kelurahan")
    book.add_argument("--service", required=True, help="the service's code, for example A")
    book.add_argument("--day", help="the day wanted, YYYY-MM-DD (default: the first from tomorrow)")
    book.add_argument("--phone", help="the resident's phone number")
    book.add_argument("--visit", help="a mobile unit's visit id: a slot of its hours (issue 13)")
    for one in (find, cancel, book):
        one.add_argument("--config", help=CONFIG_HELP)
        one.add_argument("--device", help=DEVICE_HELP)
    purge = sub.add_parser("purge", help="erase the names and phones of past bookings now")
    purge.add_argument("--config", help=CONFIG_HELP)
    purge.add_argument("--device", help=DEVICE_HELP)
    slips = sub.add_parser("slips", help="the day's booking slips as a printable A4 PDF")
    slips.add_argument("--config", help=CONFIG_HELP)
    slips.add_argument("--day", required=True, help="the bookings' day, YYYY-MM-DD")
    slips.add_argument("--kelurahan", help="only this kelurahan's slips")
    slips.add_argument("--out", type=Path, required=True, help="the PDF to write")
    booking_slip_print.add_arguments(sub)


DEVICE_HELP = "the admin device to send as (default: the first admin)"
# The staff subcommands and the action each sends.
STAFF = {
    "find": "find_booking",
    "cancel": "cancel_booking",
    "purge": "booking_purge",
    "book": "book",
}


@dataclass(slots=True)
class Line:
    """The outcome of one list row, as the report shows it."""

    line: int
    outcome: str  # booked, unchanged, refused
    detail: str  # the code, or the reason
    name: str = ""
    kelurahan: str = ""
    service: str = ""
    day: str = ""
    slot: str = ""


def run(args: argparse.Namespace) -> int:
    config = load_config(config_path(args.config))
    if args.booking_command in STAFF:
        return staff(config, args)
    if args.booking_command == "slips":
        return write_slips(config, args)
    if args.booking_command == "slip":
        return booking_slip_print.run(config, args)
    try:
        secret = office_secret(config.booking.secret_file)
        device = _admin_device(config, args.device)
        rows, lines = read_list(config, secret, args.file)
        user = user_arg(args, "booking import")
    except (SecretError, OSError, ValueError) as exc:
        print(f"antrean booking: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    client = QueueClient(config.office.id, device, config.broker)
    try:
        client.start()
        summary = send(client, rows, lines, user.get("user"))
    except (NoAnswer, ConnectionError, RuntimeError) as exc:
        print(f"antrean booking: {exc}; nothing was booked", file=sys.stderr)  # noqa: T201
        return 1
    finally:
        client.stop()
    print(report(lines, summary))  # noqa: T201 - the command's output
    if args.codes:
        write_codes(args.codes, lines)
    return 1 if any(x.outcome == "refused" for x in lines.values()) else 0


def write_slips(config: Config, args: argparse.Namespace) -> int:
    """The day's slips into one PDF; how many, or why none."""
    from antrean_tools import booking_slips  # noqa: PLC0415 - Pillow and qrcode only here

    try:
        day = date.fromisoformat(args.day)
        slips = booking_slips.slips_of(config, day, args.kelurahan)
        if not slips:
            print(f"antrean booking: no live bookings on {day}", file=sys.stderr)  # noqa: T201
            return 1
        booking_slips.write_pdf(booking_slips.pages(slips, config.office.name), args.out)
    except (ValueError, OSError, RuntimeError) as exc:
        print(f"antrean booking: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    pages = -(-len(slips) // (booking_slips.COLUMNS * booking_slips.ROWS))
    print(f"{len(slips)} slips on {pages} pages: {args.out}")  # noqa: T201 - the output
    return 0


def staff(config: Config, args: argparse.Namespace) -> int:
    """find, cancel, purge: one action each; the booking (never a NIK) or the refusal."""
    try:
        device = _admin_device(config, args.device)
    except ValueError as exc:
        print(f"antrean booking: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    try:
        sent = _staff_args(args)
    except (ValueError, EOFError) as exc:
        print(f"antrean booking: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    client = QueueClient(config.office.id, device, config.broker)
    try:
        client.start()
        reply = client.request(STAFF[args.booking_command], sent)
    except (NoAnswer, ConnectionError) as exc:
        print(f"antrean booking: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    finally:
        client.stop()
    if not reply.get("ok"):
        print(f"antrean booking: {reply['error']['message']}", file=sys.stderr)  # noqa: T201
        return 1
    result = reply["result"]
    if "booking" in result:
        print(_described(result["booking"]))  # noqa: T201 - the command's output
    elif "bookings" in result:
        found = [_described(b) for b in result["bookings"]]
        print("\n\n".join(found) if found else "tidak ada booking dengan nama itu")  # noqa: T201
    else:
        print(f"names and phones of bookings before {result['before']} erased")  # noqa: T201
    return 0


def _staff_args(args: argparse.Namespace) -> dict[str, Any]:
    """The action's args from the command line; `book` reads the NIK from the terminal."""
    command = args.booking_command
    if command == "purge":
        return {}
    if command == "cancel":  # recorded in the office's audit: who cancelled it
        return {"code": args.code} | user_arg(args, "booking cancel")
    if command == "find" and args.code:
        return {"code": args.code}
    if command == "find":
        if not (args.name and args.kelurahan):
            raise ValueError("find needs a code, or --name and --kelurahan")
        return {"name": args.name, "kelurahan": args.kelurahan}
    # Never an argument: a command line stays in the shell's history and in `ps`.
    nik = getpass.getpass("NIK: ") if sys.stdin.isatty() else sys.stdin.readline()
    sent = {"name": args.name, "nik": nik.strip(), "kelurahan": args.kelurahan}
    sent["service"] = args.service
    extra = {"day": args.day, "phone": args.phone, "visit": args.visit}
    return sent | {k: v for k, v in extra.items() if v}


def _described(b: dict[str, Any]) -> str:
    """A booking for staff: code, day, slot, status, name, kelurahan, the NIK's last four."""
    return (
        f"{b['code']}  {b['day']} {b['slot']}  layanan {b['service']}  {b['status']}\n"
        f"{b['name'] or '(nama sudah dihapus)'}, {b['kelurahan']}, NIK ****{b['nik_last4']}"
        + (f"\ntiket {b['ticket']}" if b["ticket"] else "")
        + (f"\nkunjungan keliling {b['visit']}" if b.get("visit") else "")
    )


def _admin_device(config: Config, wanted: str | None) -> str:
    admins = [d.id for d in config.devices if d.role is Role.ADMIN]
    if wanted:
        if wanted not in admins:
            raise ValueError(f"{wanted} is not an admin device of {config.source}")
        return wanted
    if not admins:
        raise ValueError(f"{config.source} has no [[device]] with role 'admin'")
    return admins[0]


def _text(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252")  # Excel on Windows saves "CSV" in the ANSI code page


def read_list(
    config: Config, secret: bytes, path: Path
) -> tuple[list[dict[str, Any]], dict[int, Line]]:
    """The rows to send (NIKs hashed) and the lines already refused here, by line number."""
    text = _text(path)
    try:
        dialect: Any = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = next(reader, None)
    if header is None:
        raise ValueError(f"{path} is empty")
    where = _columns(header, path)
    services = {s.code.lower(): s.code for s in config.services}
    services.update({s.name.lower(): s.code for s in config.services})
    rows: list[dict[str, Any]] = []
    lines: dict[int, Line] = {}
    for cells in reader:
        number = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        value = {k: (cells[i].strip() if i < len(cells) else "") for k, i in where.items()}
        nik = clean_nik(value["nik"])
        problem = nik_problem(nik)
        code = services.get(value["service"].lower())
        day = parse_day(value["day"]) if value.get("day") else None
        reason = _refusal(value, f"{masked(nik)}: {problem}" if problem else None, code, day)
        line = Line(number, "refused", reason or "", value["name"], value["kelurahan"], code or "")
        lines[number] = line
        if reason is None:
            rows.append(
                {
                    "line": number,
                    "nik_hash": nik_key(secret, nik),
                    "last4": nik[-4:],
                    "name": value["name"],
                    "phone": value.get("phone", ""),
                    "kelurahan": value["kelurahan"],
                    "service": code,
                    "day": day.isoformat() if day else None,
                }
            )
        del nik
    return rows, lines


def _refusal(
    value: dict[str, str], nik_problem: str | None, code: str | None, day: date | None
) -> str | None:
    """Why a row is refused before it is sent (the NIK only masked), or None."""
    if nik_problem:
        return nik_problem
    if not value["name"]:
        return "nama kosong"
    if not value["kelurahan"]:
        return "kelurahan kosong"
    if code is None:
        return f"layanan {value['service']!r} tidak ada"
    if value.get("day") and day is None:
        return f"tanggal {value['day']!r} tidak dikenal (tulis 2026-11-27 atau 27/11/2026)"
    return None


def _columns(header: list[str], path: Path) -> dict[str, int]:
    names = [h.strip().lstrip("\ufeff").lower().replace(" ", "_").replace("-", "_") for h in header]
    where: dict[str, int] = {}
    for key, aliases in COLUMNS.items():
        for i, name in enumerate(names):
            if name in aliases:
                where[key] = i
                break
    missing = [COLUMNS[k][1] if len(COLUMNS[k]) > 1 else k for k in REQUIRED if k not in where]
    if missing:
        raise ValueError(f"{path}: no column {', '.join(missing)} in the header {header}")
    return where


def chunks(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Rows in groups whose command stays under MAX_PAYLOAD."""
    out: list[list[dict[str, Any]]] = [[]]
    size = 0
    for row in rows:
        n = len(json.dumps(row, ensure_ascii=False).encode("utf-8")) + 1
        if out[-1] and size + n > CHUNK_BYTES:
            out.append([])
            size = 0
        out[-1].append(row)
        size += n
    return out


def send(
    client: QueueClient, rows: list[dict[str, Any]], lines: dict[int, Line], user: str | None = None
) -> dict[str, Any]:
    """Sends the rows in chunks; the last chunk books them (recorded as `user`).

    Fills `lines` with the results.
    """
    batch = uuid.uuid4().hex[:16]
    parts = chunks(rows)
    reply: dict[str, Any] = {}
    for i, part in enumerate(parts):
        args: dict[str, Any] = {"batch": batch, "rows": part}
        last = i == len(parts) - 1
        if last:
            args["count"] = len(rows)
            if user:
                args["user"] = user  # the office's audit: who imported the list
        reply = _ok(client.request("booking_import", args, timeout=FINAL_TIMEOUT_S if last else 10))
    summary, page = reply, reply
    while True:
        for result in page["results"]:
            line = lines[result[0]]
            line.outcome, line.detail = result[1], result[2]
            if len(result) > 3:
                line.day, line.slot = result[3], result[4]
        if not page["more"]:
            return summary
        offset = page["offset"] + len(page["results"])
        page = _ok(client.request("booking_import_result", {"batch": batch, "offset": offset}))


def _ok(reply: dict[str, Any]) -> dict[str, Any]:
    if not reply.get("ok"):
        error = reply.get("error") or {}
        raise RuntimeError(f"the queue service refused the import: {error.get('message')}")
    result: dict[str, Any] = reply["result"]
    return result


def report(lines: dict[int, Line], summary: dict[str, Any]) -> str:
    """The import report: each refused line with its reason, then the totals."""
    out = [f"baris {x.line}: {x.detail}" for x in sorted(lines.values(), key=lambda x: x.line)
           if x.outcome == "refused"]  # fmt: skip
    refused = sum(1 for x in lines.values() if x.outcome == "refused")
    out.append(
        f"{summary.get('booked', 0)} booked, {summary.get('unchanged', 0)} unchanged "
        f"(already booked by an earlier import), {refused} refused"
    )
    return "\n".join(out)


def write_codes(path: Path, lines: dict[int, Line]) -> None:
    """The list for kelurahan staff: name, kelurahan, service, day, slot, code. No NIK."""
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["baris", "nama", "kelurahan", "layanan", "tanggal", "jam", "kode"])
        for x in sorted(lines.values(), key=lambda x: x.line):
            if x.outcome != "refused":
                w.writerow([x.line, x.name, x.kelurahan, x.service, x.day, x.slot, x.detail])
