"""`player = "pw-play"`: PipeWire's player, for images that run PipeWire (desktop OS)."""

from __future__ import annotations

from typing import Any

from antrean.backends import Backend, Probe
from antrean.config import Config, ConfigReader
from display_board.voice.player import SubprocessPlayer
from display_board.voice.registry import PLAYERS, sound_card


def pw_play() -> SubprocessPlayer:
    """PipeWire's pw-play, for desktops and newer Raspberry Pi OS images."""
    return SubprocessPlayer("pw-play", ["pw-play"])


def parse(_r: ConfigReader, _t: dict[str, Any], _where: str, _config: Config) -> None:
    """No keys of its own: PipeWire chooses the output."""


def check(_settings: Any, probe: Probe) -> Any:
    """pw-play is installed, and there is a sound card for PipeWire to play on."""
    try:
        probe.run(["pw-play", "--version"])
    except FileNotFoundError:
        return probe.hardware(
            "audio",
            "pw-play is not installed",
            'sudo apt install pipewire-bin; or player = "aplay"',
        )
    return sound_card(probe)


PLAYERS.register(
    Backend(
        name="pw-play",
        summary="PipeWire's pw-play (desktop Raspberry Pi OS)",
        keys=(),
        parse=parse,
        open=lambda _settings: pw_play(),
        check=check,
    )
)
