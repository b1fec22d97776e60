"""`antrean voice build [--config PATH] [--out DIR]`: makes the board's voice clips."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from antrean.config import config_path, load_config
from display_board.settings import voice_settings
from display_board.voice.clips import build_clips

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="voice_command", required=True)
    build = sub.add_parser("build", help="synthesise every clip with espeak-ng (offline)")
    build.add_argument("--config", help="office config (default $ANTREAN_CONFIG or /etc/antrean)")
    build.add_argument("--out", help="clip folder (default: [voice] clips from the config)")


def run(args: argparse.Namespace) -> int:
    """Builds the clips; recorded clips already in the folder are overwritten."""
    settings = voice_settings(load_config(config_path(args.config)))
    out = Path(args.out) if args.out else settings.clip_dir
    written = build_clips(settings, out)
    log.info("%d clips in %s", len(written), out)
    return 0
