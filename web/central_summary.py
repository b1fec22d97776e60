"""/ringkasan: the drive per kabupaten and per kecamatan, from each office's state/drive.

An office is one kecamatan; its kabupaten is the central config's
[central.kabupaten]. "This week" is the 7 business days up to each office's
day (state/drive's `week`), so the rate does not fall to nothing on a
Monday; "weeks to go" is what remains at that rate.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from html import escape
from typing import Any

from central.ingest import Conn

NO_KABUPATEN = "(tanpa kabupaten)"
_DRIVE = "SELECT office, body FROM office_state WHERE office = ANY(%s) AND topic = %s"
CSV_HEADER = ("tingkat", "kabupaten", "kantor", "nama", "target", "terekam", "minggu_ini",
              "sisa", "minggu_lagi")  # fmt: skip


@dataclass(slots=True)
class DriveLine:
    """One bar and one CSV row: a kecamatan (an office), a kabupaten or the province."""

    level: str  # "kecamatan", "kabupaten", "provinsi"
    kabupaten: str
    office: str
    name: str
    target: int = 0
    recorded: int = 0
    week: int = 0
    reporting: bool = True

    @property
    def remaining(self) -> int:
        return max(self.target - self.recorded, 0)

    @property
    def weeks(self) -> float | None:
        """Weeks to the target at this week's rate; None when nothing was recorded this week."""
        return round(self.remaining / self.week, 1) if self.week else None

    @property
    def share(self) -> float:
        return min(self.recorded / self.target, 1.0) if self.target else 0.0

    def add(self, other: DriveLine) -> None:
        self.target += other.target
        self.recorded += other.recorded
        self.week += other.week


def drive_lines(conn: Conn, offices: tuple[str, ...], kabupaten: dict[str, str]) -> list[DriveLine]:
    """Per kabupaten (by name) its row then its kecamatan's; the province's row last."""
    drive: dict[str, dict[str, Any]] = dict(conn.execute(_DRIVE, (list(offices), "drive")))
    names: dict[str, dict[str, Any]] = dict(conn.execute(_DRIVE, (list(offices), "office")))
    groups: dict[str, list[DriveLine]] = {}
    for office in offices:
        kab = kabupaten.get(office, NO_KABUPATEN)
        body = drive.get(office) or {}
        name = str((names.get(office) or {}).get("name") or office)
        line = DriveLine("kecamatan", kab, office, name,
                         int(body.get("target") or 0), int(body.get("recorded") or 0),
                         int(body.get("week") or 0), office in drive)  # fmt: skip
        groups.setdefault(kab, []).append(line)
    out, province = [], DriveLine("provinsi", "", "", "Provinsi")
    for kab in sorted(groups, key=lambda k: (k == NO_KABUPATEN, k)):
        total = DriveLine("kabupaten", kab, "", kab)
        for line in groups[kab]:
            total.add(line)
        province.add(total)
        out += [total, *sorted(groups[kab], key=lambda line: line.name)]
    return [*out, province]


def csv_text(lines: list[DriveLine]) -> str:
    """The same numbers as the page, one row per line; an unknown rate is an empty cell."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_HEADER)
    for x in lines:
        weeks = "" if x.weeks is None else f"{x.weeks:.1f}"
        w.writerow((x.level, x.kabupaten, x.office, x.name, x.target, x.recorded, x.week,
                    x.remaining, weeks))  # fmt: skip
    return buf.getvalue()


def bars(lines: list[DriveLine]) -> str:
    """Inline SVG: per line, recorded against its target (green), this week's part darker."""
    row, left, width = 24, 210, 300
    out = [f"<svg class='chart drive' role='img' aria-label='Perekaman terhadap target' "
           f"width='{left + width + 170}' height='{row * len(lines) + 8}'>"]  # fmt: skip
    for i, x in enumerate(lines):
        y = 4 + row * i
        week = min(x.week / x.target, x.share) if x.target else 0.0
        bold = " font-weight='700'" if x.level != "kecamatan" else ""
        out.append(
            f"<text x='0' y='{y + 13}'{bold}>{escape(x.name)}</text>"
            f"<rect x='{left}' y='{y}' width='{width}' height='16' fill='#e3e8ee'/>"
            f"<rect x='{left}' y='{y}' width='{width * x.share:.1f}' height='16' fill='#8fd19e'/>"
            f"<rect x='{left + width * (x.share - week):.1f}' y='{y}' "
            f"width='{width * week:.1f}' height='16' fill='#2f9e44'/>"
            f"<text x='{left + width + 6}' y='{y + 13}'>{x.recorded}/{x.target}</text>"
        )
    out.append("</svg>")
    return "".join(out)
