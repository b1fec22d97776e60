"""The booking desk and the units' sync, for the admin pages (blocking: run off the event loop).

A booking list goes the same path as `antrean booking import`
(antrean_tools/booking_cli.py: read_list checks and hashes the NIKs with the
office secret, send books them through the queue service in chunks) with the
web device as the sender. The upload is held in a memory-only file
(memfd), so no full NIK is ever written to the hub's disk.

A reprinted slip is antrean booking slips' page with one slip, made in
memory from the read-only store and sent as it is: no file holds the name.

A unit's sync state is what the office has applied of it: the store's
sync_acks (antrean/sync.py), read with the read-only store; a unit's page
sets that against the outbox heads the unit publishes (retained
sync/{unit}/status) and shows the office's retained ack's refusal.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from antrean.booking import SecretError, office_secret
from antrean.config import Config
from antrean.store import StoreReader, sync_conflicts
from antrean.sync_items import SyncConflict
from antrean.visits import Visit, visit_from_dict
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


# The sync refusals (antrean/sync.py, sync_items.py) in the words of the office's staff.
REFUSAL_WORDS = {
    "unknown_unit": "Unit ini tidak terdaftar di kantor ini ([mobile] units di konfigurasi).",
    "other_office": "Unit ini disiapkan untuk kantor lain: periksa office id di konfigurasi unit.",
    "bad_prefix": "Awalan kode unit tidak sama dengan yang dikenal kantor ([mobile] units).",
    "unknown_visit": "Kunjungan ini tidak dijadwalkan kantor untuk unit ini.",
    "too_large": "Kiriman unit terlalu besar.",
    "bad_item": "Ada data dari unit yang tidak lolos pemeriksaan; tidak ada yang diterapkan.",
}


@dataclass(frozen=True, slots=True)
class VisitSync:
    """One visit of a unit: what the unit holds (its outbox head) against what arrived."""

    visit: Visit
    head: int | None  # None: the unit has not told the office (no status heard)
    acked: int

    @property
    def waiting(self) -> int | None:
        return None if self.head is None else max(self.head - self.acked, 0)


@dataclass(frozen=True, slots=True)
class UnitState:
    """A unit's page: last seen, the visits not all at the office, items waiting, refusal."""

    unit: str
    prefix: str
    last_seen: str | None  # UTC ISO: the unit's status or the office's last chunk of it
    visits: list[VisitSync]
    refusal: str | None  # in Bahasa Indonesia, with the visit and item it stopped at
    # Bookings redeemed on the unit that the office could not mark, newest first.
    conflicts: list[SyncConflict] = field(default_factory=list)

    @property
    def waiting(self) -> int | None:
        """Items the office has not applied; None while the unit has not told its heads."""
        known = [v.waiting for v in self.visits if v.waiting is not None]
        return sum(known) if known or self.heard else None

    @property
    def heard(self) -> bool:
        return any(v.head is not None for v in self.visits) or self.last_seen is not None

    @property
    def unsynced(self) -> list[VisitSync]:
        """Visits held open, closed or with items on the unit that are not all here."""
        return [v for v in self.visits if v.waiting or (v.head is None and v.acked == 0
                and v.visit.status.value in ("open", "closed"))]  # fmt: skip


def unit_state(
    config: Config, unit: str, ack: dict[str, Any] | None, status: dict[str, Any] | None
) -> UnitState:
    """The unit's state from the read-only store and the retained sync ack and status."""
    visits: list[Visit] = []
    acked: dict[str, tuple[int, str]] = {}
    conflicts: list[SyncConflict] = []
    with contextlib.suppress(FileNotFoundError, RuntimeError):  # no store yet: nothing heard
        reader = StoreReader(config.store_path)
        try:
            db = reader.db
            found = db.execute("SELECT body FROM visits WHERE unit = ? ORDER BY day", (unit,))
            visits = [visit_from_dict(json.loads(body)) for (body,) in found]
            for visit, seq, at in db.execute(
                "SELECT visit, acked, at FROM sync_acks WHERE unit = ?", (unit,)
            ):
                acked[visit] = (int(seq), str(at))
            conflicts = sync_conflicts(db, unit)[::-1]
        finally:
            reader.close()
    heads = _heads(status)
    rows = [VisitSync(v, heads.get(v.id), acked.get(v.id, (0, ""))[0]) for v in visits]
    times = [at for _s, at in acked.values() if at]
    # The ack's own time is when it was published (also at every office start),
    # so it says the unit was heard only when it carries a refusal of a chunk.
    heard = [status, ack if ack and ack.get("refused") else None]
    times += [str(b["at"]) for b in heard if b and isinstance(b.get("at"), str)]
    refusal = _refusal_words(ack)
    return UnitState(unit, config.units[unit], _latest(times), rows, refusal, conflicts)


def _heads(status: dict[str, Any] | None) -> dict[str, int]:
    heads = (status or {}).get("heads")
    if not isinstance(heads, dict):
        return {}
    return {str(v): n for v, n in heads.items() if isinstance(n, int)}


def _latest(times: list[str]) -> str | None:
    """The latest of ISO times written with different offsets (the store's and the acks')."""
    parsed = []
    for at in times:
        with contextlib.suppress(ValueError):
            parsed.append(datetime.fromisoformat(at).astimezone(UTC))
    return max(parsed).isoformat(timespec="seconds") if parsed else None


def _refusal_words(ack: dict[str, Any] | None) -> str | None:
    refused = (ack or {}).get("refused")
    if not isinstance(refused, dict):
        return None
    code = str(refused.get("code", ""))
    words = REFUSAL_WORDS.get(code, f"Ditolak kantor ({code}).")
    if code == "other_office" and isinstance(refused.get("message"), str):
        words = refused["message"]  # the office wrote it for staff: both office ids and the fix
    where = [f"kunjungan {refused['visit']}"] if refused.get("visit") else []
    where += [f"item {refused['seq']}"] if refused.get("seq") is not None else []
    return f"{words} ({', '.join(where)}; kode {code})" if where else f"{words} (kode {code})"
