"""The admin forms: checked here, then sent as the web device's commands for a logged-in user.

A form that is wrong says why in Bahasa Indonesia and sends nothing. What the
queue service refuses comes back with its own message. Every command sent
is written to the web's audit with the user, the command id (which the
store's command table keeps too) and the outcome.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from antrean.config import Config
from web.live import NoAnswer, NotConnected, OfficeLive
from web.users import User, Users

MAX_REASON = 120
MAX_RUNNING_TEXT = 300
MAX_CARDS = 100000


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


def service_command(config: Config, form: dict[str, str]) -> tuple[str, dict[str, Any], str]:
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


def running_text_command(form: dict[str, str]) -> tuple[str, dict[str, Any], str]:
    text = clean_text(form.get("text", ""), "Teks berjalan", MAX_RUNNING_TEXT, required=False)
    return "set_running_text", {"text": text}, text


def delivery_command(form: dict[str, str], user: User) -> tuple[str, dict[str, Any], str]:
    raw = form.get("count", "").strip()
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_CARDS:
        raise FormError(f"Jumlah blanko harus bilangan bulat 1 sampai {MAX_CARDS}.")
    note = clean_text(form.get("note", ""), "Nomor surat jalan", 80)
    args = {"count": int(raw), "note": note, "user": user.name}
    return "stock_receive", args, f"{raw} blanko, {note}"


SUCCESS = {
    "service_open": "Layanan {service} dibuka.",
    "service_close": "Layanan {service} ditutup.",
    "set_running_text": "Teks berjalan disimpan.",
    "stock_receive": "Kiriman {count} blanko dicatat.",
}


def run(
    live: OfficeLive, users: Users, user: User, command: tuple[str, dict[str, Any], str]
) -> Outcome:
    """Sends one checked command and audits it (blocking: run it off the event loop)."""
    action, args, detail = command
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
