"""Input sources of the counter agent: one module per kind, all behind `InputSource`.

`build_sources(settings)` makes the sources a counter's config asks for; each
module imports its hardware library (gpiozero, evdev, pyserial) only when it
is built, so a laptop without them can still run the keyboard source.
"""

from __future__ import annotations

from typing import Any

from counter.inputs.base import HealthHandler, InputSource, PressHandler
from counter.settings import CounterInputs

__all__ = ["HealthHandler", "InputSource", "PressHandler", "build_sources"]


def build_sources(settings: CounterInputs, pin_factory: Any | None = None) -> list[InputSource]:
    """The configured sources of one counter, not started yet."""
    sources: list[InputSource] = []
    if settings.gpio:
        from counter.inputs.gpio import GpioButtons  # noqa: PLC0415 - needs gpiozero

        sources.append(GpioButtons(settings.gpio, pin_factory=pin_factory))
    if settings.keypad:
        from counter.inputs.keypad import KeypadSource  # noqa: PLC0415 - needs evdev

        sources.append(KeypadSource(settings.keypad))
    if settings.serial:
        from counter.inputs.serial_box import SerialBox  # noqa: PLC0415 - needs pyserial

        sources.append(SerialBox(settings.serial))
    if settings.keyboard:
        from counter.inputs.keyboard import KeyboardSource  # noqa: PLC0415

        sources.append(KeyboardSource())
    return sources
