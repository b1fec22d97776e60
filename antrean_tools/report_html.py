"""`antrean report --html`: one self-contained page, charts as inline SVG, printable on A4.

No script, font or style is fetched: the page opens offline on any office PC.
"""

from __future__ import annotations

from html import escape

from antrean.config import Config
from antrean_tools.figures import BOOKING_COUNTS, Group, Period
from antrean_tools.report_cli import SOURCES, booking_rows, duration

_CSS = """
body { font-family: "DejaVu Sans", Arial, sans-serif; color: #1b1b1b; margin: 16px; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 15px; margin: 18px 0 6px; }
p.sub { margin: 0 0 10px; color: #555; font-size: 12px; }
table { border-collapse: collapse; font-size: 11px; margin-bottom: 8px; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #eef2f7; }
.kpis { display: flex; gap: 10px; flex-wrap: wrap; }
.kpi { border: 1px solid #ccd; border-radius: 6px; padding: 6px 10px; min-width: 110px; }
.kpi b { display: block; font-size: 18px; } .kpi span { font-size: 11px; color: #555; }
.warn { border-color: #c0392b; color: #c0392b; }
.grid { display: flex; gap: 18px; flex-wrap: wrap; }
svg text { font-size: 10px; fill: #333; }
@page { size: A4; margin: 12mm; }
@media print {
  body { margin: 0; } h2 { break-after: avoid; } .chart, table { break-inside: avoid; }
}
"""


def render_html(period: Period, config: Config) -> str:
    """The whole page."""
    one_day = period.start == period.end
    span = str(period.start) if one_day else f"{period.start} &ndash; {period.end}"
    total = period.groups["total"][""]
    s, drive = period.stock, period.progress
    lanes = [
        (LANES[k].split(" / ")[0], g.wait.median, g.wait.p90)
        for k, g in period.groups["booking"].items()
    ]
    parts = [
        "<!DOCTYPE html><html lang='id'><head><meta charset='utf-8'>",
        f"<title>Laporan {escape(config.office.name)} {span}</title><style>{_CSS}</style></head>",
        f"<body><h1>Laporan antrean — {escape(config.office.name)}</h1>",
        f"<p class='sub'>{span} ({config.office.timezone.key}). Waktu tunggu: dari ambil nomor"
        " sampai panggilan pertama; waktu layanan: dari panggilan terakhir sampai selesai."
        " Median dan p90: peringkat terdekat (nearest rank).</p>",
        "<div class='kpis'>",
        _kpi(total.issued, "nomor diambil / issued"),
        _kpi(total.served, "dilayani / served"),
        _kpi(total.no_shows, "tidak hadir / no-show"),
        _kpi(duration(total.wait.median), "tunggu median / wait median"),
        _kpi(duration(total.wait.p90), "tunggu p90 / wait p90"),
        _kpi(duration(total.service.median), "layanan median / service median"),
        _kpi(s["balance_end"], "sisa blanko / cards left"),
        _kpi(drive["kecamatan"]["since_start"], "terekam sejak awal / recorded"),
        _kpi(period.bookings["total"]["not_came"], "booking tidak datang / booked, not came"),
        "</div>",
        "<h2>Nomor per jam / Tickets by hour of issue</h2>",
        _bars(
            [(f"{int(k):02d}", g.issued) for k, g in period.groups["hour"].items()],
            "issued",
        ),
        "<div class='grid'><div><h2>Tunggu per layanan / Wait by service (menit)</h2>",
        _pairs(
            [
                (k, g.wait.median, g.wait.p90)
                for k, g in period.groups["service"].items()
                if g.wait.n
            ]
        ),
        "</div><div><h2>Progres perekaman / Drive progress</h2>",
        _progress(drive),
        "</div></div>",
        "<h2>Per layanan / By service</h2>",
        _table(period.groups["service"], {s.code: f"{s.code} {s.name}" for s in config.services}),
        "<h2>Per loket / By counter</h2>",
        _table(period.groups["counter"], {str(c.number): c.name for c in config.counters}),
        "<h2>Booking dan datang langsung / Booked and walk-in</h2>",
        _table(period.groups["booking"], LANES),
        "<div class='grid'><div>",
        _bookings(period),
        "</div><div>",
        _pairs(lanes, left=100),
        "</div></div>",
        *_visits(period, {s.code: f"{s.code} {s.name}" for s in config.services}),
        "<h2>Jam tersibuk / Busiest hours (tickets issued, day &times; hour)</h2>",
        _heat(period.day_hour),
        "<h2>Blanko KTP-el / Blank cards</h2>",
        f"<p class='sub'>diterima {s['received']}, terpakai {s['used']}, rusak {s['spoiled']},"
        f" koreksi {s['corrections']:+d}, sisa akhir periode {s['balance_end']}</p>",
        _drive_table(drive),
        "</body></html>",
    ]
    return "\n".join(parts)


