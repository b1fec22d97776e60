"""`antrean report`: the day's figures from the store, as a table or as JSON.

Reads the store read-only (antrean.store.StoreReader), so it is safe to run
on the queue Pi while the service runs. What each figure means is in
antrean/report.py.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, date, datetime

from antrean.config import CONFIG_HELP, Config, config_path, load_config
from antrean.hours import business_day
from antrean.report import CounterFigures, DayFigures, Figures, day_figures
from antrean.store import StoreReader


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help=CONFIG_HELP)
    parser.add_argument(
        "--day",
        type=_day,
        help="business day YYYY-MM-DD (default: today in the office's time zone)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(args: argparse.Namespace) -> int:
    config = load_config(config_path(args.config))
    day: date = args.day or business_day(datetime.now(UTC), config.office.timezone)
    try:
        reader = StoreReader(config.store_path)
    except (FileNotFoundError, RuntimeError) as exc:
        print(f"antrean report: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    try:
        figures = day_figures(
            reader,
            day,
            [s.code for s in config.services],
            [c.number for c in config.counters],
        )
    finally:
        reader.close()
    if args.json:
        print(json.dumps(figures.as_dict(), ensure_ascii=False, indent=2))  # noqa: T201
    else:
        print(render(figures, config))  # noqa: T201 - the command's output
    return 0


def render(figures: DayFigures, config: Config) -> str:
    """The figures as a plain-text table for a terminal."""
    lines = [
        f"{config.office.name}: {figures.day.isoformat()} ({config.office.timezone.key})",
        "",
        f"{'service':<26}{'issued':>7}{'prio':>6}{'served':>7}{'no-show':>8}{'cancel':>7}"
        f"{'expired':>8}{'waiting':>8}{'called':>7}{'wait mean':>10}{'median':>8}"
        f"{'max':>8}{'service':>8}",
    ]
    names: dict[str, str] = {s.code: s.name for s in config.services}
    for code, f in figures.services.items():
        lines.append(_service_row(f"{code} {names.get(code, '')}".strip(), f))
    lines.append(_service_row("total", figures.total))
    lines += ["", f"{'counter':<26}{'served':>7}{'no-show':>8}{'service':>8}"]
    counter_names: dict[int, str] = {c.number: c.name for c in config.counters}
    for number, c in figures.counters.items():
        lines.append(_counter_row(counter_names.get(number, f"Loket {number}"), c))
    lines += [
        "",
        "Waits run from issue to the ticket's latest call; service from that call to served.",
    ]
    return "\n".join(lines)


def _service_row(label: str, f: Figures) -> str:
    return (
        f"{label[:25]:<26}{f.issued:>7}{f.priority_issued:>6}{f.served:>7}{f.no_shows:>8}"
        f"{f.cancelled:>7}{f.expired:>8}{f.waiting:>8}{f.called:>7}"
        f"{_duration(f.mean_wait_s):>10}{_duration(f.median_wait_s):>8}"
        f"{_duration(f.max_wait_s):>8}{_duration(f.mean_service_s):>8}"
    )


def _counter_row(label: str, c: CounterFigures) -> str:
    return f"{label[:25]:<26}{c.served:>7}{c.no_shows:>8}{_duration(c.mean_service_s):>8}"


def _duration(seconds: float | None) -> str:
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
