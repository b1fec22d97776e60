"""`player = "aplay"`: ALSA's aplay, one run per announcement (the usual board)."""

from __future__ import annotations

from typing import Any

from antrean.backends import Backend, Key, Probe
from antrean.config import Config, ConfigReader
from display_board.voice.player import SubprocessPlayer
from display_board.voice.registry import PLAYERS, sound_card


def aplay(device: str = "") -> SubprocessPlayer:
    """ALSA's aplay; device is an ALSA PCM name (`-D`), empty for the default."""
    return SubprocessPlayer("aplay", ["aplay", "-q", *(["-D", device] if device else [])])


def parse(r: ConfigReader, t: dict[str, Any], where: str, _config: Config) -> str:
    """alsa_device: aplay's -D, empty for the system default."""
    return r.string(t, where, "alsa_device", default="")


def open_aplay(settings: Any) -> SubprocessPlayer:
    """aplay on [voice] alsa_device."""
    return aplay(settings.options or "")


def check(_settings: Any, probe: Probe) -> Any:
    """aplay is installed and ALSA has a sound card."""
    return sound_card(probe)


PLAYERS.register(
    Backend(
        name="aplay",
        summary="ALSA's aplay (Raspberry Pi OS Lite)",
        keys=(
            Key("alsa_device", "str", "", 'aplay -D, e.g. "hdmi:CARD=vc4hdmi0"; empty: default'),
        ),
        parse=parse,
        open=open_aplay,
        check=check,
    )
)
