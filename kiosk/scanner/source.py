"""Key events from a scanner to whole booking codes, on a reader thread that survives unplugging.

A scanner types a code in a few tens of milliseconds: digit keys (the top
row or the keypad's), each down and up, then Enter. `CodeReader` turns those
events into codes; `ScannerSource` opens and grabs the device, reads it and
hands each code to the kiosk. What is not a whole code gives nothing:
- a letter or sign among the digits (a QR that is not a slip's, such as a
  ticket's phone-page address) spoils the scan: the Enter that ends it is
  dropped, so no wrong digits land on the code screen;
- digits with no Enter (the scan was cut off) are dropped when the next key
  comes more than STALE_S later, or when the device goes away;
- Shift and the other modifiers, key-up and auto-repeat events count for nothing.
"""

from __future__ import annotations

import logging
import select
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

log = logging.getLogger(__name__)
KEY_DOWN = 1  # evdev key values: 0 up, 1 down, 2 auto-repeat
EV_KEY = 1  # evdev event type of a key (linux/input-event-codes.h)
# Scanners type 100-1000 keys a second: a key this long after the last one is
# no part of the same scan (a person typing on a keyboard is slower still).
STALE_S = 0.5
POLL_S = 0.2  # how often the reader looks at stop(); key events wake it at once
RETRY_S = 2.0  # how often an unplugged scanner is looked for again
MODIFIERS = frozenset(
    f"KEY_{side}{key}" for side in ("LEFT", "RIGHT") for key in ("SHIFT", "CTRL", "ALT", "META")
) | {"KEY_CAPSLOCK", "KEY_NUMLOCK"}
ENTERS = frozenset({"KEY_ENTER", "KEY_KPENTER"})


def key_names() -> dict[int, str]:
    """evdev's key code -> the name this module uses (KEY_1, KEY_KP1, KEY_ENTER, ...)."""
    from evdev import ecodes  # noqa: PLC0415 - only a kiosk with a scanner needs evdev

    names: dict[int, str] = {}
    for code, name in ecodes.KEY.items():
        names[code] = name if isinstance(name, str) else name[0]
    return names


def digit_of(name: str) -> str | None:
    """'KEY_7' and 'KEY_KP7' -> '7'; anything else None."""
    tail = name.removeprefix("KEY_").removeprefix("KP")
    return tail if len(tail) == 1 and tail.isdigit() else None


@dataclass(slots=True)
class CodeReader:
    """The scan being typed: digits so far, whether it is spoilt, when its last key came."""

    names: dict[int, str]
    digits: list[str] = field(default_factory=list)
    spoilt: bool = False
    last_at: float = float("-inf")

    def feed(self, kind: int, code: int, value: int, at: float) -> str | None:
        """One input event; the code typed when it is a whole scan's Enter, else None."""
        if kind != EV_KEY or value != KEY_DOWN:
            return None
        name = self.names.get(code, f"key {code}")
        if name in MODIFIERS:
            return None
        if at - self.last_at > STALE_S and (self.digits or self.spoilt):
            log.info("scanner: %d digits with no Enter dropped", len(self.digits))
            self.drop()
        self.last_at = at
        if name in ENTERS:
            typed, spoilt = "".join(self.digits), self.spoilt
            self.drop()
            if spoilt or not typed:
                log.info("scanner: a scan that is not a booking code was ignored")
                return None
            return typed
        digit = digit_of(name)
        if digit is None:
            self.spoilt = True  # never logged by value: it could be anything a QR holds
        else:
            self.digits.append(digit)
        return None

    def drop(self) -> None:
        self.digits.clear()
        self.spoilt = False


class ScannerDevice(Protocol):
    """The part of `evdev.InputDevice` used here (the simulator has it too)."""

    fd: int
    path: str

    def grab(self) -> None: ...
    def read(self) -> Iterable[Any]: ...
    def close(self) -> None: ...


CodeHandler = Callable[[str], None]  # called on the reader thread
HealthHandler = Callable[[str], None]  # "ok" | "offline", on the reader thread


class ScannerSource:
    """Reads one scanner on a daemon thread; opens it again after it goes away."""

    def __init__(
        self, where: str, opener: Callable[[], ScannerDevice], names: dict[int, str]
    ) -> None:
        self.where = where  # for people: "scanner /dev/input/by-id/..."
        self._open = opener
        self._names = names
        self._on_code: CodeHandler | None = None
        self._on_health: HealthHandler | None = None
        self.status: str | None = None
        self.sessions = 0  # times the device was opened and grabbed (tests read it)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="kiosk-scanner")

    def start(self, on_code: CodeHandler, on_health: HealthHandler) -> None:
        self._on_code, self._on_health = on_code, on_health
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._session()
            except Exception:
                log.exception("%s failed; retrying in %.0f s", self.where, RETRY_S)
                self._set("offline", "error")
                self._stopping.wait(RETRY_S)

    def _session(self) -> None:
        """Opens and grabs the scanner, then reads it until it goes away or stop()."""
        try:
            device = self._open()
        except OSError as exc:
            self._set("offline", exc.strerror or str(exc))
            self._stopping.wait(RETRY_S)
            return
        reader = CodeReader(self._names)
        try:
            device.grab()  # its digits and Enter reach nothing else (no window, no console)
            self.sessions += 1
            self._set("ok")
            while not self._stopping.is_set():
                ready, _, _ = select.select([device.fd], [], [], POLL_S)
                for event in device.read() if ready else ():
                    at = event.sec + event.usec / 1e6
                    code = reader.feed(event.type, event.code, event.value, at)
                    if code is not None and self._on_code is not None:
                        self._on_code(code)
        except OSError as exc:
            if reader.digits:
                log.info("scanner: %d digits dropped: the device went away", len(reader.digits))
            self._set("offline", exc.strerror or str(exc))
            self._stopping.wait(RETRY_S)
        finally:
            try:
                device.close()
            except OSError:
                log.debug("scanner close failed", exc_info=True)

    def _set(self, status: str, why: str = "") -> None:
        """A change of the scanner's health: one log line and the kiosk's status, once."""
        if status != self.status:
            self.status = status
            level, what = (logging.INFO, "ready") if status == "ok" else (logging.WARNING, why)
            log.log(level, "%s: %s", self.where, what)
            if self._on_health is not None:
                self._on_health(status)
