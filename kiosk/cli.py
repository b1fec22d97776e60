"""`antrean kiosk --config PATH [--device ID]`: the resident's touchscreen and printer."""

from __future__ import annotations

import argparse
import logging
import re

from antrean.config import CONFIG_HELP, config_path, load_config
from antrean_apps.fullscreen import fullscreen_window_settings

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help=CONFIG_HELP)
    parser.add_argument("--device", help="this kiosk's device id (default: the first kiosk)")
    parser.add_argument(
        "--size",
        type=window_size,
        help="a window of this size instead of full screen, e.g. 800x480 (try-outs)",
    )


def window_size(text: str) -> str:
    """--size WIDTHxHEIGHT, each 200-4000 pixels."""
    m = re.fullmatch(r"(\d{3,4})x(\d{3,4})", text)
    if not m or not all(200 <= int(v) <= 4000 for v in m.groups()):
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT like 800x480, got {text!r}")
    return text


def run(args: argparse.Namespace) -> int:
    """Checks the config before Kivy opens a window, then runs the app until it is closed."""
    from kiosk.settings import kiosk_settings  # noqa: PLC0415 - see antrean_tools/cli.py

    config = load_config(config_path(args.config))
    settings = kiosk_settings(config, args.device)
    configure_kivy(args.size)
    from kiosk.app import KioskApp  # noqa: PLC0415 - imports Kivy

    log.info(
        "kiosk %s for %s, printer %s", settings.device_id, config.office.id, settings.printer.driver
    )
    KioskApp(config, settings).run()
    return 0


def configure_kivy(size: str | None) -> None:
    """Full screen without a pointer on the kiosk; a plain window with --size on a desktop.

    Must run before Kivy creates its window (that is, before kiosk.app is imported).
    """
    from kivy.config import Config as KivyConfig  # noqa: PLC0415

    KivyConfig.set("kivy", "exit_on_escape", "0")  # a stray keyboard must not close the kiosk
    KivyConfig.set("input", "mouse", "mouse,disable_multitouch")  # no red multitouch dots
    if size:
        width, _, height = size.partition("x")
        KivyConfig.set("graphics", "width", width)
        KivyConfig.set("graphics", "height", height)
    else:
        KivyConfig.set("graphics", "fullscreen", "auto")
        KivyConfig.set("graphics", "show_cursor", "0")
        for key, value in fullscreen_window_settings().items():
            KivyConfig.set("graphics", key, value)
