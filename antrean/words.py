"""Indonesian day and month names, and a day as residents read it, for the core and every app.

One list: the core (visits' running text, bookings) cannot import the apps,
and the kiosk, the board, the web and the tools import the core.
"""

from __future__ import annotations

from datetime import date

DAYS_ID = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
MONTHS_ID = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli",
    "Agustus", "September", "Oktober", "November", "Desember",
)  # fmt: skip


def day_month(day: date) -> str:
    """ "Sabtu, 5 Desember": a day of the coming weeks."""
    return f"{DAYS_ID[day.weekday()]}, {day.day} {MONTHS_ID[day.month - 1]}"


def day_text(day: date) -> str:
    """ "Jumat, 27 November 2026" (a datetime gives its date's)."""
    return f"{day_month(day)} {day.year}"
