"""Input sources of the counter agent: one module per kind, all behind `InputSource`.

Each source registers itself in counter/inputs/registry.py (SOURCES), which
reads, opens and checks them; each imports its hardware library (gpiozero,
evdev, pyserial) only when it is opened, so a laptop without them can still
read the config and run the keyboard source.
"""

from __future__ import annotations

from counter.inputs.base import HealthHandler, InputSource, PressHandler

__all__ = ["HealthHandler", "InputSource", "PressHandler"]
