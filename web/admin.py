"""The admin forms: checked here, then sent as the web device's commands for a logged-in user.

A form that is wrong says why in Bahasa Indonesia and sends nothing. What the
queue service refuses comes back with its own message. Every command sent
carries the user (`user`), which the queue service keeps in its store's
audit table or stock ledger, and is written to the web's audit with the
user, the command id (which the store's command table keeps too) and the outcome.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from antrean.booking import clean_nik, masked, nik_problem, parse_day
from antrean.config import Config
from antrean.visits import KIND_LABEL, VisitKind
from web.live import NoAnswer, NotConnected, OfficeLive
from web.users import User, Users

MAX_REASON = 120
MAX_RUNNING_TEXT = 300
MAX_CARDS = 100000
MAX_EXPECTED = 10_000
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_BOOKING_CODE = re.compile(r"^\d{8}$")
_PHONE = re.compile(r"^\+?[\d -]{6,20}$")
Command = tuple[str, dict[str, Any], str]  # action, its args, what the audit says
# A form's checker: (the office, the posted form, the logged-in user) -> its command.
Builder = Callable[[Config, dict[str, str], "User"], Command]


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    message: str


class FormError(ValueError):
    """A form value that is wrong; the message says what to fix."""


def clean_text(value: str, what: str, limit: int, required: bool = True) -> str:
    """One line of text: no control characters, trimmed, not too long."""
    text = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in value)
    text = " ".join(text.split())
    if required and not text:
        raise FormError(f"{what} wajib diisi.")
    if len(text) > limit:
        raise FormError(f"{what} paling banyak {limit} karakter (sekarang {len(text)}).")
    return text


def service_command(config: Config, form: dict[str, str], _user: User) -> Command:
    """(action, args, what for the audit) of the open/close form."""
    code = form.get("service", "")
    service = config.service(code)
    if service is None:
        raise FormError("Pilih layanan yang ada.")
    wanted = form.get("do")
    if wanted == "open":
        return "service_open", {"service": code}, f"buka {code}"
    if wanted == "close":
        reason = clean_text(form.get("reason", ""), "Alasan penutupan", MAX_REASON)
        return "service_close", {"service": code, "reason": reason}, f"tutup {code}: {reason}"
    raise FormError("Pilih buka atau tutup.")


def running_text_command(_config: Config, form: dict[str, str], _user: User) -> Command:
    text = clean_text(form.get("text", ""), "Teks berjalan", MAX_RUNNING_TEXT, required=False)
    return "set_running_text", {"text": text}, text


def card_count(form: dict[str, str], signed: bool = False) -> int:
    """The form's `count` of blank cards: 1..MAX_CARDS, or +/- that for a correction."""
    raw = form.get("count", "").strip().replace("\u2212", "-")
    digits = raw[1:] if signed and raw[:1] in "+-" else raw
    if not digits.isdigit() or not 1 <= int(digits) <= MAX_CARDS:
        if signed:
            raise FormError(
                f"Koreksi harus bilangan bulat bukan nol, -{MAX_CARDS} sampai +{MAX_CARDS}"
                " (mis. -3 bila blanko kurang 3)."
            )
        raise FormError(f"Jumlah blanko harus bilangan bulat 1 sampai {MAX_CARDS}.")
    return -int(digits) if raw.startswith("-") else int(digits)


def delivery_command(_config: Config, form: dict[str, str], _user: User) -> Command:
    count = card_count(form)
    note = clean_text(form.get("note", ""), "Nomor surat jalan", 80)
    return "stock_receive", {"count": count, "note": note}, f"{count} blanko, {note}"


def spoil_command(_config: Config, form: dict[str, str], _user: User) -> Command:
    count = card_count(form)
    reason = clean_text(form.get("reason", ""), "Alasan blanko rusak", MAX_REASON)
    return "stock_spoil", {"count": count, "reason": reason}, f"{count}: {reason}"


def adjust_command(_config: Config, form: dict[str, str], _user: User) -> Command:
    count = card_count(form, signed=True)
    reason = clean_text(form.get("reason", ""), "Alasan koreksi", MAX_REASON)
    return "stock_adjust", {"count": count, "reason": reason}, f"{count:+d}: {reason}"


def counter_command(config: Config, form: dict[str, str], _user: User) -> Command:
    raw = form.get("counter", "")
    counter = config.counters_by_number.get(int(raw)) if raw.isdigit() else None
    if counter is None:
        raise FormError("Pilih loket yang ada.")
    wanted = form.get("do")
    if wanted not in ("open", "close"):
        raise FormError("Pilih buka atau tutup.")
    words = "buka" if wanted == "open" else "tutup"
    return f"counter_{wanted}", {"counter": counter.number}, f"{words} {counter.name}"


