"""The reports page (kepala): a day, a month or a range, as `antrean report` computes it.

The figures are antrean_tools/figures.py's over the store opened read-only
(antrean.store.StoreReader: the queue service stays its one writer), so the
page, its CSV and its A4 print view say what `antrean report --json` says for
the same days. The charts are report_html's inline SVG (no chart library).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from markupsafe import Markup

from antrean.config import Config
from antrean.hours import business_day
from antrean.store import StoreReader
from antrean_tools.figures import Period, period_figures, period_of
from antrean_tools.report_html import _bars, _pairs, _progress  # its charts, reused

MAX_DAYS = 366  # a year at most: the SQL runs on the hub next to the queue


class ReportError(ValueError):
    """A period that cannot be reported (the message says what to fix, in Indonesian)."""


@dataclass(frozen=True, slots=True)
class Choice:
    """The period asked for, as the form shows it again."""

    mode: str  # hari, bulan, rentang
    start: date
    end: date

    @property
    def query(self) -> str:
        """The same period as a query string (for the CSV and print links)."""
        if self.mode == "bulan":
            return f"bulan={self.start:%Y-%m}"
        if self.mode == "rentang":
            return f"dari={self.start}&sampai={self.end}"
        return f"hari={self.start}"


def _date(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ReportError(f"{what} {text!r} bukan tanggal TTTT-BB-HH (mis. 2026-11-26).") from None


def choice(config: Config, query: dict[str, str]) -> Choice:
    """The period of `?hari=`, `?bulan=` or `?dari=&sampai=` (default: today, office time)."""
    today = business_day(datetime.now(UTC), config.office.timezone)
    if query.get("bulan"):
        month = query["bulan"].strip()
        _date(f"{month}-01", "Bulan")
        start, end = period_of(None, month, None, None, today)
        return Choice("bulan", start, end)
    if query.get("dari") or query.get("sampai"):
        if not (query.get("dari") and query.get("sampai")):
            raise ReportError("Isi tanggal awal dan tanggal akhir rentang.")
        start, end = _date(query["dari"], "Tanggal awal"), _date(query["sampai"], "Tanggal akhir")
        if end < start:
            raise ReportError("Tanggal akhir sebelum tanggal awal.")
        if end - start >= timedelta(days=MAX_DAYS):
            raise ReportError(f"Rentang paling panjang {MAX_DAYS} hari.")
        return Choice("rentang", start, end)
    day = _date(query["hari"], "Tanggal") if query.get("hari") else today
    return Choice("hari", day, day)


def figures(config: Config, asked: Choice) -> Period:
    """The period's figures from the store, read-only (blocking: run it off the event loop)."""
    try:
        reader = StoreReader(config.store_path)
    except FileNotFoundError:
        raise ReportError(
            "Belum ada data: layanan antrean belum pernah berjalan di sini."
        ) from None
    except RuntimeError as exc:
        raise ReportError(f"Data tidak bisa dibaca: {exc}") from None
    codes: list[str] = [s.code for s in config.services]
    counters: list[int] = [c.number for c in config.counters]
    zone = config.office.timezone
    try:
        return period_figures(
            reader.db, asked.start, asked.end, zone, codes, counters, config.drive
        )
    finally:
        reader.close()


def charts(period: Period) -> dict[str, Markup]:
    """report_html's SVG charts: tickets by hour, waits by service, the drive's progress."""
    hours = [(f"{int(k):02d}", g.issued) for k, g in period.groups["hour"].items()]
    waits = [
        (k, g.wait.median, g.wait.p90) for k, g in period.groups["service"].items() if g.wait.n
    ]
    # report_html escapes every label it draws (service codes, kelurahan names).
    return {
        "hours": Markup(_bars(hours, "issued")),  # noqa: S704
        "waits": Markup(_pairs(waits)),  # noqa: S704
        "drive": Markup(_progress(period.progress)),  # noqa: S704
    }
