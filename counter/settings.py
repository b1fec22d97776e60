"""The counter agent's own config section: which inputs a counter has, and its feedback.

One table per counter number, so one office file serves every counter Pi:

    [counter_inputs.1]
    keyboard = true            # terminal keys n/r/x/c (demos)
    reply_timeout_s = 3
    call_guard_s = 3           # a call_next this soon after a call is refused (0: off)

    [counter_inputs.1.gpio]    # buttons to ground, internal pull-up (BCM numbers)
    next = 17
    recall = 27
    no_show = 22
    complete = 23
    bounce_ms = 50

    [counter_inputs.1.keypad]  # a USB numeric keypad (evdev), grabbed
    path = "/dev/input/by-id/usb-...-event-kbd"
    keys = { KEY_KPENTER = "next", KEY_KPPLUS = "recall", KEY_KPMINUS = "no_show",
             KEY_KP0 = "complete" }       # (on one line in the file)

    [counter_inputs.1.serial]  # a serial button box (docs/counter.md has its line protocol)
    port = "/dev/ttyUSB0"
    baudrate = 9600

    [counter_inputs.1.feedback]
    led = 24
    buzzer = 25

Every error names the file, line and key (through `Config.reader()`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from antrean.config import Config, ConfigReader

SECTION = "counter_inputs"
SUBTABLES = ("gpio", "keypad", "serial", "feedback")
# The four buttons every input source can press, and the command each one sends.
BUTTONS: dict[str, str] = {
    "next": "call_next",
    "recall": "recall",
    "no_show": "no_show",
    "complete": "complete",
}
DEFAULT_PINS = {"next": 17, "recall": 27, "no_show": 22, "complete": 23}
DEFAULT_KEYS = {
    "KEY_KPENTER": "next",
    "KEY_KPPLUS": "recall",
    "KEY_KPMINUS": "no_show",
    "KEY_KP0": "complete",
}
BCM_PINS = range(2, 28)  # the user GPIOs on the 40-pin header (BCM 0 and 1 are the HAT EEPROM)
BAUDRATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
_KEY_NAME = re.compile(r"^(KEY|BTN)_[A-Z0-9_]+$")


@dataclass(frozen=True, slots=True)
class GpioSettings:
    pins: dict[str, int]  # button -> BCM pin
    bounce_s: float = 0.05
    pull_up: bool = True  # buttons wired to ground; False: wired to 3.3 V with pull-downs


@dataclass(frozen=True, slots=True)
class KeypadSettings:
    path: str
    keys: dict[str, str]  # evdev key name -> button


@dataclass(frozen=True, slots=True)
class SerialSettings:
    port: str
    baudrate: int = 9600


@dataclass(frozen=True, slots=True)
class FeedbackSettings:
    led: int | None = None  # BCM pin of an LED (through a resistor to ground)
    buzzer: int | None = None  # BCM pin of an active buzzer


@dataclass(frozen=True, slots=True)
class CounterInputs:
    """What one counter presses with, and how it is told the outcome."""

    counter: int
    keyboard: bool = False
    gpio: GpioSettings | None = None
    keypad: KeypadSettings | None = None
    serial: SerialSettings | None = None
    feedback: FeedbackSettings = field(default_factory=FeedbackSettings)
    reply_timeout_s: float = 3.0
    call_guard_s: float = 3.0

    @property
    def sources(self) -> list[str]:
        """The names of the configured input sources, in a fixed order."""
        names = [("gpio", self.gpio), ("keypad", self.keypad), ("serial", self.serial)]
        found = [name for name, value in names if value is not None]
        return [*found, "keyboard"] if self.keyboard else found


def counter_inputs(config: Config, counter: int) -> CounterInputs:
    """The `[counter_inputs.N]` table of one counter; absent means no inputs (console only)."""
    r = config.reader()
    section = _section(r, config)
    where = f"{SECTION}.{counter}"
    t = r.table(section, str(counter))
    r.only_keys(t, where, {"keyboard", "reply_timeout_s", "call_guard_s", *SUBTABLES})
    gpio = _gpio(r, t, where) if "gpio" in t else None
    feedback = _feedback(r, t, where)
    if gpio:
        _distinct_pins(r, where, t, gpio, feedback)
    return CounterInputs(
        counter=counter,
        keyboard=r.boolean(t, where, "keyboard", default=False),
        gpio=gpio,
        keypad=_keypad(r, t, where) if "keypad" in t else None,
        serial=_serial(r, t, where) if "serial" in t else None,
        feedback=feedback,
        reply_timeout_s=r.integer(t, where, "reply_timeout_s", default=3, low=1, high=30),
        call_guard_s=r.integer(t, where, "call_guard_s", default=3, low=0, high=60),
    )


def check_sections(config: Config) -> None:
    """check-config's part: every counter's table, as its `antrean counter` reads it."""
    _section(config.reader(), config)
    for c in config.counters:
        counter_inputs(config, c.number)


def _section(r: ConfigReader, config: Config) -> dict[str, Any]:
    """[counter_inputs]: one table per counter number, and only for counters that exist."""
    section = r.table(config.sections, SECTION)
    for key in section:
        if not key.isdigit() or config.counter(int(key)) is None:
            r.fail(f"{SECTION}.{key}", "", f"no [[counter]] has number {key!r}")
    return section


def _gpio(r: ConfigReader, parent: dict[str, Any], where: str) -> GpioSettings:
    sub = f"{where}.gpio"
    t = r.table(parent, "gpio")
    r.only_keys(t, sub, {*BUTTONS, "bounce_ms", "pull_up"})
    pins = {
        button: r.integer(t, sub, button, default=DEFAULT_PINS[button], low=2, high=27)
        for button in BUTTONS
    }
    return GpioSettings(
        pins=pins,
        bounce_s=r.integer(t, sub, "bounce_ms", default=50, low=1, high=1000) / 1000,
        pull_up=r.boolean(t, sub, "pull_up", default=True),
    )


def _feedback(r: ConfigReader, parent: dict[str, Any], where: str) -> FeedbackSettings:
    sub = f"{where}.feedback"
    t = r.table(parent, "feedback")
    r.only_keys(t, sub, {"led", "buzzer"})
    led: int | None = r.integer(t, sub, "led", low=2, high=27) if "led" in t else None
    buzzer: int | None = None
    if "buzzer" in t:
        buzzer = r.integer(t, sub, "buzzer", low=2, high=27)
    if led is not None and led == buzzer:
        r.fail(sub, "buzzer", f"GPIO {buzzer} is the LED's pin too")
    return FeedbackSettings(led=led, buzzer=buzzer)


def _distinct_pins(
    r: ConfigReader, where: str, t: dict[str, Any], gpio: GpioSettings, fb: FeedbackSettings
) -> None:
    seen: dict[int, str] = {}
    for button, pin in gpio.pins.items():
        if pin in seen:
            first = seen[pin]
            # Name the key that is written in the file: a clash with a default pin
            # is fixed by setting the other button, which has no line of its own.
            key, other = (button, first) if button in t.get("gpio", {}) else (first, button)
            how = "" if other in t.get("gpio", {}) else " (its default pin)"
            r.fail(f"{where}.gpio", key, f"GPIO {pin} is already the {other} button{how}")
        seen[pin] = button
    for key, out in (("led", fb.led), ("buzzer", fb.buzzer)):
        if out is not None and out in seen:
            r.fail(f"{where}.feedback", key, f"GPIO {out} is already the {seen[out]} button")


def _keypad(r: ConfigReader, parent: dict[str, Any], where: str) -> KeypadSettings:
    sub = f"{where}.keypad"
    t = r.table(parent, "keypad")
    r.only_keys(t, sub, {"path", "keys"})
    path = r.string(t, sub, "path")
    if not path.startswith("/dev/input/"):
        r.fail(sub, "path", f"must be an input device under /dev/input/, got {path!r}")
    keys = t.get("keys", DEFAULT_KEYS)
    if not isinstance(keys, dict) or not keys:
        r.fail(sub, "keys", 'must be a table like { KEY_KPENTER = "next" }')
    for name, button in keys.items():
        if not _KEY_NAME.fullmatch(name):
            r.fail(sub, "keys", f"{name!r} is not an evdev key name such as KEY_KPENTER")
        if not isinstance(button, str) or button not in BUTTONS:
            choices = ", ".join(BUTTONS)
            r.fail(sub, "keys", f"{name} = {button!r}: the button must be one of {choices}")
    unknown = _unknown_key_names(list(keys))
    if unknown:
        r.fail(sub, "keys", f"unknown key {unknown[0]!r} (see `evtest` for the names)")
    return KeypadSettings(path=path, keys=dict(keys))


def _serial(r: ConfigReader, parent: dict[str, Any], where: str) -> SerialSettings:
    sub = f"{where}.serial"
    t = r.table(parent, "serial")
    r.only_keys(t, sub, {"port", "baudrate"})
    baudrate = r.integer(t, sub, "baudrate", default=9600, low=1, high=4_000_000)
    if baudrate not in BAUDRATES:
        r.fail(sub, "baudrate", f"must be one of {', '.join(map(str, BAUDRATES))}")
    return SerialSettings(port=r.string(t, sub, "port"), baudrate=baudrate)


def _unknown_key_names(names: list[str]) -> list[str]:
    """Key names evdev does not know; none can be checked on a machine without evdev."""
    try:
        from evdev import ecodes  # noqa: PLC0415 - optional: only counter Pis have evdev
    except ImportError:
        return []
    return [name for name in names if name not in ecodes.ecodes]
