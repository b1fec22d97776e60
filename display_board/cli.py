"""`antrean board --config PATH [--device ID]`: the waiting-room TV."""

from __future__ import annotations

import argparse
import logging
import os

from antrean.config import CONFIG_HELP, config_path, load_config
from display_board.settings import board_device, board_settings, voice_settings

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help=CONFIG_HELP)
    parser.add_argument("--device", help="this board's device id (default: the first board)")
    parser.add_argument("--windowed", action="store_true", help="a window, not full screen")


def run(args: argparse.Namespace) -> int:
    """Loads the config and the clips, then runs the board until it is closed."""
    config = load_config(config_path(args.config))
    settings = board_settings(config)
    voice = voice_settings(config)
    try:
        device = board_device(config, args.device)
    except ValueError as exc:
        log.error("%s", exc)
        return 2
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    from kivy.config import Config as KivyConfig  # noqa: PLC0415 - Kivy only on a board Pi

    if settings.fullscreen and not args.windowed:
        KivyConfig.set("graphics", "fullscreen", "auto")
    KivyConfig.set("graphics", "show_cursor", "0" if settings.fullscreen else "1")
    KivyConfig.set("input", "mouse", "mouse,disable_multitouch")

    from display_board.app import BoardApp  # noqa: PLC0415
    from display_board.voice.clips import ClipLibrary  # noqa: PLC0415
    from display_board.voice.registry import open_player  # noqa: PLC0415

    library = ClipLibrary(voice.clip_dir).load()
    player = open_player(voice)
    log.info("board %s: clips %s, player %s", device, voice.clip_dir, player.name)
    BoardApp(config, device, settings, library, player, voice.volume).run()
    return 0
