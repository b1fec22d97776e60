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
import select
import threading
from collections.abc import Callable, Iterable
from typing import Any, Protocol, cast

from evdev import InputDevice, InputEvent, ecodes

from counter.inputs.base import ReadingSource
from counter.settings import KeypadSettings

log = logging.getLogger(__name__)
KEY_DOWN = 1  # evdev key values: 0 up, 1 down, 2 auto-repeat
POLL_S = 0.2  # how often the reader looks at stop(); presses themselves wake it at once
RETRY_S = 2.0  # how often an unplugged keypad is looked for again


class KeypadDevice(Protocol):
    fd: int
    path: str

    def grab(self) -> None: ...
    def read(self) -> Iterable[Any]: ...
    def close(self) -> None: ...


DeviceOpener = Callable[[str], KeypadDevice]


def open_keypad(path: str) -> KeypadDevice:
    """The real keypad: an evdev input device (needs read access: the `input` group)."""
    return cast(KeypadDevice, InputDevice(path))


class KeypadSource(ReadingSource):
    """Maps the keypad's keys to the counter's buttons."""

    name = "keypad"

    def __init__(self, settings: KeypadSettings, opener: DeviceOpener = open_keypad) -> None:
        super().__init__(f"keypad {settings.path}")
        self.settings = settings
        self._open = opener
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
