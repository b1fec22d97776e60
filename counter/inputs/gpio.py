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
from dataclasses import dataclass
from typing import Any

from antrean.backends import Backend, Key, Probe
from antrean.config import Config, ConfigReader
from counter.inputs.base import GPIO_HINT, HardwareUnavailable, HealthHandler, PressHandler
from counter.inputs.registry import SOURCES
from counter.settings import BUTTONS

log = logging.getLogger(__name__)

DEFAULT_PINS = {"next": 17, "recall": 27, "no_show": 22, "complete": 23}
BCM_PINS = (2, 27)  # the user GPIOs on the 40-pin header (BCM 0 and 1 are the HAT EEPROM)


@dataclass(frozen=True, slots=True)
class GpioSettings:
    pins: dict[str, int]  # button -> BCM pin
    bounce_s: float = 0.05
    pull_up: bool = True  # buttons wired to ground; False: wired to 3.3 V with pull-downs


def parse(r: ConfigReader, t: dict[str, Any], where: str, _config: Config) -> GpioSettings:
    """A pin per button (defaults DEFAULT_PINS), bounce_ms and pull_up; no pin twice."""
    low, high = BCM_PINS
    pins = {
        button: r.integer(t, where, button, default=DEFAULT_PINS[button], low=low, high=high)
        for button in BUTTONS
    }
    seen: dict[int, str] = {}
    for button, pin in pins.items():
        if pin in seen:
            first = seen[pin]
            # Name the key that is written in the file: a clash with a default pin
            # is fixed by setting the other button, which has no line of its own.
            key, other = (button, first) if button in t else (first, button)
            how = "" if other in t else " (its default pin)"
            r.fail(where, key, f"GPIO {pin} is already the {other} button{how}")
        seen[pin] = button
    return GpioSettings(
        pins=pins,
        bounce_s=r.integer(t, where, "bounce_ms", default=50, low=1, high=1000) / 1000,
        pull_up=r.boolean(t, where, "pull_up", default=True),
    )


def open_gpio(s: GpioSettings, pin_factory: Any | None = None) -> GpioButtons:
    """The buttons; their pins are opened at start."""
    return GpioButtons(s, pin_factory=pin_factory)


def check(_s: GpioSettings | None, probe: Probe) -> Any:
    """A GPIO chip that the service may open (the buttons, and the feedback LED and buzzer)."""
    chips = sorted(probe.dev.glob("gpiochip*"))
    if not chips:
        return probe.hardware(
            "gpio",
            f"no {probe.dev}/gpiochip*: this is not a Pi?",
            "use a USB keypad instead, or check the Pi model",
        )
    return probe.writable("gpio", chips[0], "button box")


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
        from gpiozero import Button  # noqa: PLC0415 - only a counter with buttons needs it
        from gpiozero.exc import GPIOZeroError  # noqa: PLC0415

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


SOURCES.register(
    Backend(
        name="gpio",
        summary="push buttons on the Pi's GPIO pins (gpiozero)",
        keys=(
            *(Key(b, "int", DEFAULT_PINS[b], f"BCM pin of the {b} button") for b in BUTTONS),
            Key("bounce_ms", "int", 50, "edges this close to the last one are ignored"),
            Key("pull_up", "bool", True, "false: buttons wired to 3.3 V with pull-downs"),
        ),
        parse=parse,
        open=open_gpio,
        check=check,
    )
)
