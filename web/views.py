"""What the dashboard shows, worked out from the retained state (plain Python, no web).

Problems come first, each in words a person acts on; a problem stays while
its cause is in the retained state, so it goes away when it is resolved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from antrean.config import Config

PRINTER_WORDS = {
    "ok": "baik",
    "paper_low": "kertas hampir habis",
    "paper_out": "kertas habis",
    "cover_open": "tutup printer terbuka",
    "offline": "printer tidak terhubung",
    "unknown": "status tidak diketahui",
}
PRINTER_FIX = {
    "paper_low": "Siapkan gulungan kertas baru di dekat kios {device}.",
    "paper_out": "Ganti gulungan kertas printer kios {device}: kios tidak bisa mencetak nomor.",
    "cover_open": "Tutup penutup printer kios {device}.",
    "offline": "Periksa kabel dan daya printer kios {device}.",
}
ROLE_WORDS = {"kiosk": "Kios", "board": "Papan", "counter": "Loket", "admin": "Admin", "web": "Web"}


@dataclass(frozen=True, slots=True)
class Problem:
    what: str  # what is wrong
    fix: str  # what a person does about it
    level: str = "warn"  # warn or stop (residents cannot be served)


@dataclass(slots=True)
class Dashboard:
    office: str
    queue_online: bool
    running_text: str
    problems: list[Problem] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)
    counters: list[dict[str, Any]] = field(default_factory=list)
    devices: list[dict[str, Any]] = field(default_factory=list)
    stock: dict[str, Any] | None = None


def dashboard(
    config: Config,
    states: dict[str, dict[str, Any]],
    devices: dict[str, dict[str, Any]],
    queue_online: bool,
) -> Dashboard:
    """The dashboard from the retained state and the devices' presence."""
    office = states.get("office", {})
    view = Dashboard(
        office=str(office.get("name") or config.office.name),
        queue_online=queue_online,
        running_text=str(office.get("running_text") or ""),
        stock=states.get("stock"),
    )
    if not queue_online:
        view.problems.append(
            Problem(
                "Layanan antrean tidak berjalan: kios tidak bisa memberi nomor.",
                "Hubungi teknisi: periksa hub (antrean doctor).",
                "stop",
            )
        )
    for s in config.services:
        st = states.get(f"service/{s.code}") or {"code": s.code, "name": s.name}
        view.services.append(st)
    for c in config.counters:
        view.counters.append(states.get(f"counter/{c.number}") or {"number": c.number})
    view.devices = _devices(config, devices, view.problems)
    _stock_problem(view)
    return view


def _devices(
    config: Config, presence: dict[str, dict[str, Any]], problems: list[Problem]
) -> list[dict[str, Any]]:
    rows = []
    for d in config.devices:
        status = presence.get(d.id, {})
        online = bool(status.get("online"))
        printer = status.get("printer")
        voice = status.get("voice")
        rows.append(
            {
                "id": d.id,
                "role": ROLE_WORDS.get(d.role.value, d.role.value),
                "online": online,
                "printer": PRINTER_WORDS.get(str(printer), str(printer)) if printer else None,
                "printer_ok": printer in (None, "ok"),
                "voice": None if voice is None else ("baik" if voice == "ok" else str(voice)),
            }
        )
        if d.role.value in ("kiosk", "board") and not online:
            what = "Kios" if d.role.value == "kiosk" else "Papan antrean"
            problems.append(
                Problem(
                    f"{what} {d.id} tidak terhubung.",
                    f"Periksa daya dan jaringan {d.id}, lalu nyalakan ulang.",
                    "stop" if d.role.value == "kiosk" else "warn",
                )
            )
        elif online and printer in PRINTER_FIX:
            problems.append(
                Problem(
                    f"Printer kios {d.id}: {PRINTER_WORDS[printer]}.",
                    PRINTER_FIX[printer].format(device=d.id),
                    "warn" if printer == "paper_low" else "stop",
                )
            )
    return rows


def _stock_problem(view: Dashboard) -> None:
    stock = view.stock
    if not stock or not stock.get("services"):
        return
    if stock.get("out"):
        view.problems.append(
            Problem(
                "Blanko KTP-el habis: layanan pencetakan tidak menerima nomor.",
                "Catat kiriman blanko di halaman Admin begitu blanko tiba.",
                "stop",
            )
        )
    elif stock.get("warning"):
        days = stock.get("days_left")
        left = f", cukup untuk sekitar {days} hari" if days is not None else ""
        view.problems.append(
            Problem(
                f"Blanko KTP-el tinggal {stock.get('available')}{left}.",
                "Minta kiriman blanko ke Disdukcapil.",
            )
        )


def local_time(at: str, zone: ZoneInfo) -> str:
    """An ISO time as the office reads it: "2026-11-26 09:05:12"."""
    try:
        return datetime.fromisoformat(at).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return at


def minutes(seconds: object) -> str:
    """A wait in words: "±12 menit"."""
    if not isinstance(seconds, int | float) or seconds <= 0:
        return "-"
    return f"±{max(1, round(seconds / 60))} menit"
