"""`antrean board --config PATH [--device ID]`: the waiting-room TV."""

from __future__ import annotations

import argparse
import logging
import os

from antrean.config import CONFIG_HELP, config_path, load_config
from antrean_apps.fullscreen import fullscreen_window_settings
from display_board.settings import board_device, board_settings, voice_settings

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help=CONFIG_HELP)
    parser.add_argument("--device", help="this board's device id (default: the first board)")
    parser.add_argument("--windowed", action="store_true", help="a window, not full screen")


def configure_kivy(fullscreen: bool) -> None:
    """Full screen (covering an X11 screen too) or a window; before Kivy opens its window."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    from kivy.config import Config as KivyConfig  # noqa: PLC0415 - Kivy only on a board Pi

    if fullscreen:
        KivyConfig.set("graphics", "fullscreen", "auto")
        for key, value in fullscreen_window_settings().items():
            KivyConfig.set("graphics", key, value)
    KivyConfig.set("graphics", "show_cursor", "0" if fullscreen else "1")
    KivyConfig.set("input", "mouse", "mouse,disable_multitouch")


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
    configure_kivy(settings.fullscreen and not args.windowed)
    from display_board.app import BoardApp  # noqa: PLC0415
    from display_board.voice.clips import ClipLibrary  # noqa: PLC0415
    from display_board.voice.registry import open_player  # noqa: PLC0415

    library = ClipLibrary(voice.clip_dir).load()
    player = open_player(voice)
    log.info("board %s: clips %s, player %s", device, voice.clip_dir, player.name)
    BoardApp(config, device, settings, library, player, voice.volume).run()
    return 0
