"""Terminal keys for demos and for trying a counter without hardware.

    n  next (call_next)      r  recall      x  no-show      c  complete

Reads single key presses from a terminal (stdin by default) in cbreak mode,
so no Enter is needed; the terminal's settings are restored at stop. Other
keys print nothing and send nothing. When stdin is not a terminal (a systemd
service), the source stays idle; when the terminal goes away (end of input,
a closed terminal window), it says so once and stops reading.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import sys
import termios
import tty
from typing import Any

from antrean.backends import Backend, Probe, for_a_laptop
from antrean.config import Config, ConfigReader
from counter.inputs.base import HealthHandler, PressHandler, ReadingSource
from counter.inputs.registry import SOURCES

log = logging.getLogger(__name__)

KEYS = {"n": "next", "r": "recall", "x": "no_show", "c": "complete"}
POLL_S = 0.2


class KeyboardSource(ReadingSource):
    """One key, one press; reads a terminal file descriptor."""

    name = "keyboard"

    def __init__(self, fd: int | None = None) -> None:
        super().__init__("terminal keyboard")
        self.fd = sys.stdin.fileno() if fd is None else fd
        self._saved: Any = None  # termios attributes to restore

    def start(self, press: PressHandler, on_health: HealthHandler) -> None:
        self._press, self.health.handler = press, on_health
        if not os.isatty(self.fd):
            self.health.set("offline", "the standard input is not a terminal")
            return
        self._saved = termios.tcgetattr(self.fd)
        tty.setcbreak(self.fd)  # a key at a time, Ctrl-C still works
        log.info("keys: n = next, r = recall, x = no-show, c = complete")
        self.health.set("ok")
        self._reader.start()

    def stop(self) -> None:
        super().stop()
        if self._saved is not None:
            with contextlib.suppress(termios.error):
                termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
            self._saved = None

    def _session(self) -> None:
        try:
            ready, _, _ = select.select([self.fd], [], [], POLL_S)
            data = os.read(self.fd, 64) if ready else None
        except (OSError, ValueError) as exc:  # a closed terminal: EIO, or the fd gone
            self._gone(getattr(exc, "strerror", None) or str(exc))
            return
        if data is None:
            return
        if not data:
            self._gone("end of input")
            return
        for char in data.decode("utf-8", errors="ignore").lower():
            button = KEYS.get(char)
            if button:
                self._pressed(button)

    def _gone(self, why: str) -> None:
        # A terminal does not come back once closed: say so once and stop reading,
        # rather than a traceback every retry for the rest of the day.
        self.health.set("offline", why)
        self._reader.stop()


def parse(_r: ConfigReader, _t: dict[str, Any], _where: str, _config: Config) -> None:
    """No keys: `keyboard = true`."""


def open_keyboard(_s: None, _pin_factory: Any | None = None) -> KeyboardSource:
    """The terminal of stdin."""
    return KeyboardSource()


def check(_s: None, probe: Probe) -> Any:
    """Terminal keys work in a terminal only: fine on a laptop, a warning on a provisioned unit."""
    return for_a_laptop(
        probe,
        "keyboard",
        "terminal keys (keyboard = true) work only when the agent runs in a terminal",
        "under systemd there is none: add [counter_inputs.N.gpio], .keypad or .serial",
    )


SOURCES.register(
    Backend(
        name="keyboard",
        summary="terminal keys n/r/x/c, for demos and trying a counter",
        keys=(),
        parse=parse,
        open=open_keyboard,
        check=check,
    )
)
