"""A simulated scanner: types a code as a real one does, and misbehaves on request.

`SimScanner` is the scanner on its cable; the source opens it like a device
node and gets a `SimConnection`, read through a real pipe so the same
select() loop reads it as it reads /dev/input/eventN. `scan("12345678")`
types each digit as key-down then key-up, `gap_s` apart (real scanners:
1-10 ms), then Enter; `junk()` types a QR that is not a slip's; `partial()`
types digits with no Enter; `unplug()` makes the open connection fail as a
pulled USB device does (ENODEV) and refuses opens until `plug()`.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import Any

from antrean.backends import Backend, Key
from antrean.config import Config, ConfigReader
from kiosk.scanner.registry import SCANNERS, ScannerSettings
from kiosk.scanner.source import EV_KEY, KEY_DOWN, ScannerSource, key_names

EV_SYN = 0
# The key codes of linux/input-event-codes.h the simulator types (so that it
# needs no evdev: a demo laptop may not have it).
CODES = {
    **{f"KEY_{d}": 2 + (int(d) - 1) % 10 for d in "1234567890"},
    **{
        f"KEY_KP{d}": c
        for d, c in zip("7894561230", (71, 72, 73, 75, 76, 77, 79, 80, 81, 82), strict=True)
    },
    "KEY_ENTER": 28,
    "KEY_KPENTER": 96,
    "KEY_LEFTSHIFT": 42,
    "KEY_H": 35,
    "KEY_T": 20,
    "KEY_P": 25,
    "KEY_SEMICOLON": 39,
    "KEY_SLASH": 53,
    "KEY_DOT": 52,
}
NAMES = {code: name for name, code in CODES.items()}
JUNK = ("KEY_H", "KEY_T", "KEY_T", "KEY_P", "KEY_LEFTSHIFT", "KEY_SEMICOLON", "KEY_SLASH")


@dataclass(frozen=True, slots=True)
class Event:
    """What evdev's InputEvent carries that the source reads."""

    sec: int
    usec: int
    type: int
    code: int
    value: int


class SimConnection:
    """One open of the simulated scanner: its events through a pipe."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.grabbed = False
        self.gone = False
        self._events: list[Event] = []
        self._lock = threading.Lock()
        self._read_fd, self._write_fd = os.pipe()
        self.fd = self._read_fd

    def grab(self) -> None:
        self.grabbed = True

    def put(self, kind: int, code: int, value: int) -> None:
        now = time.time()
        with self._lock:
            self._events.append(Event(int(now), int(now % 1 * 1e6), kind, code, value))
        os.write(self._write_fd, b"e")

    def pull(self) -> None:
        self.gone = True
        os.write(self._write_fd, b"u")

    def read(self) -> list[Event]:
        os.read(self._read_fd, 4096)
        if self.gone:
            raise OSError(19, "No such device")
        with self._lock:
            events, self._events = self._events, []
        return events

    def close(self) -> None:
        if self._read_fd >= 0:
            os.close(self._read_fd)
            os.close(self._write_fd)
            self._read_fd = self._write_fd = -1


class SimScanner:
    """The simulated scanner on its cable; the source opens it, tests and demos type on it."""

    def __init__(self, gap_s: float = 0.004, path: str = "/dev/input/sim-scanner") -> None:
        self.gap_s = gap_s
        self.path = path
        self.plugged = True
        self.opened = 0
        self.connection: SimConnection | None = None

    def open(self) -> SimConnection:
        if not self.plugged:
            raise OSError(19, "No such device")
        self.connection = SimConnection(self.path)
        self.opened += 1
        return self.connection

    def keys(self, names: list[str]) -> None:
        """Each key down then up, `gap_s` apart, as the scanner's HID reports come."""
        for name in names:
            connection = self._connected()
            connection.put(EV_KEY, CODES[name], KEY_DOWN)
            connection.put(EV_SYN, 0, 0)
            connection.put(EV_KEY, CODES[name], 0)
            connection.put(EV_SYN, 0, 0)
            time.sleep(self.gap_s)

    def scan(self, code: str, keypad: bool = False) -> None:
        """A slip's QR read: its digits, then Enter (`keypad`: as a scanner set to keypad keys)."""
        kp = "KP" if keypad else ""
        self.keys([f"KEY_{kp}{d}" for d in code] + [f"KEY_{kp}ENTER"])

    def partial(self, code: str) -> None:
        """Digits with no Enter: the slip moved away mid-read."""
        self.keys([f"KEY_{d}" for d in code])

    def junk(self) -> None:
        """A QR that is not a slip's (a web address with digits in it), then Enter."""
        self.keys([*JUNK, "KEY_1", "KEY_2", "KEY_7", "KEY_DOT", "KEY_0", "KEY_ENTER"])

    def unplug(self) -> None:
        """The cable is pulled: the open connection fails, opens fail until plug()."""
        self.plugged = False
        if self.connection is not None:
            self.connection.pull()

    def plug(self) -> None:
        self.plugged = True

    def _connected(self) -> SimConnection:
        if self.connection is None or self.connection.gone:
            raise OSError(19, "the simulated scanner is not open")
        return self.connection


@dataclass(frozen=True, slots=True)
class SimSettings:
    gap_s: float


def parse(r: ConfigReader, t: dict[str, Any], where: str, _config: Config) -> SimSettings:
    ms = r.integer(t, where, "sim_gap_ms", default=4, low=0, high=200)
    return SimSettings(gap_s=ms / 1000)


def open_source(settings: ScannerSettings, scanner: SimScanner | None = None) -> ScannerSource:
    """The source over a simulated scanner (`scanner`: one a test or the demo types on)."""
    sim = scanner or SimScanner(settings.options.gap_s)
    try:
        names = key_names()  # evdev's own table, as the real driver reads keys
    except ImportError:
        names = NAMES
    return ScannerSource(f"simulated scanner {sim.path}", sim.open, names)


SCANNERS.register(
    Backend(
        name="sim",
        summary="a simulated scanner that tests and the demo type on",
        keys=(Key("sim_gap_ms", "int", 4, "milliseconds between keys, as a real scanner's"),),
        parse=parse,
        open=open_source,
    )
)
