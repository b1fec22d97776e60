"""The kiosk's own config sections, `[kiosk]` and `[printer]`, checked with file:line errors.

[kiosk.scanner] is read by the scanner registry (kiosk/scanner/registry.py).

[printer] is read by the printer registry (kiosk/printer/registry.py): its
common keys there, each driver's own keys by the driver's module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from antrean.config import Config, ConfigError
from antrean.domain import Role
from kiosk.printer.registry import PrinterSettings, printer_settings, seconds
from kiosk.scanner.registry import ScannerSettings, scanner_settings
from web.settings import SECTION as WEB_SECTION
from web.settings import web_settings

LANGUAGES = ("id", "en")


@dataclass(frozen=True, slots=True)
class KioskSettings:
    device_id: str
    staff_pin: str  # "" turns the staff menu off
    home_after_s: int = 8  # the Done screen returns to Home after this long
    issue_timeout_s: float = 2.0  # wait for one reply to `issue`
    issue_attempts: int = 3  # sends of the same command id before giving up
    language: str = "id"
    printer: PrinterSettings = field(default_factory=PrinterSettings)
    # The start of the ticket QR's phone-page address ("http://hub:8080/t/"): the
    # web's phone_url, else its public_url; "" (neither configured): the QR holds the ticket id.
    phone_base: str = ""
    scanner: ScannerSettings | None = None  # [kiosk.scanner]; None: a scanner is a keyboard


def kiosk_settings(config: Config, device_id: str | None = None) -> KioskSettings:
    """Reads [kiosk] and [printer]; `device_id` (--device) wins over [kiosk] device."""
    r = config.reader()
    t = r.table(config.sections, "kiosk")
    r.only_keys(
        t,
        "kiosk",
        {
            "device",
            "staff_pin",
            "home_after_s",
            "issue_timeout_s",
            "issue_attempts",
            "language",
            "scanner",
        },
    )
    chosen = device_id or r.string(t, "kiosk", "device", default="") or _first_kiosk(config)
    device = config.device(chosen)
    if device is None or device.role is not Role.KIOSK:
        what = "is not in the config" if device is None else f"has role {device.role.value}"
        message = f"device {chosen!r} {what}; a [[device]] with role 'kiosk' is needed"
        if device_id:
            raise ConfigError(config.source, None, "--device", message)
        r.fail("kiosk", "device", message)
    pin = r.string(t, "kiosk", "staff_pin", default="")
    if pin and not re.fullmatch(r"\d{4,8}", pin):
        r.fail("kiosk", "staff_pin", 'must be 4 to 8 digits in quotes, like "2468"')
    language = r.string(t, "kiosk", "language", default="id")
    if language not in LANGUAGES:
        r.fail("kiosk", "language", f"must be 'id' or 'en', got {language!r}")
    return KioskSettings(
        device_id=chosen,
        staff_pin=pin,
        home_after_s=r.integer(t, "kiosk", "home_after_s", default=8, low=2, high=120),
        issue_timeout_s=seconds(r, t, "kiosk", "issue_timeout_s", 2.0, 0.2, 30),
        issue_attempts=r.integer(t, "kiosk", "issue_attempts", default=3, low=1, high=10),
        language=language,
        printer=printer_settings(config, r),
        phone_base=_phone_base(config),
        scanner=scanner_settings(r, t, config),
    )


def _phone_base(config: Config) -> str:
    """`{[web] phone_url or public_url}/t/`, read (and checked) as `antrean web` reads it; or ""."""
    section = config.sections.get(WEB_SECTION)
    if not isinstance(section, dict) or not {"public_url", "phone_url"} & set(section):
        return ""  # a default built from host and port is no address a phone can reach
    return f"{web_settings(config).phone_url}/t/"


def _first_kiosk(config: Config) -> str:
    return next((d.id for d in config.devices if d.role is Role.KIOSK), "")


def check_sections(config: Config) -> None:
    """check-config's part: [kiosk] and [printer], as `antrean kiosk` reads them at start."""
    if "kiosk" in config.sections or any(d.role is Role.KIOSK for d in config.devices):
        kiosk_settings(config)
    else:
        printer_settings(config)
