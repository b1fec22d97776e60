"""`antrean voice build [--config PATH] [--out DIR]`: makes the board's voice clips.

`antrean voice folder` prints where they go (provisioning checks it).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from antrean.config import CONFIG_HELP, config_path, load_config
from display_board.settings import voice_settings
from display_board.voice.clips import ALL_CLIPS, VoiceBuildError, build_clips

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="voice_command", required=True)
    build = sub.add_parser("build", help="synthesise every clip with espeak-ng (offline)")
    build.add_argument("--config", help=CONFIG_HELP)
    build.add_argument("--out", help="clip folder (default: [voice] clips from the config)")
    build.add_argument(
        "--force", action="store_true", help="also replace clips that exist (recordings too)"
    )
    folder = sub.add_parser("folder", help="print the clip folder, [voice] clips (provisioning)")
    folder.add_argument("--config", help=CONFIG_HELP)


def run(args: argparse.Namespace) -> int:
    """Builds the missing clips (every clip with --force), or prints their folder."""
    settings = voice_settings(load_config(config_path(args.config)))
    if args.voice_command == "folder":
        print(settings.clip_dir)  # noqa: T201 - the command's answer
        return 0
    out = Path(args.out) if args.out else settings.clip_dir
    try:
        written = build_clips(settings, out, overwrite=args.force)
    except VoiceBuildError as exc:
        print(f"antrean: voice build failed: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    kept = len(ALL_CLIPS) - len(written)
    print(f"{len(written)} clips written to {out}; {kept} kept")  # noqa: T201 - the command's answer
    return 0