LANES = {"booked": "booking / booked", "walk_in": "datang langsung / walk-in"}
_BOOKING_HEAD = {
    "booked": "booking",
    "redeemed": "datang / came",
    "not_came": "tidak datang / not came",
    "pending": "belum tiba harinya / to come",
    "cancelled": "batal / cancelled",
}


def _bookings(period: Period) -> str:
    """Bookings of the period's days and what became of them."""
    head = "".join(f"<th>{_BOOKING_HEAD[c]}</th>" for c in BOOKING_COUNTS)
    out = [f"<table><thead><tr><th>booking per</th>{head}</tr></thead><tbody>"]
    for scope, key, tally in booking_rows(period):
        name = "semua / all" if scope == "total" else f"{scope}: {key}"
        cells = "".join(f"<td>{tally[c]}</td>" for c in BOOKING_COUNTS)
        out.append(f"<tr><td>{escape(name)}</td>{cells}</tr>")
    return "".join(out) + "</tbody></table>"


def _visits(period: Period, services: dict[str, str]) -> list[str]:
    """Per visit of the mobile unit, then per visit and service (nothing without visits)."""
    if not period.visits:
        return []
    names = {k: f"{v['day']} {v['place']} ({v['kelurahan']})" for k, v in period.visits.items()}
    by_service = {}
    for key in period.groups["visit_service"]:
        visit, _, code = key.rpartition("/")
        by_service[key] = f"{period.visits[visit]['place']}: {services.get(code, code)}"
    return [
        "<h2>Per kunjungan unit keliling / Per visit of the mobile unit</h2>",
        _table(period.groups["visit"], names),
        _table(period.groups["visit_service"], by_service),
    ]


def _kpi(value: object, label: str, warn: bool = False) -> str:
    cls = "kpi warn" if warn else "kpi"
    return f"<div class='{cls}'><b>{escape(str(value))}</b><span>{escape(label)}</span></div>"


def _bars(items: list[tuple[str, int]], title: str) -> str:
    """A vertical bar chart."""
    if not items:
        return "<p class='sub'>-</p>"
    width, height, pad = max(60 + 34 * len(items), 200), 170, 24
    top = max(n for _, n in items) or 1
    out = [f"<svg class='chart' role='img' aria-label='{title}' width='{width}' height='{height}'>"]
    for i, (label, n) in enumerate(items):
        h = (height - 2 * pad) * n / top
        x, y = 40 + 34 * i, height - pad - h
        out.append(f"<rect x='{x}' y='{y:.1f}' width='26' height='{h:.1f}' fill='#2e6db4'/>")
        out.append(f"<text x='{x + 13}' y='{y - 3:.1f}' text-anchor='middle'>{n}</text>")
        out.append(f"<text x='{x + 13}' y='{height - 8}' text-anchor='middle'>{label}</text>")
    out.append("</svg>")
    return "".join(out)


def _pairs(items: list[tuple[str, float | None, float | None]], left: int = 40) -> str:
    """Horizontal bars: median (dark) and p90 (light) per group, in minutes; labels `left` wide."""
    if not items:
        return "<p class='sub'>-</p>"
    top = max((p90 or 0) for _, _, p90 in items) or 1
    width, row = 320 + left, 34
    out = [f"<svg class='chart' width='{width}' height='{row * len(items) + 24}'>"]
    for i, (label, median, p90) in enumerate(items):
        y = 8 + row * i
        for value, dy, colour in ((p90, 0, "#9cc3ea"), (median, 14, "#1f4e8c")):
            w = 250 * (value or 0) / top
            out.append(
                f"<rect x='{left}' y='{y + dy}' width='{w:.1f}' height='12' fill='{colour}'/>"
                f"<text x='{left + 4 + w:.1f}' y='{y + dy + 10}'>{(value or 0) / 60:.1f}</text>"
            )
        out.append(f"<text x='4' y='{y + 16}'>{escape(label)}</text>")
    out.append(
        f"<text x='{left}' y='{row * len(items) + 20}'>terang: p90, gelap: median (menit)</text>"
        "</svg>"
    )
    return "".join(out)


