"""A USB numeric keypad read with evdev, grabbed so no other program sees its keys.

Without the grab, the keypad's Enter would also reach whatever has the
keyboard focus (the console, a terminal). Only key-down events count: a held
key's auto-repeat (value 2) and its release (value 0) send nothing, so a held
key is one press. Keys that are not in the map are ignored (and logged).

`KeypadDevice` is the part of `evdev.InputDevice` used here; `FakeKeypad` is
one that tests (and a demo without a keypad) feed with key names, through a
real file descriptor, so the same select loop reads both.
"""

from __future__ import annotations

import collections
import logging
import os
import re
import select
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast

from antrean.backends import Backend, Key, Probe
from antrean.config import Config, ConfigReader
from counter.inputs.base import ReadingSource
from counter.inputs.registry import SOURCES, device_node
from counter.settings import BUTTONS

if TYPE_CHECKING:
    from evdev import InputEvent

log = logging.getLogger(__name__)
KEY_DOWN = 1  # evdev key values: 0 up, 1 down, 2 auto-repeat
POLL_S = 0.2  # how often the reader looks at stop(); presses themselves wake it at once
RETRY_S = 2.0  # how often an unplugged keypad is looked for again
DEFAULT_KEYS = {
    "KEY_KPENTER": "next",
    "KEY_KPPLUS": "recall",
    "KEY_KPMINUS": "no_show",
    "KEY_KP0": "complete",
}
_KEY_NAME = re.compile(r"^(KEY|BTN)_[A-Z0-9_]+$")


@dataclass(frozen=True, slots=True)
class KeypadSettings:
    path: str
    keys: dict[str, str]  # evdev key name -> button


def parse(r: ConfigReader, t: dict[str, Any], where: str, _config: Config) -> KeypadSettings:
    """path (under /dev/input/) and keys, evdev key name -> button."""
    path = r.string(t, where, "path")
    if not path.startswith("/dev/input/"):
        r.fail(where, "path", f"must be an input device under /dev/input/, got {path!r}")
    keys = r.get(t, where, "keys", DEFAULT_KEYS)
    if not isinstance(keys, dict) or not keys:
        r.fail(where, "keys", 'must be a table like { KEY_KPENTER = "next" }')
    for name, button in keys.items():
        if not _KEY_NAME.fullmatch(name):
            r.fail(where, "keys", f"{name!r} is not an evdev key name such as KEY_KPENTER")
        if not isinstance(button, str) or button not in BUTTONS:
            choices = ", ".join(BUTTONS)
            r.fail(where, "keys", f"{name} = {button!r}: the button must be one of {choices}")
    unknown = _unknown_key_names(list(keys))
    if unknown:
        r.fail(where, "keys", f"unknown key {unknown[0]!r} (see `evtest` for the names)")
    return KeypadSettings(path=path, keys=dict(keys))


def _unknown_key_names(names: list[str]) -> list[str]:
    """Key names evdev does not know; none can be checked on a machine without evdev."""
    try:
        from evdev import ecodes  # noqa: PLC0415 - optional: only counter Pis have evdev
    except ImportError:
        return []
    return [name for name in names if name not in ecodes.ecodes]


def check(s: KeypadSettings, probe: Probe) -> Any:
    """The keypad's device node is there and the service may open it (the `input` group)."""
    fix = "plug the keypad in; its path is under /dev/input/by-id/"
    return device_node(probe, "keypad", s.path, "keypad", fix)


class KeypadDevice(Protocol):
    fd: int
    path: str

    def grab(self) -> None: ...
    def read(self) -> Iterable[Any]: ...
    def close(self) -> None: ...


DeviceOpener = Callable[[str], KeypadDevice]


def open_keypad(path: str) -> KeypadDevice:
    """The real keypad: an evdev input device (needs read access: the `input` group)."""
    from evdev import InputDevice  # noqa: PLC0415 - only a counter with a keypad needs it

    return cast(KeypadDevice, InputDevice(path))


