"""The counter's input sources, by name: [counter_inputs.N] is read, opened and checked here.

Each source is one module in counter/inputs/ that registers a Backend in
SOURCES: its keys, a parser for its table (giving its own settings class),
how to open it, and its `antrean doctor` check. A source is written as its
own table, `[counter_inputs.N.NAME]`, or as `NAME = true` when its defaults
will do (`keyboard = true`). This module and the sources' modules import no
gpiozero, evdev or pyserial at the top: `antrean check-config` reads every
counter's table on a hub that has none of them.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from antrean.backends import Probe, Registry
from antrean.config import Config, ConfigError, ConfigReader
from counter.inputs.base import InputSource

SOURCES = Registry("input source", "counter.inputs")
# Checked by the doctor when the unit's counter has no source in the file (or
# the unit does not say which counter it is): a counter Pi's usual buttons.
# The feedback LED and buzzer are on GPIO too.
USUAL = "gpio"


def read_sources(
    r: ConfigReader, t: dict[str, Any], where: str, config: Config, others: Iterable[str]
) -> dict[str, Any]:
    """The sources in one counter's table, name -> its settings; `others`: its other keys."""
    known = [*others, *SOURCES.names()]
    for key, value in t.items():
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        if key not in known and (isinstance(value, dict) or (value is True and not close)):
            SOURCES.choose(r, f"{where}.{key}", "", key)  # fails, naming the registered ones
    r.only_keys(t, where, known)
    found: dict[str, Any] = {}
    for name, backend in SOURCES.backends().items():
        value = t.get(name, False)
        sub = f"{where}.{name}"
        if value is True:
            required = [k.name for k in backend.keys if k.required]
            if required:
                r.fail(where, name, f"needs {', '.join(required)}: write a table [{sub}]")
            value = {}
        elif not isinstance(value, dict):
            if value is not False:
                r.fail(where, name, f"must be true or false, or a table [{sub}], got {value!r}")
            continue
        r.only_keys(value, sub, [k.name for k in backend.keys])
        found[name] = backend.parse(r, value, sub, config)
    return found


def open_sources(inputs: dict[str, Any], pin_factory: Any | None = None) -> list[InputSource]:
    """The configured sources, not started yet; `pin_factory` is gpiozero's (tests: mock pins)."""
    return [SOURCES.open(name, settings, pin_factory) for name, settings in inputs.items()]


def doctor_checks(config: Config, counter: int, probe: Probe) -> list[Any]:
    """`antrean doctor`'s input lines: each configured source's own check."""
    from counter.settings import counter_inputs  # noqa: PLC0415 - it imports this module

    checks: dict[str, Any] = {}
    if counter:
        try:
            settings = counter_inputs(config, counter)
        except ConfigError as exc:
            fix = "edit [counter_inputs]; antrean check-config"
            return [probe.result("FAIL", "inputs", str(exc), fix)]
        checks = dict(settings.inputs)
        if settings.feedback.led is not None or settings.feedback.buzzer is not None:
            checks.setdefault(USUAL, None)
    backends = SOURCES.backends()
    if not any(backends[name].check for name in checks):
        checks[USUAL] = None
    return [
        check(settings, probe)
        for name, settings in checks.items()
        if (check := backends[name].check) is not None
    ]


def device_node(probe: Probe, name: str, path: str, what: str, fix: str) -> Any:
    """A source's device node (a keypad, a serial port): there, and usable by the service."""
    if not Path(path).exists():
        return probe.hardware(name, f"{path} does not exist", fix)
    return probe.writable(name, Path(path), what)
