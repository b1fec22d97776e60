"""The central web's office table, from the tables the central service fills (no web here).

Per office: its retained `state/...` (office_state; state/drive for the
drive's target and recordings, state/ikm for the month's survey from the
office web), its devices' presence
and the `served` events of its business day (its state/office's `day`; else
today). Offices that need a person come first: a
flagged office (garbage kept aside), then the most "stop" problems (a kiosk
offline, a printer that cannot print, cards out), then the longest wait.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from central.ingest import Conn
from web.views import PRINTER_FIX

_STATE = "SELECT office, topic, body FROM office_state WHERE office = ANY(%s)"
_PRESENCE = "SELECT office, device, body FROM presence WHERE office = ANY(%s)"
_FLAGS = "SELECT office, flagged FROM offices WHERE office = ANY(%s)"
_RECORDED = """
SELECT e.office, count(*)::int FROM events e
LEFT JOIN office_state s ON s.office = e.office AND s.topic = 'office'
WHERE e.office = ANY(%s) AND e.day = coalesce((s.body->>'day')::date, %s) AND e.kind = 'served'
  AND e.body->'ticket'->>'service' = ANY(%s)
GROUP BY e.office
"""


@dataclass(slots=True)
class OfficeRow:
    office: str
    name: str
    reporting: bool = False  # the centre has its state/office
    day: date | None = None  # its business day (state/office)
    queue_online: bool = False
    waiting: int = 0
    longest_wait_s: int = 0  # the largest estimated wait over its services
    counters_open: int = 0
    counters: int = 0
    offline: list[str] = field(default_factory=list)
    printers: list[str] = field(default_factory=list)  # "kiosk-1: paper_out"
    stock: int | None = None
    days_left: int | None = None
    stock_out: bool = False
    stock_warning: bool = False
    recorded_today: int = 0
    drive_target: int | None = None  # state/drive (issue 16): the office's own count
    drive_recorded: int = 0
    ikm_month: str | None = None  # state/ikm (issue 16): the office web's month so far
    ikm_value: float | None = None
    ikm_band: str | None = None
    ikm_responses: int = 0
    # per service (layanan) where the survey has it: code -> (responses, IKM, band)
    ikm_services: dict[str, tuple[int, float | None, str | None]] = field(default_factory=dict)
    flagged: str | None = None

    @property
    def ikm(self) -> tuple[float, str] | None:
        """(IKM, band) of the office's current month, or None without a response in it."""
        month = self.day.isoformat()[:7] if self.day else self.ikm_month
        if self.ikm_value is None or not self.ikm_band or self.ikm_month != month:
            return None  # a month that has ended is not "this month"
        return self.ikm_value, self.ikm_band

    @property
    def ikm_text(self) -> str:
        """'78,47 B' (Indonesian decimals), or an en dash."""
        return ikm_words(self.ikm)

    @property
    def ikm_by_service(self) -> dict[str, tuple[int, tuple[float, str]]]:
        """Per service with a response this month: (responses, (IKM, band)); {} for an ended one."""
        if self.ikm is None:  # the same month rule as the office's own IKM
            return {}
        return {
            code: (n, (value, letter))
            for code, (n, value, letter) in sorted(self.ikm_services.items())
            if n and value is not None and letter
        }

    @property
    def drive_share(self) -> float | None:
        """Recorded of the target, 0..100 (may pass 100), or None without a target."""
        if not self.drive_target:
            return None
        return round(100 * self.drive_recorded / self.drive_target, 1)

    @property
    def problems(self) -> list[str]:
        """What needs a person, in words (Bahasa Indonesia)."""
        words = []
        if self.flagged:
            words.append(f"Data ditahan: {self.flagged}")
        if not self.reporting:
            words.append("Belum melapor ke pusat")
        elif not self.queue_online:
            words.append("Layanan antrean mati")
        words += [f"{d} tidak terhubung" for d in self.offline]
        words += [f"Printer {p}" for p in self.printers]
        if self.stock_out:
            words.append("Blanko habis")
        elif self.stock_warning:
            words.append("Blanko hampir habis")
        return words

    @property
    def attention(self) -> tuple[int, int, int]:
        """Sort key, smallest first: flagged, then stops, then problems, then the longest wait."""
        stops = (not self.reporting) + (self.reporting and not self.queue_online) + self.stock_out
        stops += len(self.offline) + len(self.printers)
        return (0 if self.flagged else 1, -stops - len(self.problems), -self.longest_wait_s)


