"""`antrean central --config PATH`: the kabupaten's (or province's) central service.

psycopg is imported inside run(): an office Pi without the `central` extra
still builds the whole command line.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from antrean.config import ConfigError
from central.config import CONFIG_HELP, config_path, load_central_config

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help=CONFIG_HELP)


def run(args: argparse.Namespace) -> int:
    """Runs the central service until SIGTERM or SIGINT."""
    try:
        config = load_central_config(config_path(args.config))
    except ConfigError as exc:
        log.critical("config error: %s", exc)
        sys.stderr.write(f"antrean: config error: {exc}\n")
        return 78  # EX_CONFIG
    from central.service import run_central  # noqa: PLC0415 - psycopg only where it runs

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda number, _frame: _stop(stop, number))
    return run_central(config, stop)


def _stop(stop: threading.Event, signum: int) -> None:
    log.info("signal %d: stopping", signum)
    stop.set()
