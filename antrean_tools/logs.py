"""Logging of every `antrean` process: one handler, one format, INFO unless --verbose.

A Pi's journal is small. Kivy, left to itself, adds its own console handler
to the root logger (each line then appears twice, once in its format), lowers
the root logger to NOTSET (so every MQTT payload logged at DEBUG comes out),
writes a log file of its own under ~/.kivy, and warns about an "older
configuration version" whenever its ~/.kivy/config.ini is new or absent. The
apps set everything Kivy needs from the office config and the command line,
so Kivy logs through `logging` and reads and writes no file of its own. This
module sets the environment only; it imports no Kivy.
"""

from __future__ import annotations

import logging
import os

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Read by Kivy when it is first imported; a value set by the caller (a unit,
# a test) wins.
KIVY_ENVIRONMENT = {
    "KIVY_LOG_MODE": "PYTHON",  # no handler of its own, no stderr redirection
    "KIVY_NO_FILELOG": "1",  # the journal keeps the log; no files under ~/.kivy/logs
    "KIVY_NO_CONFIG": "1",  # no ~/.kivy/config.ini: the apps configure Kivy themselves
}


def configure(verbose: bool = False) -> None:
    """INFO (DEBUG with --verbose: every MQTT message in and out) to stderr, one format."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format=FORMAT)
    # Kivy's own debug lines (27 on each start for its config defaults) are no
    # help with ours, even with --verbose.
    logging.getLogger("kivy").setLevel(logging.INFO)
    for name, value in KIVY_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