def ikm_words(ikm: tuple[float, str] | None) -> str:
    """'78,47 B' (Indonesian decimals), or an en dash."""
    if ikm is None:
        return "\u2013"
    value, letter = ikm
    return f"{value:.2f} {letter}".replace(".", ",")


def office_rows(
    conn: Conn, offices: tuple[str, ...], today: date, recording: tuple[str, ...]
) -> list[OfficeRow]:
    """Every configured office's row, those that need attention first."""
    rows = {o: OfficeRow(o, o) for o in offices}
    ids = list(offices)
    for office, topic, body in conn.execute(_STATE, (ids,)).fetchall():
        _state(rows[office], topic, body)
    for office, device, body in conn.execute(_PRESENCE, (ids,)).fetchall():
        _presence(rows[office], device, body)
    for office, flagged in conn.execute(_FLAGS, (ids,)).fetchall():
        rows[office].flagged = flagged
    for office, n in conn.execute(_RECORDED, (ids, today, list(recording))).fetchall():
        rows[office].recorded_today = n
    return sorted(rows.values(), key=lambda r: (r.attention, r.office))


_LAST = float("inf")  # a row with no value sorts after every row with one
# ?sort=KEY on /kantor: each column's key, its worst (most in need) first.
SORTS: dict[str, Any] = {
    "perhatian": lambda r: r.attention,
    "kantor": lambda r: r.name.casefold(),
    "menunggu": lambda r: -r.waiting,
    "tunggu": lambda r: -r.longest_wait_s,
    "loket": lambda r: r.counters_open,
    "perangkat": lambda r: -len(r.offline),
    "printer": lambda r: -len(r.printers),
    "blanko": lambda r: _LAST if r.days_left is None else r.days_left,
    "perekaman": lambda r: r.recorded_today,
    "target": lambda r: _LAST if r.drive_share is None else r.drive_share,
    "ikm": lambda r: _LAST if r.ikm is None else r.ikm[0],
}


def sort_rows(rows: list[OfficeRow], key: str, reverse: bool) -> list[OfficeRow]:
    """The rows by a column (unknown keys: attention first); ties by office id."""
    by = SORTS.get(key, SORTS["perhatian"])
    ordered = sorted(rows, key=lambda r: (by(r), r.office))
    return ordered[::-1] if reverse else ordered


def _state(row: OfficeRow, topic: str, body: dict[str, Any]) -> None:
    if topic == "office":
        row.reporting = True
        row.name = str(body.get("name") or row.office)
        row.day = date.fromisoformat(body["day"]) if body.get("day") else None
    elif topic.startswith("service/"):
        row.waiting += int(body.get("waiting") or 0)
        row.longest_wait_s = max(row.longest_wait_s, int(body.get("estimated_wait_s") or 0))
    elif topic.startswith("counter/"):
        row.counters += 1
        row.counters_open += bool(body.get("open"))
    elif topic == "drive":
        row.drive_target = int(body.get("target") or 0) or None
        row.drive_recorded = int(body.get("recorded") or 0)
    elif topic == "ikm":
        row.ikm_month = str(body.get("month") or "") or None
        row.ikm_value = float(body["ikm"]) if body.get("ikm") is not None else None
        row.ikm_band = str(body.get("band") or "") or None
        row.ikm_responses = int(body.get("responses") or 0)
        services = body.get("services")
        for code, part in (services if isinstance(services, dict) else {}).items():
            if isinstance(part, dict):  # an office web older than its centre may send none
                ikm = part.get("ikm")
                row.ikm_services[str(code)] = (
                    int(part.get("responses") or 0),
                    float(ikm) if ikm is not None else None,
                    str(part.get("band") or "") or None,
                )
    elif topic == "stock" and body.get("services"):
        row.stock = body.get("available")
        row.days_left = body.get("days_left")
        row.stock_out = bool(body.get("out"))
        row.stock_warning = bool(body.get("warning"))


def _presence(row: OfficeRow, device: str, body: dict[str, Any]) -> None:
    online = bool(body.get("online"))
    if device == "queue":
        row.queue_online = online
        return
    if device.startswith(("kiosk", "board")) and not online:
        row.offline.append(device)
    printer = body.get("printer")
    if online and printer in PRINTER_FIX:
        row.printers.append(f"{device}: {printer}")
