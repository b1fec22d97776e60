"""`antrean kiosk --config PATH [--device ID]`: the resident's touchscreen and printer."""

from __future__ import annotations

import argparse
import logging

from antrean.config import config_path, load_config

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="office config (default $ANTREAN_CONFIG or /etc/antrean)")
    parser.add_argument("--device", help="this kiosk's device id (default: the first kiosk)")
    parser.add_argument("--size", help="window size for a desktop try-out, e.g. 800x480")


def run(args: argparse.Namespace) -> int:
    """Checks the config before Kivy opens a window, then runs the app until it is closed."""
    from kiosk.settings import kiosk_settings  # noqa: PLC0415 - see antrean/cli.py

    config = load_config(config_path(args.config))
    settings = kiosk_settings(config, args.device)
    if args.size:
        width, _, height = args.size.partition("x")
        from kivy.config import Config as KivyConfig  # noqa: PLC0415

        KivyConfig.set("graphics", "width", width)
        KivyConfig.set("graphics", "height", height)
    from kiosk.app import KioskApp  # noqa: PLC0415 - imports Kivy

    log.info(
        "kiosk %s for %s, printer %s", settings.device_id, config.office.id, settings.printer.driver
    )
    KioskApp(config, settings).run()
    return 0
