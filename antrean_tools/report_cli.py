"""`antrean report`: the office's figures for a day, a week, a month or a range.

Reads the store read-only (antrean.store.StoreReader), so it is safe to run
on the queue Pi while the service runs. What each figure means and how it
is measured: antrean_tools/figures.py and docs/figures.md. Output: a table on the
terminal, --json, --csv, or --html (one self-contained page, antrean_tools/report_html.py).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from dataclasses import asdict
from datetime import UTC, date, datetime

from antrean.config import CONFIG_HELP, Config, config_path, load_config
from antrean.hours import business_day
from antrean.store import StoreReader
from antrean_tools.figures import BOOKING_COUNTS, Group, Period, period_figures, period_of


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help=CONFIG_HELP)
    when = parser.add_mutually_exclusive_group()
    when.add_argument(
        "--day", type=_day, help="business day YYYY-MM-DD (default: today, office time)"
    )
    when.add_argument("--week", help="ISO week YYYY-Www, e.g. 2026-W48")
    when.add_argument("--month", type=_month, help="month YYYY-MM, e.g. 2026-11")
    when.add_argument("--from", dest="start", type=_day, help="first day of a range (with --to)")
    parser.add_argument("--to", dest="end", type=_day, help="last day of a range (with --from)")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print JSON instead of a table")
    out.add_argument("--csv", action="store_true", help="print CSV tables (a spreadsheet)")
    out.add_argument(
        "--html", action="store_true", help="print one self-contained HTML page (charts, A4)"
    )


def run(args: argparse.Namespace) -> int:
    config = load_config(config_path(args.config))
    today = business_day(datetime.now(UTC), config.office.timezone)
    if (args.start is None) != (args.end is None):
        print("antrean report: --from and --to go together", file=sys.stderr)  # noqa: T201
        return 2
    span = (args.start, args.end) if args.start else None
    start, end = period_of(args.day, args.month, args.week, span, today)
    try:
        reader = StoreReader(config.store_path)
    except (FileNotFoundError, RuntimeError) as exc:
        print(f"antrean report: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    try:
        period = period_figures(
            reader.db,
            start,
            end,
            config.office.timezone,
            [s.code for s in config.services],
            [c.number for c in config.counters],
            config.drive,
            today,
        )
    finally:
        reader.close()
    if args.json:
        text = json.dumps(period.as_dict(), ensure_ascii=False, indent=2)
    elif args.csv:
        text = render_csv(period)
    elif args.html:
        from antrean_tools.report_html import render_html  # noqa: PLC0415 - only for --html

        text = render_html(period, config)
    else:
        text = render(period, config)
    print(text)  # noqa: T201 - the command's output
    return 0


_COLUMNS = (
    "issued",
    "priority",
    "served",
    "no_shows",
    "cancelled",
    "expired",
    "open",
    "calls",
    "recalls",
    "no_show_marks",
    "no_shows_undone",
    "requeues",
    "transfers",
)
_SPREADS = ("n", "median", "p90", "mean", "max")
SOURCES = ("booking", "visit", "console", "unknown")  # where a recording's kelurahan came from


def flat(g: Group) -> dict[str, object]:
    """One group as a flat row: counts, then wait_* and service_* (seconds)."""
    row: dict[str, object] = {c: getattr(g, c) for c in _COLUMNS}
    for name in ("wait", "service"):
        for k, v in asdict(getattr(g, name)).items():
            row[f"{name}_{k}"] = v
    return row


def render_csv(period: Period) -> str:
    """CSV tables, a blank line apart: groups, day x hour, drive, cards, bookings, visits."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["dimension", "key", *flat(Group())])
    for dim, groups in period.groups.items():
        for key, g in groups.items():
            w.writerow([dim, key, *flat(g).values()])
    w.writerow([])
    hours = sorted({h for row in period.day_hour.values() for h in row})
    w.writerow(["day", *(f"{h:02d}" for h in hours)])
    for day, row in period.day_hour.items():
        w.writerow([day, *(row.get(h, 0) for h in hours)])
    w.writerow([])
    columns = ("target", "today", "month", "since_start", "remaining", "per_week")
    by = [f"period_{source}" for source in SOURCES]
    w.writerow(["kelurahan", *columns, "weeks_to_target", *by])
    drive = period.progress
    for name, p in [*drive["kelurahan"].items(), ("kecamatan", drive["kecamatan"])]:
        counts = [p["period_by_source"].get(source, 0) for source in SOURCES]
        w.writerow([name, *(p[c] for c in columns), p["weeks_to_target"], *counts])
    w.writerow([])
    s = period.stock
    w.writerow(["cards_received", "cards_used", "cards_spoiled", "corrections", "balance_end"])
    w.writerow([s["received"], s["used"], s["spoiled"], s["corrections"], s["balance_end"]])
    w.writerow([])
    w.writerow(["bookings", "key", *BOOKING_COUNTS])
    for scope, key, tally in booking_rows(period):
        w.writerow([scope, key, *(tally[c] for c in BOOKING_COUNTS)])
    w.writerow([])
    columns = ("day", "unit", "place", "kelurahan", "expected", "status")
    w.writerow(["visit", *columns])
    for visit, v in period.visits.items():
        w.writerow([visit, *(v.get(c) for c in columns)])
    return out.getvalue().rstrip("\n")


