"""The kiosk's printer drivers, by name: `[printer]` is read, opened and checked through here.

Each driver is one module in kiosk/printer/drivers/ that registers a Backend
in PRINTERS: its keys, a parser for its part of [printer] (giving its own
settings class), how to open it, and its `antrean doctor` check. This module
and the drivers' modules import no escpos, pyusb or PIL at the top: a counter
Pi without them still reads the whole office file and runs the doctor.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from antrean.backends import Key, Probe, Registry
from antrean.config import Config, ConfigError, ConfigReader
from kiosk.printer.base import Printer

SECTION = "printer"
PRINTERS = Registry("printer driver", "kiosk.printer.drivers")
PAPER_WIDTHS = (58, 80)
# The keys every driver has; a driver's own keys come from its Backend.
COMMON_KEYS = (
    Key("driver", "str", "sim", "the name of a registered driver"),
    Key("paper_mm", "int", 80, "58 or 80"),
    Key("on_unknown", "str", "issue", "'issue' or 'refuse' when the printer cannot tell"),
    Key("timeout_s", "float", 3.0, "connect, write and status-read limit"),
)


@dataclass(frozen=True, slots=True)
class PrinterSettings:
    """[printer]: the keys of every driver, and the driver's own settings in `options`."""

    driver: str = "sim"
    paper_mm: int = 80
    # What to do when the printer cannot tell its status: "issue" (print and
    # watch for an error) or "refuse" (no number until the printer answers).
    on_unknown: str = "issue"
    timeout_s: float = 3.0  # connect, write and status-read limit for real printers
    options: Any = None  # the driver's settings class (drivers/usb.py: UsbSettings); None: defaults


def printer_settings(config: Config, r: ConfigReader | None = None) -> PrinterSettings:
    """Reads [printer]; a key of another driver is refused (it is usually a typo)."""
    r = r or config.reader()
    t = r.table(config.sections, SECTION)
    driver = r.string(t, SECTION, "driver", default="sim")
    backend = PRINTERS.choose(r, SECTION, "driver", driver)
    allowed = [k.name for k in (*COMMON_KEYS, *backend.keys)]
    r.only_keys(t, SECTION, allowed, f" for driver {driver!r}")
    paper = r.integer(t, SECTION, "paper_mm", default=80, low=0, high=1000)
    if paper not in PAPER_WIDTHS:
        r.fail(SECTION, "paper_mm", f"must be 58 or 80, got {paper}")
    on_unknown = r.string(t, SECTION, "on_unknown", default="issue")
    if on_unknown not in ("issue", "refuse"):
        r.fail(SECTION, "on_unknown", f"must be 'issue' or 'refuse', got {on_unknown!r}")
    return PrinterSettings(
        driver=driver,
        paper_mm=paper,
        on_unknown=on_unknown,
        timeout_s=seconds(r, t, SECTION, "timeout_s", 3.0, 0.1, 60),
        options=backend.parse(r, t, SECTION, config),
    )


def open_printer(settings: PrinterSettings) -> Printer:
    """The driver named in [printer] driver (opens the device lazily, at first use)."""
    backend = PRINTERS.get(settings.driver)
    if backend is None:
        raise ValueError(f"unknown printer driver {settings.driver!r}")
    printer: Printer = backend.open(settings)
    return printer


def doctor_check(config: Config, probe: Probe) -> Any:
    """`antrean doctor`'s printer line: the configured driver's own check."""
    try:
        settings = printer_settings(config)
    except ConfigError as exc:
        return probe.result("FAIL", "printer", str(exc), "edit [printer]; antrean check-config")
    backend = PRINTERS.get(settings.driver)
    if backend is None or backend.check is None:
        return probe.result("OK", "printer", f"driver {settings.driver!r} has nothing to check")
    return backend.check(settings, probe)


def seconds(
    r: ConfigReader,
    t: dict[str, Any],
    where: str,
    key: str,
    default: float,
    low: float,
    high: float,
) -> float:
    """A number of seconds (whole or not) from `low` to `high`."""
    r.get(t, where, key, default)  # marks the key as read
    value = t.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        r.fail(where, key, f"must be a number of seconds from {low:g} to {high:g}, got {value!r}")
    return float(value)


def node_check(probe: Probe, path: str | Path) -> Any:
    """A driver's device node (a serial port, /dev/usb/lp0): there, and writable by the service."""
    if not Path(path).exists():
        return probe.hardware(
            "printer",
            f"{path} does not exist",
            "plug the printer in and switch it on; check the path",
        )
    return probe.writable("printer", Path(path), "printer")
