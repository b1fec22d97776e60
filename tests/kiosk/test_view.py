"""What Home shows for a given retained state, and the words: plain Python, no window."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from kiosk import words
from kiosk.view import home_view
from tests.support.helpers import example_config


def state(code: str, **fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "code": code,
        "accepting": True,
        "refusal": None,
        "waiting": 0,
        "estimated_wait_s": 0,
        "open": True,
        "reason": "",
    }
    return {**base, **fields}


def refusal(code: str, message: str) -> dict[str, object]:
    return {"accepting": False, "refusal": {"code": code, "message": message, "service": "X"}}


STATES = {
    "office": {
        "name": "Kecamatan Gajahmungkur",
        "priority": {"enabled": True, "name": "Prioritas"},
    },
    "service/A": state("A", waiting=12, estimated_wait_s=1500),
    "service/B": state(
        "B", **refusal("quota_full", "Kuota hari ini sudah penuh. Silakan datang kembali besok.")
    ),
    "service/C": state("C", **refusal("office_closed", "Layanan dibuka pukul 08.00.")),
}


def test_home_shows_waiting_and_wait_and_greys_what_takes_no_number(tmp_path: Path) -> None:
    view = home_view(example_config(tmp_path), STATES, "id", connected=True, printer_blocked=False)
    a, b, c, d = view.buttons
    assert (a.title, a.detail, a.enabled) == (
        "Perekaman KTP-el",
        "12 menunggu  ·  tunggu 25 menit",
        True,
    )
    assert (b.enabled, b.detail) == (
        False,
        "Kuota hari ini sudah penuh. Silakan datang kembali besok.",
    )
    assert (c.enabled, c.detail) == (False, "Layanan dibuka pukul 08.00.")
    assert not d.enabled  # no state yet: shown, not offered
    assert view.banner == ""
    assert view.priority_enabled


def test_home_in_english_translates_the_known_refusals(tmp_path: Path) -> None:
    view = home_view(example_config(tmp_path), STATES, "en", connected=True, printer_blocked=False)
    a, b, c, _d = view.buttons
    assert a.title == "e-KTP recording"
    assert a.detail == "12 waiting  ·  25 min wait"
    assert b.detail == "Today's quota is full. Please come back tomorrow."
    assert c.detail == "Opens at 08.00"


def test_not_connected_or_a_blocked_printer_disables_every_button(tmp_path: Path) -> None:
    cfg = example_config(tmp_path)
    offline = home_view(cfg, STATES, "id", connected=False, printer_blocked=False)
    assert offline.banner == "Sedang menyambung ke sistem antrean..."
    assert not any(b.enabled for b in offline.buttons)
    blocked = home_view(cfg, STATES, "id", connected=True, printer_blocked=True)
    assert blocked.banner == "Printer tiket sedang bermasalah"
    assert not any(b.enabled for b in blocked.buttons)


def test_waits_dates_and_times_in_words() -> None:
    assert words.duration("id", 0) == "segera"
    assert words.duration("id", 61) == "2 menit"
    assert words.duration("id", 4000) == "1 jam 7 menit"
    assert words.duration("en", 300) == "5 min"
    friday = datetime(2026, 11, 27, 1, 30, tzinfo=UTC)
    assert words.long_date("id", friday.astimezone(ZoneInfo("Asia/Jakarta"))) == (
        "Jumat, 27 November 2026"
    )
    assert words.clock_time(friday.astimezone(ZoneInfo("Asia/Jayapura"))) == "10.30 WIT"
    assert (
        words.refusal(
            "en", "office_closed", "Kantor tutup hari ini. Silakan datang pada hari kerja."
        )
        == "The office is closed today."
    )
