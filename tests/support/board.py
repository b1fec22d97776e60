"""Board test helpers: a board app on the test's office, WAV lengths."""

from __future__ import annotations

import wave
from pathlib import Path

from antrean.config import Config
from display_board.settings import BoardSettings
from display_board.voice.clips import ClipLibrary
from display_board.voice.player import Player


def wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()


def make_board(config: Config, library: ClipLibrary, player: Player, **settings: int):
    """A BoardApp for board-1 on the test's office (Kivy imported only once Xvfb runs)."""
    from display_board.app import BoardApp  # noqa: PLC0415

    return BoardApp(config, "board-1", BoardSettings(fullscreen=False, **settings), library, player)
