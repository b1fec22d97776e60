"""The mobile unit's coming visits on the kiosk (issue 13), through the real app and service.

The office plans and cancels visits with visit_plan / visit_cancel; the queue
service publishes the retained state/visits; the kiosk in a real Kivy window
offers "Jadwal keliling" on Home and lists the visits, live.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from antrean.config import Config, parse_config
from antrean_testing.devbroker import DevBroker
from kiosk.app import KioskApp
from kiosk.printer.sim import SimPrinter
from kiosk.settings import kiosk_settings
from tests.support.helpers import FakeClock, Office, example_text
from tests.support.kivy_harness import pump, pump_until, set_window_size, start_app, stop_app, tap
from tests.support.layout_check import cut_text

MOBILE = '\n[mobile]\nunits = { "keliling-1" = "K" }\n'
# The clock is Thursday 26 November 2026; planned in the wrong order on purpose.
MELATI = {
    "unit": "keliling-1", "day": "2026-12-05", "start": "08:00", "end": "12:00",
    "place": "Melati", "kind": "posyandu", "kelurahan": "Bendan Ngisor",
}  # fmt: skip
BALAI = {
    "unit": "keliling-1", "day": "2026-12-01", "start": "09:00", "end": "13:30",
    "place": "Lempongsari", "kind": "balai_desa", "kelurahan": "Lempongsari", "desa": True,
    "services": ["Perekaman KTP-el", "Kartu Identitas Anak"],
}  # fmt: skip
SIZES = [(800, 480), (1024, 600), (1280, 800), (720, 1280), (1080, 1920)]


@pytest.fixture
def config(tmp_path: Path, broker: DevBroker) -> Config:
    return parse_config(example_text(broker.port) + MOBILE, "office.toml", tmp_path)


@pytest.fixture
def kiosk(config: Config, office: Office, clock: FakeClock, tmp_path: Path) -> Iterator[KioskApp]:
    # Done's time-out of 2 s: the schedule's reading time is 6 s.
    settings = dataclasses.replace(kiosk_settings(config), home_after_s=2)
    app = KioskApp(config, settings, printer=SimPrinter(80, tmp_path / "tickets"), now=clock)
    start_app(app, (800, 480))
    try:
        pump_until(lambda: not app.home.service_buttons["A"].disabled, 15, "Home ready")
        yield app
    finally:
        stop_app(app)
        set_window_size(800, 480)


def shown(app: KioskApp) -> str:
    """The schedule screen's words, top to bottom."""
    return "\n".join(lbl.text for lbl in app.schedule.labels.values())


def open_schedule(app: KioskApp) -> None:
    pump_until(lambda: app.home.schedule_button is not None, 10, "the Jadwal keliling button")
    pump(0.9)  # past the bounce guard of Home's last redraw
    button = app.home.schedule_button
    assert button is not None
    tap(button)
    pump_until(lambda: app.screens.current == "schedule", 5, "the schedule screen")


def test_the_kiosk_lists_the_coming_visits_live(kiosk: KioskApp, office: Office) -> None:
    app = kiosk
    pump(0.5)
    assert app.home.schedule_button is None  # no visits: no button
    office.ok("admin", "visit_plan", **MELATI)
    office.ok("admin", "visit_plan", **BALAI)
    open_schedule(app)
    assert "Jadwal keliling" in app.home.schedule_button.text  # type: ignore[union-attr]
    pump_until(lambda: "Lempongsari" in shown(app), 5, "both visits")
    text = shown(app)
    assert "Jadwal layanan keliling" in text
    balai = text.index("[b]Balai Desa Lempongsari, Desa Lempongsari[/b]")
    melati = text.index("[b]Posyandu Melati, Kelurahan Bendan Ngisor[/b]")
    assert balai < melati  # date order, not the order they were planned in
    assert "[b]Selasa, 1 Desember  ·  09.00\u201313.30[/b]" in text
    assert "[b]Sabtu, 5 Desember  ·  08.00\u201312.00[/b]" in text
    assert "Perekaman KTP-el, Kartu Identitas Anak. Bawa fotokopi Kartu Keluarga." in text
    assert "Perekaman KTP-el. Bawa fotokopi Kartu Keluarga." in text

    office.ok("admin", "visit_cancel", id="2026-12-01-lempongsari")
    pump_until(lambda: "Lempongsari" not in shown(app), 5, "the cancelled visit gone")
    assert app.screens.current == "schedule"
    assert "Posyandu Melati" in shown(app)

    pump(0.9)  # a redrawn screen takes no touch for 0.8 s (a bounce guard)
    tap(app.schedule.buttons["back"])
    pump_until(lambda: app.screens.current == "home", 5, "Back to Home")
    app.toggle_language()
    open_schedule(app)
    assert "[b]Saturday, 5 December  ·  08.00\u201312.00[/b]" in shown(app)
    assert "Bring a photocopy of your family card (Kartu Keluarga)." in shown(app)
    pump(4.0)
    assert app.screens.current == "schedule"  # still being read
    pump_until(lambda: app.screens.current == "home", 4, "Home by itself after 6 s")

    office.ok("admin", "visit_cancel", id="2026-12-05-melati")
    pump_until(lambda: app.home.schedule_button is None, 5, "the button gone")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_schedule_cuts_no_text(kiosk: KioskApp, office: Office, size: tuple[int, int]) -> None:
    app = kiosk
    for n, day in enumerate(("2026-11-30", "2026-12-01", "2026-12-02", "2026-12-03")):
        long_place = {"place": "Mawar Sejahtera Kencana", "kelurahan": "Bendan Duwur"}
        office.ok("admin", "visit_plan", **{**BALAI, **long_place, "day": day, "id": f"v{n}"})
    set_window_size(*size)
    problems: list[str] = []
    for language in ("id", "en"):
        app.go_home()
        app.language = language
        app.render_home()
        pump_until(lambda: app.home.schedule_button is not None, 10, "the button")
        problems += cut_text(app.home, f"{size} {language} Home")
        open_schedule(app)
        assert "more" in app.schedule.labels  # four visits: three listed, one counted
        problems += cut_text(app.schedule, f"{size} {language} schedule")
    assert not problems, "\n".join(problems)