def visit_command(config: Config, form: dict[str, str], _user: User) -> Command:
    """visit_plan from the form; what the service checks too is checked here first."""
    unit = form.get("unit", "")
    if unit not in config.units:
        raise FormError("Pilih unit keliling yang terdaftar ([mobile] units).")
    try:
        day = date.fromisoformat(form.get("day", "").strip())
    except ValueError:
        raise FormError("Tanggal kunjungan wajib diisi (TTTT-BB-HH).") from None
    start, end = form.get("start", "").strip(), form.get("end", "").strip()
    if not (_CLOCK.match(start) and _CLOCK.match(end)) or start >= end:
        raise FormError("Jam mulai dan selesai: JJ:MM, mulai sebelum selesai (mis. 08:00-12:00).")
    if form.get("kind") not in set(VisitKind):
        raise FormError("Pilih jenis tempat.")
    place = clean_text(form.get("place", ""), "Nama tempat", 80)
    kelurahan = clean_text(form.get("kelurahan", ""), "Kelurahan", 60)
    organiser = clean_text(form.get("organiser", ""), "Penghubung", 80, required=False)
    raw = form.get("expected", "").strip() or "0"
    if not raw.isdigit() or int(raw) > MAX_EXPECTED:
        raise FormError(f"Perkiraan warga: bilangan bulat 0 sampai {MAX_EXPECTED}.")
    args = {
        "unit": unit, "day": day.isoformat(), "start": start, "end": end, "place": place,
        "kind": form["kind"], "kelurahan": kelurahan, "desa": form.get("desa") == "1",
        "organiser": organiser, "expected": int(raw),
    }  # fmt: skip
    label = KIND_LABEL[VisitKind(form["kind"])]
    return "visit_plan", args, f"{unit} {day} {start}-{end} {label} {place}, {kelurahan}"


def visit_cancel_command(_config: Config, form: dict[str, str], _user: User) -> Command:
    visit = form.get("id", "").strip()
    if not visit or len(visit) > 80:
        raise FormError("Pilih kunjungan yang dibatalkan.")
    return "visit_cancel", {"id": visit}, visit


def booking_code(value: str) -> str:
    code = "".join(value.split())
    if not _BOOKING_CODE.match(code):
        raise FormError("Kode booking 8 angka (lihat pesan atau surat undangan warga).")
    return code


def booking_cancel_command(_config: Config, form: dict[str, str], _user: User) -> Command:
    code = booking_code(form.get("code", ""))
    return "cancel_booking", {"code": code}, code


def phone_booking(config: Config, form: dict[str, str]) -> dict[str, str]:
    """The `book` args of the phone-call form, checked as a list row is (antrean/booking.py).

    A wrong NIK's message never quotes it: the page must not echo it back.
    """
    name = clean_text(form.get("name", ""), "Nama", 80)
    nik = clean_nik(form.get("nik", ""))
    problem = nik_problem(nik)
    if problem:
        shown = f" ({masked(nik)})" if nik else ""
        raise FormError(f"{problem}{shown}. Periksa lagi.")
    phone = clean_text(form.get("phone", ""), "Nomor HP", 20, required=False)
    if phone and not _PHONE.match(phone):
        raise FormError("Nomor HP hanya angka (boleh diawali +), 6 sampai 20 karakter.")
    kelurahan = clean_text(form.get("kelurahan", ""), "Kelurahan", 60)
    service = form.get("service", "")
    if service not in config.booking.capacity:
        raise FormError("Pilih layanan yang menerima booking.")
    args = {"name": name, "nik": nik, "kelurahan": kelurahan, "service": service}
    if phone:
        args["phone"] = phone
    raw = form.get("day", "").strip()
    if raw:
        day = parse_day(raw)
        if day is None:
            raise FormError("Tanggal yang diinginkan: TTTT-BB-HH atau HH/BB/TTTT, atau kosongkan.")
        args["day"] = day.isoformat()
    return args


SUCCESS = {
    "service_open": "Layanan {service} dibuka.",
    "service_close": "Layanan {service} ditutup.",
    "set_running_text": "Teks berjalan disimpan.",
    "stock_receive": "Kiriman {count} blanko dicatat.",
    "stock_spoil": "{count} blanko rusak dicatat.",
    "stock_adjust": "Koreksi {count:+d} blanko dicatat.",
    "counter_open": "Loket {counter} dibuka.",
    "counter_close": "Loket {counter} ditutup.",
    "visit_plan": "Kunjungan ke {place} tanggal {day} dijadwalkan.",
    "visit_cancel": "Kunjungan {id} dibatalkan.",
    "cancel_booking": "Booking {code} dibatalkan.",
}


def run(live: OfficeLive, users: Users, user: User, command: Command) -> Outcome:
    """Sends one checked command as the user and audits it (blocking: run off the event loop)."""
    action, form_args, detail = command
    args = {**form_args, "user": user.name}  # the store's audit names the user too
    cmd_id = live.link.new_id()
    try:
        reply = live.link.request(action, args, timeout=5.0, cmd_id=cmd_id)
    except (NotConnected, NoAnswer):
        users.audit(user.name, action, detail, cmd_id, "no_answer")
        return Outcome(False, "Layanan antrean tidak menjawab. Tidak ada yang diubah; coba lagi.")
    if not reply.ok:
        users.audit(user.name, action, detail, cmd_id, f"refused: {reply.code}")
        return Outcome(False, reply.message or f"Ditolak ({reply.code}).")
    users.audit(user.name, action, detail, cmd_id, "ok")
    return Outcome(True, SUCCESS[action].format(**args))
