"""`player = "none"`: a silent board; announcements still run in order, and show."""

from __future__ import annotations

import logging
from typing import Any

from antrean.backends import Backend, Probe, for_a_laptop
from antrean.config import Config, ConfigReader
from display_board.voice.player import Sound
from display_board.voice.registry import PLAYERS

log = logging.getLogger(__name__)


class SilentPlayer:
    """Plays nothing, at once."""

    name = "none"

    def play(self, sound: Sound) -> None:
        log.debug("silent board: %s", sound.text)

    def stop(self) -> None:
        pass


def parse(_r: ConfigReader, _t: dict[str, Any], _where: str, _config: Config) -> None:
    """No keys."""


def check(_settings: Any, probe: Probe) -> Any:
    """A silent board is a choice: fine on a laptop, a warning on a provisioned unit."""
    return for_a_laptop(
        probe,
        "audio",
        "silent board (player = none): calls are shown, not spoken",
        'set [voice] player = "aplay" for a TV with speakers',
    )


PLAYERS.register(
    Backend(
        name="none",
        summary="no sound; the calls still show in order",
        keys=(),
        parse=parse,
        open=lambda _settings: SilentPlayer(),
        check=check,
    )
)