def booking_rows(period: Period) -> list[tuple[str, str, dict[str, int]]]:
    """The bookings' counts: the total, then per service, then per kelurahan."""
    b = period.bookings
    rows = [("total", "", b["total"])]
    for scope in ("service", "kelurahan"):
        rows += [(scope, key, tally) for key, tally in b[scope].items()]
    return rows


def render(period: Period, config: Config) -> str:
    """The figures as plain-text tables for a terminal."""
    span = str(period.start) if period.start == period.end else f"{period.start} - {period.end}"
    lines = [f"{config.office.name}: {span} ({config.office.timezone.key})", ""]
    names: dict[str, str] = {s.code: s.name for s in config.services}
    counters = {str(c.number): c.name for c in config.counters}

    def label(dim: str, key: str) -> str:
        if dim == "service":
            return f"{key} {names.get(key, '')}".strip()
        if dim == "counter":
            return counters.get(key, f"Loket {key}")
        if dim == "hour":
            return f"{int(key):02d}.00-{int(key):02d}.59"
        if dim == "booking":
            return "booked" if key == "booked" else "walk-in"
        if dim == "visit":
            v = period.visits[key]
            return f"{v['day']} {v['place']}"
        if dim == "visit_service":
            return f"  {label('service', key.rpartition('/')[2])}"
        return "total" if dim == "total" else key

    head = (
        f"{'':<24}{'issued':>7}{'served':>7}{'no-show':>8}{'cancel':>7}{'open':>6}{'recall':>7}"
        f"{'undone':>7}{'wait med':>9}{'p90':>8}{'svc med':>8}{'p90':>8}"
    )
    for dim in ("service", "counter", "hour", "booking", "total"):
        title = {"total": "", "booking": "booked and walk-in"}.get(dim, f"by {dim}")
        lines += [title, head]
        for key, g in period.groups[dim].items():
            lines.append(_row(label(dim, key), g))
        lines.append("")
    if period.visits:
        lines += ["per visit (the mobile unit's tickets, not in the office's figures above)", head]
        for visit, g in period.groups["visit"].items():
            lines.append(_row(label("visit", visit), g))
            for key, by_service in period.groups["visit_service"].items():
                if key.rpartition("/")[0] == visit:
                    lines.append(_row(label("visit_service", key), by_service))
        lines.append("")
    b = period.bookings["total"]
    lines.append(
        f"bookings: {b['booked']} booked, {b['redeemed']} came (redeemed),"
        f" {b['not_came']} did not come, {b['pending']} still to come, {b['cancelled']} cancelled"
    )
    s = period.stock
    lines.append(
        f"blank cards: received {s['received']}, used {s['used']}, spoiled {s['spoiled']},"
        f" corrections {s['corrections']:+d}, balance at the end {s['balance_end']}"
    )
    k = period.progress["kecamatan"]
    lines.append(
        f"drive: {k['today']} recorded on {period.end}, {k['month']} this month,"
        f" {k['since_start']} since the start, {k['remaining']} remaining,"
        f" weeks to target {k['weeks_to_target'] if k['weeks_to_target'] is not None else '-'}"
    )
    sources = k["period_by_source"]
    lines.append(
        "drive, kelurahan from: "
        + ", ".join(f"{source} {sources.get(source, 0)}" for source in SOURCES)
    )
    lines += [
        "",
        "Waits: issue to the first call. Service: last call or recall to completion.",
        "Median and p90: nearest rank. Meanings: docs/figures.md.",
    ]
    return "\n".join(lines)


def _row(label: str, g: Group) -> str:
    return (
        f"{label[:23]:<24}{g.issued:>7}{g.served:>7}{g.no_shows:>8}{g.cancelled:>7}{g.open:>6}"
        f"{g.recalls:>7}{g.no_shows_undone:>7}{duration(g.wait.median):>9}"
        f"{duration(g.wait.p90):>8}{duration(g.service.median):>8}{duration(g.service.p90):>8}"
    )


def duration(seconds: float | None) -> str:
    """12:05 (minutes:seconds), 1:02:05 past an hour, "-" for no figure."""
    if seconds is None:
        return "-"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None


def _month(text: str) -> str:
    try:
        date.fromisoformat(f"{text}-01")
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a month YYYY-MM: {text!r}") from None
    return text
