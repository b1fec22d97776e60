"""The board under Xvfb against a real Mosquitto and queue service: shown, spoken, resynced."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from antrean.config import Config
from display_board.voice.clips import ClipLibrary
from display_board.voice.player import RecordingPlayer

from ..helpers import Office
from ..kivy_harness import find_text, pump_until, screenshot, start_app, stop_app
from .helpers import make_board, wav_seconds

EVENTS = "antrean/v1/gajahmungkur/event"
A012_SEQUENCE = (
    "chime", "nomor-antrean", "huruf-a", "dua", "belas", "silakan-menuju-loket", "tiga",
)  # fmt: skip
AMBER = (255, 186, 0)


@pytest.fixture
def player() -> RecordingPlayer:
    return RecordingPlayer(speed=0.05)


@pytest.fixture
def board(config: Config, office: Office, library: ClipLibrary, player: RecordingPlayer):
    app = start_app(make_board(config, library, player), size=(1920, 1080))
    try:
        pump_until(lambda: app.link.queue_online and app.model.last_seq is not None, 10, "link")
        pump_until(lambda: app.screen.office_name == "Kecamatan Gajahmungkur", 5, "office")
        yield app
    finally:
        stop_app(app)


def counter_tile(app, number: int):
    tiles = list(reversed(app.screen.ids.counters.children))
    return tiles[number - 1]


def recent_codes(app) -> list[str]:
    return [row.code for row in reversed(app.screen.ids.recent.children)]


def issue(office: Office, service: str, count: int) -> None:
    for _ in range(count):
        office.ok("kiosk-1", "issue", service=service)


def test_a_counter_call_is_shown_big_and_spoken_as_clips(
    board, office: Office, player: RecordingPlayer, tmp_path: Path
) -> None:
    issue(office, "A", 12)
    for _ in range(12):
        office.ok("counter-2", "call_next")
    pump_until(lambda: board.screen.call_code == "A012", 5, "A012 on screen")
    assert board.screen.call_counter == "LOKET 2"
    assert board.screen.call_title == "NOMOR ANTREAN"
    assert board.screen.highlighted
    assert counter_tile(board, 2).serving == "A012"
    assert find_text(board.root, "A011"), "the previous call is in the recent list"
    pump_until(lambda: len(player.played) >= 12, 10, "twelve announcements")
    last = player.played[-1]
    assert last.clips == (*A012_SEQUENCE[:-1], "dua")
    assert last.text == "Nomor antrean, A, dua belas, silakan menuju loket, dua"
    # Screenshot: the current-call panel glows amber while the call is new.
    png = screenshot(tmp_path / "board.png")
    with Image.open(png) as image:
        assert image.size == (1920, 1080)
        panel = board.screen.ids.current_panel
        x, y = int(panel.x + 20), int(1080 - panel.top + 40)
        assert image.convert("RGB").getpixel((x, y)) == AMBER
    wav = player.write_wav(tmp_path / "calls.wav")
    seconds = wav_seconds(wav)
    assert 12 * 4.0 < seconds < 12 * 10.0, seconds
