"""The board's own config sections, [board] and [voice], read with file:line errors."""

from __future__ import annotations

from dataclasses import dataclass

from antrean.config import Config
from antrean.domain import Role
from display_board.voice.clips import VoiceSettings
from display_board.voice.player import PLAYERS


@dataclass(frozen=True, slots=True)
class BoardSettings:
    """[board]: how the screen behaves."""

    recent_rows: int = 6  # recent calls listed beside the current call
    highlight_s: int = 10  # how long a new call stays highlighted
    fullscreen: bool = True
    marquee_speed: int = 120  # running text, pixels per second at 1080 lines


def board_settings(config: Config) -> BoardSettings:
    """[board] from the config; a bad value raises ConfigError naming its line."""
    r = config.reader()
    t = r.table(config.sections, "board")
    settings = BoardSettings(
        recent_rows=r.integer(t, "board", "recent_rows", default=6, low=0, high=10),
        highlight_s=r.integer(t, "board", "highlight_s", default=10, low=1, high=600),
        fullscreen=r.boolean(t, "board", "fullscreen", default=True),
        marquee_speed=r.integer(t, "board", "marquee_speed", default=120, low=10, high=1000),
    )
    r.only_keys(t, "board")
    return settings


def voice_settings(config: Config) -> VoiceSettings:
    """[voice] from the config; a bad value raises ConfigError naming its line."""
    r = config.reader()
    t = r.table(config.sections, "voice")
    player = r.string(t, "voice", "player", default="aplay")
    if player not in PLAYERS:
        r.fail("voice", "player", f"must be one of {', '.join(PLAYERS)}, got {player!r}")
    settings = VoiceSettings(
        clip_dir=config.path(r.string(t, "voice", "clips", default="var/voice")),
        player=player,
        volume=r.integer(t, "voice", "volume", default=100, low=0, high=100),
        alsa_device=r.string(t, "voice", "alsa_device", default=""),
        espeak_voice=r.string(t, "voice", "espeak_voice", default="id"),
        espeak_speed=r.integer(t, "voice", "espeak_speed", default=150, low=80, high=400),
    )
    r.only_keys(t, "voice")
    return settings


def check_sections(config: Config) -> None:
    """check-config's part: [board] and [voice], as `antrean board` reads them at start."""
    board_settings(config)
    voice_settings(config)


def board_device(config: Config, wanted: str | None) -> str:
    """--device, or the first device with role board; a clear error otherwise."""
    boards = [d.id for d in config.devices if d.role is Role.BOARD]
    if wanted is None:
        if not boards:
            config.reader().fail("device", "role", "no [[device]] has role 'board'")
        return boards[0]
    if wanted not in boards:
        known = ", ".join(boards) or "none"
        raise ValueError(f"device {wanted!r} is not a board in {config.source} (boards: {known})")
    return wanted
