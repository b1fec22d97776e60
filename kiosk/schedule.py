"""The coming visits of the mobile unit as the kiosk lists them: plain Python, no Kivy.

The queue service keeps the schedule in the retained `state/visits` (issue 13;
docs/protocol.md); the board scrolls it, the kiosk offers it on Home
("Jadwal keliling") and lists it on a screen of its own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from antrean.visits import DEFAULT_BRING, EN_DASH
from kiosk import words

log = logging.getLogger(__name__)

SHOWN = 3  # what fits in large type on the 7" screen; the rest are counted, not listed
BRING_EN = "Bring a photocopy of your family card (Kartu Keluarga)."
LIVE = ("planned", "open")


@dataclass(frozen=True, slots=True)
class VisitLine:
    """One visit as a resident reads it."""

    id: str
    place: str  # "Posyandu Melati, Kelurahan Bendan Ngisor"
    when: str  # "Sabtu, 5 Desember  ·  08.00-12.00" (an en dash)
    services: str  # "Perekaman KTP-el"
    bring: str  # "Bawa fotokopi Kartu Keluarga."


def coming(states: dict[str, dict[str, Any]], today: date) -> list[dict[str, Any]]:
    """The schedule's visits from today on, soonest first.

    The service drops yesterday's visits at midnight; a retained schedule of a
    service that has been down since is filtered here, so it never shows a past day.
    """
    body = states.get("visits") or {}
    out = []
    for v in body.get("visits") or []:
        try:
            day = date.fromisoformat(str(v["day"]))
        except (KeyError, TypeError, ValueError):
            log.warning("a visit in state/visits without a day is skipped")
            continue
        if day >= today and v.get("status", "planned") in LIVE:
            out.append(v)
    return sorted(out, key=lambda v: (str(v["day"]), str(v.get("start", ""))))


def visit_line(language: str, v: dict[str, Any]) -> VisitLine:
    """A visit of state/visits in `language`; places and services stay as the office named them."""
    area = "Desa" if v.get("desa") else "Kelurahan"
    place = f"{v.get('place_name') or v.get('place', '')}, {area} {v.get('kelurahan', '')}"
    hours = f"{str(v.get('start', '')).replace(':', '.')}{EN_DASH}"
    hours += str(v.get("end", "")).replace(":", ".")
    when = f"{words.day_month(language, date.fromisoformat(str(v['day'])))}  ·  {hours}"
    bring = str(v.get("bring") or "")
    if language == "en" and bring == DEFAULT_BRING:
        bring = BRING_EN
    return VisitLine(str(v.get("id", "")), place, when, ", ".join(v.get("services") or []), bring)
