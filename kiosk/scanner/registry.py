"""The kiosk's scanner drivers, by name: `[kiosk.scanner]` is read, opened and checked here.

Each driver is one module in kiosk/scanner/drivers/ that registers a Backend
in SCANNERS, as the printer drivers do (kiosk/printer/registry.py). This
module and the drivers import no evdev at the top: `antrean check-config`
and the doctor read the table on a machine without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from antrean.backends import Probe, Registry
from antrean.config import Config, ConfigError, ConfigReader

if TYPE_CHECKING:
    from kiosk.scanner.source import ScannerSource

WHERE = "kiosk.scanner"
SCANNERS = Registry("scanner driver", "kiosk.scanner.drivers")


@dataclass(frozen=True, slots=True)
class ScannerSettings:
    """[kiosk.scanner]: the driver's name and its own settings."""

    driver: str
    options: Any = None  # the driver's settings class (drivers/evdev.py: EvdevSettings)


def scanner_settings(
    r: ConfigReader, kiosk: dict[str, Any], config: Config
) -> ScannerSettings | None:
    """Reads [kiosk.scanner] (None when it is not written); a key of another driver is refused."""
    if "scanner" not in kiosk:
        return None
    t = kiosk["scanner"]
    if not isinstance(t, dict):
        r.fail("kiosk", "scanner", 'must be a table: [kiosk.scanner] with driver = "evdev"')
    driver = r.string(t, WHERE, "driver")
    backend = SCANNERS.choose(r, WHERE, "driver", driver)
    r.only_keys(t, WHERE, ["driver", *(k.name for k in backend.keys)], f" for driver {driver!r}")
    return ScannerSettings(driver, backend.parse(r, t, WHERE, config))


def open_scanner(settings: ScannerSettings) -> ScannerSource:
    """The source for [kiosk.scanner]; its device is opened (and grabbed) on its own thread."""
    source: ScannerSource = SCANNERS.open(settings.driver, settings)
    return source


def doctor_check(config: Config, probe: Probe) -> Any | None:
    """`antrean doctor`'s scanner line, or None when the kiosk has no [kiosk.scanner]."""
    try:
        r = config.reader()
        settings = scanner_settings(r, r.table(config.sections, "kiosk"), config)
    except ConfigError as exc:
        fix = "edit [kiosk.scanner]; antrean check-config"
        return probe.result("FAIL", "scanner", str(exc), fix)
    if settings is None:
        return None
    return SCANNERS.check(settings.driver, settings, probe, "scanner")
