"""The board's own config sections, [board] and [voice], read with file:line errors."""

from __future__ import annotations

from dataclasses import dataclass

from antrean.config import Config
from antrean.domain import Role
from display_board.voice.clips import VoiceSettings
from display_board.voice.registry import PLAYERS, SECTION, every_key


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
    """[voice] from the config; a bad value or an unknown player is a ConfigError with its line."""
    r = config.reader()
    t = r.table(config.sections, SECTION)
    player = r.string(t, SECTION, "player", default="aplay")
    backend = PLAYERS.choose(r, SECTION, "player", player)
    r.only_keys(t, SECTION, every_key())
    return VoiceSettings(
        clip_dir=config.path(r.string(t, SECTION, "clips", default="var/voice")),
        player=player,
        volume=r.integer(t, SECTION, "volume", default=100, low=0, high=100),
        espeak_voice=r.string(t, SECTION, "espeak_voice", default="id"),
        espeak_speed=r.integer(t, SECTION, "espeak_speed", default=150, low=80, high=400),
        options=backend.parse(r, t, SECTION, config),
    )


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
