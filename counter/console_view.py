"""What the counter console shows, worked out from retained state and outcomes (no Kivy).

The Kivy console (console.py, console.kv) only copies these strings into
widgets, so the wording and the rules are tested without a window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from antrean.config import Config
from antrean.visits import area, hours_text, visit_from_dict
from counter.agent import BUSY, PressResult

NOBODY = "—"
UNKNOWN_KELURAHAN = "Tidak diketahui"  # a recording completed without a kelurahan
# Why a blank card was spoiled: the reasons staff pick on the console ("Kartu rusak").
SPOIL_REASONS = (
    "Cetak gagal / printer macet",
    "Hasil cetak buram atau bergaris",
    "Data salah tercetak",
    "Blanko cacat dari pusat",
)


@dataclass(frozen=True, slots=True)
class WaitingLine:
    code: str
    name: str
    waiting: int
    priority: int

    @property
    def text(self) -> str:
        prio = f" ({self.priority} prioritas)" if self.priority else ""
        return f"{self.code} · {self.name}: {self.waiting} menunggu{prio}"

    @property
    def service(self) -> str:
        """The first line on the console: the service (may be shortened to fit)."""
        return f"{self.code} · {self.name}"

    @property
    def figures(self) -> str:
        """The second line: the counts staff need, whole (markup)."""
        prio = f"  ·  {self.priority} prioritas" if self.priority else ""
        return f"[b]{self.waiting}[/b] menunggu{prio}"


@dataclass(slots=True)
class ConsoleView:
    """The console's model: one counter, its services, its current ticket, the last message."""

    config: Config
    counter: int
    online: bool = False
    open: bool | None = None  # None until state/counter/N arrives
    current: dict[str, Any] | None = None
    waiting: dict[str, WaitingLine] = field(default_factory=dict)
    stock: dict[str, Any] | None = None  # state/stock, for a counter of a card service
    visit: dict[str, Any] | None = None  # a mobile unit's open visit (state/visits), if any
    message: str = ""
    message_is_error: bool = False

    @property
    def services(self) -> tuple[str, ...]:
        found = self.config.counter(self.counter)
        return found.services if found else ()

    @property
    def title(self) -> str:
        found = self.config.counter(self.counter)
        name = found.name if found else f"Loket {self.counter}"
        return f"{name} · {self.config.office.name}"

    @property
    def current_code(self) -> str:
        return str(self.current["code"]) if self.current else NOBODY

    @property
    def current_detail(self) -> str:
        if not self.current:
            return "Tidak ada yang sedang dilayani" if self.open else "Loket tutup"
        service = self.config.service(str(self.current.get("service")))
        parts = [service.name if service else str(self.current.get("service"))]
        if self.current.get("priority"):
            parts.append("prioritas")
        recalls = int(self.current.get("recalls") or 0)
        if recalls:
            parts.append(f"dipanggil ulang {recalls} kali")
        return " · ".join(parts)

    @property
    def waiting_rows(self) -> list[WaitingLine]:
        return [self.waiting[code] for code in self.services if code in self.waiting]

    @property
    def waiting_lines(self) -> list[str]:
        return [row.text for row in self.waiting_rows]

    @property
    def link_text(self) -> str:
        return "Terhubung" if self.online else "Terputus dari server antrean"

    @property
    def open_text(self) -> str:
        if self.open is None:
            return "…"
        if self.open:
            return "[b]Loket BUKA[/b]\n[size=12sp]ketuk untuk menutup[/size]"
        return "[b]Loket TUTUP[/b]\n[size=12sp]ketuk untuk membuka[/size]"

    @property
    def uses_cards(self) -> bool:
        """The counter serves a service that uses a blank card per resident (printing)."""
        return any(s.uses_card for s in self.config.services if s.code in self.services)

    @property
    def stock_text(self) -> str:
        """The stock line (two lines, markup): available, balance, days left; "" elsewhere."""
        if not self.uses_cards:
            return ""
        s = self.stock
        if s is None:
            return "Blanko KTP-el: …"
        state = (
            "  ·  [b]HABIS[/b]"
            if s.get("out")
            else "  ·  [b]menipis[/b]"
            if s.get("warning")
            else ""
        )
        days = s.get("days_left")
        left = "" if days is None else f"  ·  cukup {days} hari"
        return f"Blanko KTP-el: [b]{s['available']}[/b] tersedia{state}\n{s['balance']} stok{left}"

    @property
    def stock_level(self) -> str:
        """ "out", "warning" (at or under the threshold) or "ok": the line's colour."""
        if not self.stock:
            return "ok"
        return "out" if self.stock.get("out") else "warning" if self.stock.get("warning") else "ok"

    @property
    def visit_text(self) -> str:
        """The band under the title while the unit numbers for a visit; "" otherwise.

        Staff at a posyandu see that their tickets count for the visit (and
        for which one) without asking the technician.
        """
        if self.visit is None:
            return ""
        v = visit_from_dict(self.visit)
        return f"[b]Kunjungan dibuka[/b]: {v.place_name} · {area(v)} · {hours_text(v)}"

    @property
    def needs_kelurahan(self) -> bool:
        """The current ticket is a recording: Selesai asks for the resident's kelurahan."""
        service = self.config.service(str(self.current.get("service"))) if self.current else None
        return bool(service and service.recording and self.kelurahan_choices())

    def kelurahan_choices(self) -> list[str]:
        """The kelurahan buttons at a recording's completion, in the config's order."""
        return list(self.config.drive.targets)

    def transfer_choices(self) -> list[tuple[str, str]]:
        """(code, label) of every service the current ticket can move to (not its own)."""
        own = self.current.get("service") if self.current else None
        return [(s.code, f"{s.code} · {s.name}") for s in self.config.services if s.code != own]

    def call_letters(self) -> list[str]:
        """Service letters for the call-a-number pad: every service (a transferred ticket too)."""
        return [s.code for s in self.config.services]

    # ---- updates ------------------------------------------------------------------

    def on_state(self, path: str, body: dict[str, Any]) -> bool:
        """Takes one retained state payload; True when something shown changed."""
        if path == f"counter/{self.counter}":
            self.open = bool(body.get("open"))
            current = body.get("current")
            self.current = current if isinstance(current, dict) else None
            return True
        if path.startswith("service/") and path.removeprefix("service/") in self.services:
            code = path.removeprefix("service/")
            service = self.config.service(code)
            self.waiting[code] = WaitingLine(
                code,
                service.name if service else str(body.get("name", code)),
                int(body.get("waiting") or 0),
                int(body.get("waiting_priority") or 0),
            )
            return True
        if path == "stock":
            self.stock = body
            return self.uses_cards
        if path == "visits":  # `open` is null on an office, and on a unit between visits
            opened = body.get("open")
            visits = body.get("visits") or []
            self.visit = next((v for v in visits if opened and v.get("id") == opened), None)
            return True
        return False

    def on_outcome(self, outcome: PressResult) -> None:
        # A busy press is not news on the console: the command in flight answers soon.
        if outcome.busy and self.message and not self.message_is_error:
            return
        self.message = outcome.message
        self.message_is_error = not outcome.ok and outcome.code != BUSY

    def sending(self, label: str) -> None:
        self.message = f"{label}…"
        self.message_is_error = False
