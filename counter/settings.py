"""The counter agent's own config section: which inputs a counter has, and its feedback.

One table per counter number, so one office file serves every counter Pi:

    [counter_inputs.1]
    keyboard = true            # a source with its defaults: NAME = true
    reply_timeout_s = 3
    call_guard_s = 3           # a call_next this soon after a call is refused (0: off)

    [counter_inputs.1.gpio]    # a source with its keys: [counter_inputs.N.NAME]
    next = 17

    [counter_inputs.1.feedback]
    led = 24
    buzzer = 25

The sources (gpio, keypad, serial, keyboard, ...) are the ones registered in
counter/inputs/registry.py; each reads its own table. Every error names the
file, line and key (through `Config.reader()`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from antrean.config import Config, ConfigReader
from counter.inputs.registry import read_sources

SECTION = "counter_inputs"
# The four buttons every input source can press, and the command each one sends.
BUTTONS: dict[str, str] = {
    "next": "call_next",
    "recall": "recall",
    "no_show": "no_show",
    "complete": "complete",
}


@dataclass(frozen=True, slots=True)
class FeedbackSettings:
    led: int | None = None  # BCM pin of an LED (through a resistor to ground)
    buzzer: int | None = None  # BCM pin of an active buzzer


@dataclass(frozen=True, slots=True)
class CounterInputs:
    """What one counter presses with, and how it is told the outcome."""

    counter: int
    # source name -> that source's own settings (counter/inputs/gpio.py: GpioSettings)
    inputs: dict[str, Any] = field(default_factory=dict)
    feedback: FeedbackSettings = field(default_factory=FeedbackSettings)
    reply_timeout_s: float = 3.0
    call_guard_s: float = 3.0

    @property
    def sources(self) -> list[str]:
        """The names of the configured input sources, in name order."""
        return list(self.inputs)


def counter_inputs(config: Config, counter: int) -> CounterInputs:
    """The `[counter_inputs.N]` table of one counter; absent means no inputs (console only)."""
    r = config.reader()
    section = _section(r, config)
    where = f"{SECTION}.{counter}"
    t = r.table(section, str(counter))
    inputs = read_sources(r, t, where, config, ("reply_timeout_s", "call_guard_s", "feedback"))
    return CounterInputs(
        counter=counter,
        inputs=inputs,
        feedback=_feedback(r, t, where, inputs),
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


def _feedback(
    r: ConfigReader, parent: dict[str, Any], where: str, inputs: dict[str, Any]
) -> FeedbackSettings:
    """[counter_inputs.N.feedback]; its pins may not be a source's (a `pins` dict: gpio's)."""
    sub = f"{where}.feedback"
    t = r.table(parent, "feedback")
    r.only_keys(t, sub, {"led", "buzzer"})
    led: int | None = r.integer(t, sub, "led", low=2, high=27) if "led" in t else None
    buzzer: int | None = None
    if "buzzer" in t:
        buzzer = r.integer(t, sub, "buzzer", low=2, high=27)
    if led is not None and led == buzzer:
        r.fail(sub, "buzzer", f"GPIO {buzzer} is the LED's pin too")
    held = {p: b for s in inputs.values() for b, p in getattr(s, "pins", {}).items()}
    for key, pin in (("led", led), ("buzzer", buzzer)):
        if pin is not None and pin in held:
            r.fail(sub, key, f"GPIO {pin} is already the {held[pin]} button")
    return FeedbackSettings(led=led, buzzer=buzzer)
