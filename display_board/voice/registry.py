"""The board's voice players, by name: `[voice] player` is read, opened and checked here.

Each player is one module in display_board/voice/players/ that registers a
Backend in PLAYERS: its own `[voice]` keys, a parser for them (giving its
settings, the board's `VoiceSettings.options`), how to open it, and its
`antrean doctor` check (the "audio" line). Nothing here starts a process or
imports Kivy: the doctor and check-config run it on every role.
"""

from __future__ import annotations

from typing import Any

from antrean.backends import Key, Probe, Registry
from antrean.config import Config, ConfigError
from display_board.voice.player import Player

SECTION = "voice"
PLAYERS = Registry("voice player", "display_board.voice.players")
# The keys of [voice] whatever the player; a player's own come from its Backend.
COMMON_KEYS = (
    Key("player", "str", "aplay", "the name of a registered player"),
    Key("clips", "path", "var/voice", "the clip folder (antrean voice build)"),
    Key("volume", "int", 100, "percent of the clips' level, 0-100"),
    Key("espeak_voice", "str", "id", "for antrean voice build"),
    Key("espeak_speed", "int", 150, "words per minute, 80-400"),
)


def every_key() -> list[str]:
    """[voice]'s keys: the common ones and every player's (switching player = "none" to
    silence a board leaves the others' keys in the file, and that is no mistake)."""
    own = (k.name for b in PLAYERS.backends().values() for k in b.keys)
    return [*(k.name for k in COMMON_KEYS), *own]


def open_player(settings: Any) -> Player:
    """The player named in [voice] player (`settings`: the board's VoiceSettings)."""
    player: Player = PLAYERS.open(settings.player, settings)
    return player


def doctor_check(config: Config, probe: Probe) -> Any:
    """`antrean doctor`'s audio line: the configured player's own check."""
    from display_board.settings import voice_settings  # noqa: PLC0415 - it imports this module

    try:
        settings = voice_settings(config)
    except ConfigError as exc:
        return probe.result("FAIL", "audio", str(exc), "edit [voice]; antrean check-config")
    return PLAYERS.check(settings.player, settings, probe, "audio")


def sound_card(probe: Probe) -> Any:
    """The first sound card ALSA lists (`aplay -l`): a player needs one."""
    try:
        out = probe.run(["aplay", "-l"])
    except FileNotFoundError:
        return probe.hardware("audio", "aplay is not installed", "sudo apt install alsa-utils")
    cards = [line for line in out.stdout.splitlines() if line.startswith("card ")]
    if not cards:
        return probe.hardware(
            "audio",
            "no sound card found (aplay -l)",
            "connect the TV by HDMI before boot, or a USB speaker; reboot",
        )
    return probe.result("OK", "audio", cards[0])
