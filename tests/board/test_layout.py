"""The board at every TV size it is sold for: no text in the lobby is cut.

A busy morning on a real Mosquitto and queue service: every counter serving,
a closed service with its reason, a recall, the longest code (C1000) and the
mark shown when the queue service stops.
"""

from __future__ import annotations

import pytest

from antrean.config import Config
from display_board.voice.clips import ClipLibrary
from display_board.voice.player import RecordingPlayer
from tests.support.board import make_board
from tests.support.helpers import Office
from tests.support.kivy_harness import pump, pump_until, set_window_size, start_app, stop_app
from tests.support.layout_check import cut_text

# Cheap 720p TVs, 1366x768 panels, 1080p and 4K TVs.
BOARD_SIZES = [(1280, 720), (1366, 768), (1920, 1080), (3840, 2160)]


@pytest.mark.parametrize("size", BOARD_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_no_board_text_is_cut(
    config: Config, office: Office, library: ClipLibrary, size: tuple[int, int]
) -> None:
    for service, count in (("A", 14), ("B", 6), ("C", 999), ("D", 3)):
        for _ in range(count):
            office.ok("kiosk-1", "issue", service=service)
    office.ok("admin", "service_close", service="B", reason="Blanko KTP-el habis")
    app = start_app(make_board(config, library, RecordingPlayer(speed=0.0)), size=size)
    try:
        pump_until(lambda: app.link.queue_online, 10, "link")
        office.ok("kiosk-1", "issue", service="C")  # C1000: the longest code there is
        for counter in (1, 2, 4, 3):
            office.ok(f"counter-{counter}", "call_next")
        office.ok("counter-3", "call_ticket", code="C1000")
        office.ok("counter-2", "recall")
        pump_until(lambda: app.screen.call_title == "PANGGILAN ULANG", 10, "the recall")
        pump(0.3)
        where = f"{size[0]}x{size[1]}"
        problems = cut_text(app.screen, f"{where} board")
        office.stop()
        pump_until(lambda: app.screen.offline_text != "", 10, "the offline mark")
        problems += cut_text(app.screen, f"{where} board, queue service stopped")
    finally:
        stop_app(app)
        set_window_size(800, 480)
    assert not problems, "\n".join(problems)