def _progress(drive: dict[str, object]) -> str:
    """One bar per kelurahan: recorded since the start against its target."""
    rows = [(k, p) for k, p in drive["kelurahan"].items() if p["target"]]  # type: ignore[attr-defined]
    if not rows:
        return "<p class='sub'>Belum ada target.</p>"
    out = [f"<svg class='chart' width='380' height='{22 * len(rows) + 8}'>"]
    for i, (name, p) in enumerate(rows):
        y, share = 4 + 22 * i, min(p["since_start"] / p["target"], 1.0)
        out.append(
            f"<text x='0' y='{y + 12}'>{escape(name)}</text>"
            f"<rect x='110' y='{y}' width='200' height='14' fill='#e3e8ee'/>"
            f"<rect x='110' y='{y}' width='{200 * share:.1f}' height='14' fill='#2f9e44'/>"
            f"<text x='316' y='{y + 12}'>{p['since_start']}/{p['target']}</text>"
        )
    out.append("</svg>")
    return "".join(out)


def _table(groups: dict[str, Group], names: dict[str, str]) -> str:
    head = (
        "<table><thead><tr><th></th><th>issued</th><th>served</th><th>no-show</th>"
        "<th>cancel</th><th>recalls</th><th>no-show undone</th><th>requeue</th>"
        "<th>transfer</th><th>wait median</th><th>wait p90</th><th>service median</th>"
        "<th>service p90</th></tr></thead><tbody>"
    )
    rows = [
        f"<tr><td>{escape(names.get(k, k))}</td><td>{g.issued}</td><td>{g.served}</td>"
        f"<td>{g.no_shows}</td><td>{g.cancelled}</td><td>{g.recalls}</td>"
        f"<td>{g.no_shows_undone}</td><td>{g.requeues}</td><td>{g.transfers}</td>"
        f"<td>{duration(g.wait.median)}</td><td>{duration(g.wait.p90)}</td>"
        f"<td>{duration(g.service.median)}</td><td>{duration(g.service.p90)}</td></tr>"
        for k, g in groups.items()
    ]
    return head + "".join(rows) + "</tbody></table>"


def _heat(day_hour: dict[str, dict[int, int]]) -> str:
    hours = sorted({h for row in day_hour.values() for h in row})
    top = max((n for row in day_hour.values() for n in row.values()), default=1) or 1
    out = ["<table><thead><tr><th>hari</th>", *(f"<th>{h:02d}</th>" for h in hours), "</tr>"]
    out.append("</thead><tbody>")
    for day, row in day_hour.items():
        out.append(f"<tr><td>{day}</td>")
        for h in hours:
            n = row.get(h, 0)
            shade = 255 - int(150 * n / top)
            out.append(f"<td style='background: rgb({shade},{shade + 0},{255})'>{n or ''}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _drive_table(drive: dict[str, object]) -> str:
    head = (
        "<h2>Progres per kelurahan / Drive per kelurahan</h2><table><thead><tr><th>kelurahan</th>"
        "<th>target</th><th>hari ini</th><th>bulan ini</th><th>sejak awal</th><th>sisa</th>"
        "<th>per minggu</th><th>minggu lagi</th><th>dari booking</th><th>dari kunjungan</th>"
        "<th>dipilih di loket</th><th>tidak diketahui</th></tr></thead><tbody>"
    )
    rows = [*drive["kelurahan"].items(), ("Kecamatan", drive["kecamatan"])]  # type: ignore[attr-defined]
    body = "".join(
        f"<tr><td>{escape(name)}</td><td>{_dash(p['target'])}</td><td>{p['today']}</td>"
        f"<td>{p['month']}</td><td>{p['since_start']}</td><td>{_dash(p['remaining'])}</td>"
        f"<td>{p['per_week']}</td><td>{_dash(p['weeks_to_target'])}</td>"
        + "".join(f"<td>{p['period_by_source'].get(source, 0)}</td>" for source in SOURCES)
        + "</tr>"
        for name, p in rows
    )
    return head + body + "</tbody></table>"


def _dash(value: object) -> str:
    return "-" if value is None else str(value)
