"""GPIO push buttons on a Pi (gpiozero): one pin per button, each wired to ground.

gpiozero's `bounce_time` debounces in the pin driver on a Pi. The agent does
not rely on it alone: the mock pins used in tests do not debounce, and some
drivers debounce only one edge. So each button also ignores a press that
comes within `bounce_s` of its own previous edge (press or release): a
contact that chatters for a few milliseconds is one press. A held button is
one press too: only the press edge sends (`when_pressed`), never `when_held`.

The pin factory comes from `GPIOZERO_PIN_FACTORY` (lgpio on a Pi 5, `mock` in
tests) unless one is passed in.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from gpiozero import Button
from gpiozero.exc import GPIOZeroError

from counter.inputs.base import GPIO_HINT, HardwareUnavailable, HealthHandler, PressHandler
from counter.settings import GpioSettings

log = logging.getLogger(__name__)


class GpioButtons:
    """The next / recall / no-show / complete buttons of one counter."""

    name = "gpio"

    def __init__(
        self,
        settings: GpioSettings,
        pin_factory: Any | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._factory = pin_factory
        self._clock = clock
        self._lock = threading.Lock()
        self._last_edge: dict[str, float] = {}
        self.buttons: dict[str, Any] = {}

    def start(self, press: PressHandler, on_health: HealthHandler) -> None:
        try:
            for button, pin in self.settings.pins.items():
                device = Button(
                    pin,
                    pull_up=self.settings.pull_up,
                    bounce_time=self.settings.bounce_s,
                    pin_factory=self._factory,
                )
                device.when_pressed = self._edge_handler(button, press, pressed=True)
                device.when_released = self._edge_handler(button, press, pressed=False)
                self.buttons[button] = device
        except (GPIOZeroError, OSError, RuntimeError) as exc:
            self.stop()
            on_health(self.name, "offline")
            raise HardwareUnavailable(
                f"cannot open the counter's GPIO buttons ({exc}); {GPIO_HINT}"
            ) from exc
        log.info(
            "gpio buttons on %s", ", ".join(f"{b}=GPIO{p}" for b, p in self.settings.pins.items())
        )
        on_health(self.name, "ok")

    def stop(self) -> None:
        for device in self.buttons.values():
            device.close()
        self.buttons.clear()

    def _edge_handler(self, button: str, press: PressHandler, pressed: bool) -> Callable[[], None]:
        def on_edge() -> None:
            if self._accept(button) and pressed:
                press(button, self.name, None)

        return on_edge

    def _accept(self, button: str) -> bool:
        """True when the button was quiet for bounce_s before this edge; every edge restarts it."""
        now = self._clock()
        with self._lock:
            last = self._last_edge.get(button)
            self._last_edge[button] = now
        return last is None or now - last >= self.settings.bounce_s
