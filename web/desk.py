"""The booking desk and the units' sync, for the admin pages (blocking: run off the event loop).

A booking list goes the same path as `antrean booking import`
(antrean_tools/booking_cli.py: read_list checks and hashes the NIKs with the
office secret, send books them through the queue service in chunks) with the
web device as the sender. The upload is held in a memory-only file
(memfd), so no full NIK is ever written to the hub's disk.

A reprinted slip is antrean booking slips' page with one slip, made in
memory from the read-only store and sent as it is: no file holds the name.

A unit's sync state is what the office has applied of it: the store's
sync_acks (antrean/sync.py), read with the read-only store.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from antrean.booking import SecretError, office_secret
from antrean.config import Config
from antrean.store import StoreReader
from antrean_tools.booking_cli import Line, read_list, send
from web.live import NoAnswer, NotConnected, OfficeLive
from web.users import Users

MAX_UPLOAD = 4 * 1024 * 1024  # a kelurahan list of 10,000 rows is about 1 MB


class DeskError(ValueError):
    """Why nothing was booked or found (Indonesian, for staff)."""


@dataclass(slots=True)
class ImportReport:
    """What the import did: every refused row with its reason, and the totals."""

    booked: int = 0
    unchanged: int = 0
    refused: list[Line] = field(default_factory=list)


class _AsWeb:
    """booking_cli.send's client: the web's link, the import carrying the user."""

    def __init__(self, live: OfficeLive, user: str) -> None:
        self.live, self.user = live, user

    def request(self, action: str, args: dict[str, Any], timeout: float = 10) -> dict[str, Any]:
        if action == "booking_import":  # its last chunk is the store's audit row
            args = {**args, "user": self.user}
        return self.live.link.request(action, args, timeout=timeout).body


def import_bookings(
    config: Config, live: OfficeLive, name: str, data: bytes, user: str
) -> ImportReport:
    """Checks and books one uploaded list; DeskError when nothing could be booked."""
    if not data.strip():
        raise DeskError("Berkas kosong. Pilih berkas CSV daftar warga.")
    if len(data) > MAX_UPLOAD:
        raise DeskError(f"Berkas terlalu besar (paling besar {MAX_UPLOAD // 1024 // 1024} MB).")
    try:
        secret = office_secret(config.booking.secret_file)
    except SecretError as exc:
        raise DeskError(f"Kunci kantor tidak bisa dibaca: {exc}") from None
    fd = os.memfd_create("booking-list", os.MFD_CLOEXEC)
    try:
        os.write(fd, data)
        try:
            rows, lines = read_list(config, secret, Path(f"/proc/self/fd/{fd}"))
        except ValueError as exc:
            raise DeskError(_header_words(str(exc), name)) from None
    finally:
        os.close(fd)
    try:
        summary = send(_AsWeb(live, user), rows, lines) if rows else {}  # type: ignore[arg-type]
    except (NotConnected, NoAnswer):
        raise DeskError("Layanan antrean tidak menjawab. Tidak ada yang dibooking.") from None
    except RuntimeError as exc:
        raise DeskError(f"Ditolak layanan antrean: {exc}. Tidak ada yang dibooking.") from None
    refused = sorted((x for x in lines.values() if x.outcome == "refused"), key=lambda x: x.line)
    return ImportReport(
        int(summary.get("booked", 0)),
        int(summary.get("unchanged", 0)),
        refused,
    )


def _header_words(message: str, name: str) -> str:
    if "no column" in message:
        columns = message.split("no column ", 1)[1].split(" in the header", maxsplit=1)[0]
        return (
            f"{name}: kolom {columns} tidak ada di baris judul. Baris pertama harus berisi"
            " nama, nik, no_hp, kelurahan, layanan, tanggal."
        )
    return f"{name}: berkas tidak bisa dibaca sebagai CSV."


def find_booking(live: OfficeLive, code: str) -> dict[str, Any]:
    """The booking of this code (never a NIK, only its last four digits)."""
    try:
        reply = live.link.request("find_booking", {"code": code}, timeout=5.0)
    except (NotConnected, NoAnswer):
        raise DeskError("Layanan antrean tidak menjawab; coba lagi.") from None
    if not reply.ok:
        raise DeskError(reply.message or f"Ditolak ({reply.code}).")
    booking: dict[str, Any] = reply.result["booking"]
    return booking


@dataclass(frozen=True, slots=True)
class Booked:
    """A booking made on the phone, as the page shows it; `moved` when not the day asked."""

    booking: dict[str, Any]
    moved: bool


def book(live: OfficeLive, users: Users, user: str, args: dict[str, str]) -> Booked:
    """Sends one checked phone booking as the user; DeskError says why it was not made.

    The web's audit keeps the code and kelurahan only: no name, NIK or phone.
    A booking that was there before (the same NIK and service) is refused, not
    read out: whoever knows a NIK must not learn the code made for it.
    """
    kelurahan, cmd_id = args["kelurahan"], live.link.new_id()
    try:
        reply = live.link.request("book", {**args, "user": user}, timeout=5.0, cmd_id=cmd_id)
    except (NotConnected, NoAnswer):
        users.audit(user, "book", kelurahan, cmd_id, "no_answer")
        raise DeskError("Layanan antrean tidak menjawab. Tidak dibooking; coba lagi.") from None
    if not reply.ok:
        users.audit(user, "book", kelurahan, cmd_id, f"refused: {reply.code}")
        why = reply.message or f"ditolak ({reply.code})"
        raise DeskError(f"Tidak dibooking: {why.rstrip('.')}.")
    b: dict[str, Any] = reply.result["booking"]
    if reply.result.get("again"):
        users.audit(user, "book", f"{b['code']}, {kelurahan}", cmd_id, "refused: again")
        raise DeskError(
            f"Tidak dibooking: NIK ****{b['nik_last4']} sudah punya booking layanan"
            f" {b['service']} pada {b['day']} {b['slot']}."
        )
    users.audit(user, "book", f"{b['code']}, {kelurahan}", cmd_id, "ok")
    return Booked(b, moved="day" in args and b["day"] != args["day"])


def reprint(config: Config, code: str) -> bytes:
    """One booking's slip as a PDF, to print again; DeskError if it is not live."""
    from antrean_tools.booking_slips import pages, pdf_bytes, slip_of  # noqa: PLC0415 - Pillow

    try:
        slip = slip_of(config, code)
        if slip is None:
            raise DeskError(
                f"Booking {code} tidak ada atau tidak berlaku lagi (dibatalkan, dipakai,"
                " atau lewat waktunya): slip tidak dicetak."
            )
        return pdf_bytes(pages([slip], config.office.name))
    except (FileNotFoundError, RuntimeError) as exc:
        raise DeskError(f"Slip tidak bisa dibuat: {exc}") from None


@dataclass(frozen=True, slots=True)
class UnitSync:
    """One unit as the office has heard from it: per visit the last item applied."""

    unit: str
    prefix: str
    visits: list[tuple[str, int, str]]  # visit id, last seq applied, when (UTC ISO)

    @property
    def last_heard(self) -> str | None:
        return max((at for _v, _s, at in self.visits), default=None)


def sync_state(config: Config) -> list[UnitSync]:
    """Each [mobile] unit with what the office has applied of its visits."""
    rows: list[tuple[str, str, int, str]] = []
    with contextlib.suppress(FileNotFoundError, RuntimeError):  # no store yet: nothing heard
        reader = StoreReader(config.store_path)
        try:
            rows = reader.db.execute(
                "SELECT unit, visit, acked, at FROM sync_acks ORDER BY unit, at DESC"
            ).fetchall()
        finally:
            reader.close()
    out = []
    for unit, prefix in sorted(config.units.items()):
        visits = [(v, int(seq), str(at)) for u, v, seq, at in rows if u == unit]
        out.append(UnitSync(unit, prefix, visits))
    return out
