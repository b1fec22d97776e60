"""What the Home screen shows, computed from the retained state: plain Python, no Kivy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from antrean.config import Config
from antrean.disk import DISK_FULL
from kiosk import words


@dataclass(frozen=True, slots=True)
class ServiceButton:
    """One service on the Home screen."""

    code: str
    title: str
    detail: str  # waiting and estimated wait, or why it is closed
    enabled: bool


@dataclass(frozen=True, slots=True)
class HomeView:
    office_name: str
    buttons: list[ServiceButton]
    priority_enabled: bool
    priority_name: str
    banner: str  # "" when all is well; else why no number can be taken now
    banner_note: str
    booking: bool = False  # the office takes bookings: Home offers "Sudah mendaftar?"
    schedule: bool = False  # the mobile unit has coming visits: Home offers "Jadwal keliling"


def home_view(
    config: Config,
    states: dict[str, dict[str, Any]],
    language: str,
    connected: bool,
    printer_blocked: bool,
    queue_error: str | None = None,
    booking: bool = False,
    schedule: bool = False,
) -> HomeView:
    """Buttons in config order; a service without state yet is shown but not offered.

    `queue_error` is why the queue service stopped, from its presence; `booking`
    whether the office takes bookings ([booking] capacity); `schedule` whether
    the mobile unit has coming visits (kiosk/schedule.py).
    """
    office = states.get("office") or {}
    priority = office.get("priority") or {}
    buttons = [
        _button(s.code, s.name, s.name_en, states.get(f"service/{s.code}"), language)
        for s in config.services
    ]
    banner = note = ""
    if not connected and queue_error == DISK_FULL:
        banner = words.text(language, "server_full")
        note = words.text(language, "server_full_note")
    elif not connected:
        banner = words.text(language, "not_connected")
        note = words.text(language, "not_connected_note")
    elif printer_blocked:
        banner = words.text(language, "printer_blocked")
        note = words.text(language, "printer_blocked_note")
    if banner:
        buttons = [ServiceButton(b.code, b.title, b.detail, False) for b in buttons]
    return HomeView(
        office_name=str(office.get("name") or config.office.name),
        buttons=buttons,
        priority_enabled=bool(priority.get("enabled", config.rules.priority_enabled)),
        priority_name=str(priority.get("name") or config.rules.priority_name),
        banner=banner,
        banner_note=note,
        booking=booking,
        schedule=schedule,
    )


def _button(
    code: str, name: str, name_en: str, state: dict[str, Any] | None, language: str
) -> ServiceButton:
    title = name_en if language == "en" and name_en else name
    if state is None:
        return ServiceButton(code, title, "", False)
    if not state.get("accepting", False):
        refusal = state.get("refusal") or {}
        reason = words.refusal(
            language,
            str(refusal.get("code", "")),
            str(refusal.get("message") or state.get("reason") or ""),
        )
        return ServiceButton(code, title, reason, False)
    waiting = int(state.get("waiting") or 0)
    seconds = words.wait_estimate(state)
    wait = (
        words.text(language, "no_counter")
        if seconds is None
        else words.text(language, "wait", t=words.duration(language, seconds))
    )
    detail = f"{words.text(language, 'waiting', n=waiting)}  ·  {wait}"
    return ServiceButton(code, title, detail, True)