class KeypadSource(ReadingSource):
    """Maps the keypad's keys to the counter's buttons."""

    name = "keypad"

    def __init__(self, settings: KeypadSettings, opener: DeviceOpener = open_keypad) -> None:
        super().__init__(f"keypad {settings.path}")
        self.settings = settings
        self._open = opener
        from evdev import ecodes  # noqa: PLC0415

        self._codes = {ecodes.ecodes[name]: button for name, button in settings.keys.items()}

    def _session(self) -> None:
        """Opens and grabs the keypad, then reads it until it goes away or stop()."""
        try:
            device = self._open(self.settings.path)
        except OSError as exc:
            self.health.set("offline", exc.strerror or str(exc))
            self._reader.wait(RETRY_S)
            return
        try:
            device.grab()
            self.health.set("ok")
            while not self._reader.stopping:
                ready, _, _ = select.select([device.fd], [], [], POLL_S)
                if ready:
                    for event in device.read():
                        self._on_event(event)
        except OSError as exc:
            self.health.set("offline", exc.strerror or str(exc))
            self._reader.wait(RETRY_S)
        finally:
            _close_quietly(device)

    def _on_event(self, event: Any) -> None:
        from evdev import ecodes  # noqa: PLC0415

        if event.type != ecodes.EV_KEY or event.value != KEY_DOWN:
            return
        button = self._codes.get(event.code)
        if button is None:
            log.debug("keypad: key %s is not mapped", ecodes.KEY.get(event.code, event.code))
            return
        self._pressed(button)


def _close_quietly(device: KeypadDevice) -> None:
    try:
        device.close()
    except OSError:
        log.debug("keypad close failed", exc_info=True)


class FakeKeypad:
    """A keypad that tests feed: events go through a pipe, so select() wakes like on a device."""

    def __init__(self, path: str = "/dev/input/fake-keypad") -> None:
        self.path = path
        self.grabbed = False
        self.closed = False
        self.unplugged = False
        self._events: collections.deque[InputEvent] = collections.deque()
        self._lock = threading.Lock()
        self._read_fd, self._write_fd = os.pipe()
        self.fd = self._read_fd

    def grab(self) -> None:
        self.grabbed = True

    def key(self, name: str, value: int = KEY_DOWN) -> None:
        """Injects one key event (value 1 down, 0 up, 2 auto-repeat) and a SYN report."""
        from evdev import InputEvent, ecodes  # noqa: PLC0415

        with self._lock:
            self._events.append(InputEvent(0, 0, ecodes.EV_KEY, ecodes.ecodes[name], value))
            self._events.append(InputEvent(0, 0, ecodes.EV_SYN, ecodes.SYN_REPORT, 0))
        os.write(self._write_fd, b"k")

    def tap(self, name: str) -> None:
        """A key pressed and released."""
        self.key(name, KEY_DOWN)
        self.key(name, 0)

    def unplug(self) -> None:
        """The next read fails as a pulled USB keypad does (ENODEV)."""
        self.unplugged = True
        os.write(self._write_fd, b"u")

    def read(self) -> list[InputEvent]:
        os.read(self._read_fd, 4096)
        if self.unplugged:
            raise OSError(19, "No such device")
        with self._lock:
            events = list(self._events)
            self._events.clear()
        return events

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.grabbed = False
            os.close(self._read_fd)
            os.close(self._write_fd)


def open_source(s: KeypadSettings, _pin_factory: Any | None = None) -> KeypadSource:
    """The keypad source; the device is opened (and grabbed) on its reader thread."""
    return KeypadSource(s)


SOURCES.register(
    Backend(
        name="keypad",
        summary="a USB numeric keypad (evdev), grabbed",
        keys=(
            Key("path", "str", help="/dev/input/by-id/...-event-kbd"),
            Key("keys", "table", DEFAULT_KEYS, "evdev key name -> button"),
        ),
        parse=parse,
        open=open_source,
        check=check,
    )
)
