"""Office hours and business days, in office-local time."""

from __future__ import annotations

from datetime import date, datetime, time, tzinfo

from antrean.config import OpeningHours, WeeklyHours

_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def business_day(now: datetime, tz: tzinfo) -> date:
    """The office-local date: numbering restarts when it changes."""
    return now.astimezone(tz).date()


def clock_text(t: time) -> str:
    """Indonesian clock notation: 08.00."""
    return f"{t.hour:02d}.{t.minute:02d}"


def closed_reason(hours: WeeklyHours | None, local: datetime) -> str | None:
    """Why a ticket cannot be issued at this local time, or None when open."""
    if hours is None:
        return None
    today = hours.get(local.weekday())
    if today is None:
        return "Kantor tutup hari ini. Silakan datang pada hari kerja."
    if local.time() < today.opens:
        return f"Layanan dibuka pukul {clock_text(today.opens)}."
    if local.time() >= today.closes:
        return (
            f"Layanan hari ini sudah ditutup pukul {clock_text(today.closes)}. "
            "Silakan datang kembali pada hari kerja berikutnya."
        )
    return None


def hours_view(hours: WeeklyHours | None) -> dict[str, str] | None:
    """{"mon": "08:00-15:00", ...} for the retained state; None means always open."""
    if hours is None:
        return None
    return {_DAY_NAMES[d]: _span(h) for d, h in sorted(hours.items())}


def _span(h: OpeningHours) -> str:
    return f"{h.opens:%H:%M}-{h.closes:%H:%M}"
