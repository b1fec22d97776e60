"""`antrean counter --config PATH --counter N [--console | --console-only]`: a counter's agent.

Imports gpiozero, evdev, pyserial and Kivy only inside `run` (a queue-only Pi
lacks them), and Kivy only with `--console`.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import signal
import sys
import threading
from types import FrameType
from typing import NoReturn

from antrean.config import CONFIG_HELP, Config, ConfigError, config_path, load_config
from antrean.domain import Role

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help=CONFIG_HELP)
    parser.add_argument("--counter", type=int, required=True, help="the counter (loket) number")
    parser.add_argument("--console", action="store_true", help="show the on-screen console (Kivy)")
    parser.add_argument(
        "--console-only",
        action="store_true",
        help="the on-screen console alone, without the config's [counter_inputs.N] (the demo)",
    )
    parser.add_argument(
        "--device", help="device id to act as (default: the config's counter device for N)"
    )


def counter_device(config: Config, counter: int, device: str | None) -> str:
    """The device id this agent acts as; a ConfigError says what to fix."""

    def fail(option: str, message: str) -> NoReturn:
        raise ConfigError(config.source, None, option, message)

    if config.counter(counter) is None:
        numbers = ", ".join(str(c.number) for c in config.counters)
        fail("--counter", f"no [[counter]] has number {counter} (there are {numbers})")
    if device:
        found = config.device(device)
        if found is None or found.role is not Role.COUNTER or found.counter != counter:
            fail("--device", f"{device!r} is not a [[device]] with role 'counter' for {counter}")
        return device
    for d in config.devices:
        if d.role is Role.COUNTER and d.counter == counter:
            return d.id
    return fail("--counter", f"no [[device]] with role 'counter' has counter = {counter}")


def run(args: argparse.Namespace) -> int:
    """Runs the agent until SIGTERM or Ctrl-C (or until the console window closes)."""
    from counter.inputs.base import HardwareUnavailable  # noqa: PLC0415
    from counter.settings import counter_inputs  # noqa: PLC0415 - keeps the parser light
    from counter.station import CounterStation  # noqa: PLC0415

    config = load_config(config_path(args.config))
    device = counter_device(config, args.counter, args.device)
    settings = counter_inputs(config, args.counter)
    if args.console_only:
        args.console = True
        settings = dataclasses.replace(settings, inputs={})
    if not settings.sources and not args.console:
        raise ConfigError(
            config.source,
            None,
            f"counter_inputs.{args.counter}",
            "counter has no inputs: add a [counter_inputs.N] table or use --console",
        )
    try:
        station = CounterStation(config, settings, device).start()
    except HardwareUnavailable as exc:
        print(f"antrean counter: {exc}", file=sys.stderr)  # noqa: T201 - a CLI's own error
        return 1
    log.info(
        "loket %d as %s; inputs: %s",
        args.counter,
        device,
        ", ".join(settings.sources + (["console"] if args.console else [])) or "none",
    )
    try:
        if args.console:
            os.environ.setdefault("KIVY_NO_ARGS", "1")  # Kivy must not read our argv
            os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")  # one log, through logging
            from counter.console import run_console  # noqa: PLC0415 - Kivy only here

            run_console(station.agent, config)
        else:
            _wait_for_signal()
    finally:
        station.stop()
    return 0


def _wait_for_signal() -> None:
    stop = threading.Event()

    def handle(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    while not stop.wait(1.0):
        pass
