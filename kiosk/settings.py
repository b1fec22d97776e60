"""The kiosk's own config sections, `[kiosk]` and `[printer]`, checked with file:line errors."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from antrean.config import Config, ConfigError, ConfigReader
from antrean.domain import Role

FAULTS = ("paper_low", "paper_out", "cover_open", "offline", "fail_mid")
PAPER_WIDTHS = (58, 80)
LANGUAGES = ("id", "en")

# Keys of [printer] by driver; `driver`, `paper_mm`, `on_unknown`, `timeout_s` apply to all.
_COMMON_KEYS = {"driver", "paper_mm", "on_unknown", "timeout_s"}
_DRIVER_KEYS = {
    "usb": {"usb_vendor", "usb_product", "usb_in_ep", "usb_out_ep"},
    "serial": {"serial_device", "serial_baudrate"},
    "network": {"host", "tcp_port"},
    "file": {"file_path"},
    "sim": {"sim_output", "sim_faults", "sim_slow_s"},
}


@dataclass(frozen=True, slots=True)
class PrinterSettings:
    driver: str = "sim"
    paper_mm: int = 80
    # What to do when the printer cannot tell its status: "issue" (print and
    # watch for an error) or "refuse" (no number until the printer answers).
    on_unknown: str = "issue"
    timeout_s: float = 3.0  # connect, write and status-read limit for real printers
    usb_vendor: int = 0
    usb_product: int = 0
    usb_in_ep: int = 0x82
    usb_out_ep: int = 0x01
    serial_device: str = ""
    serial_baudrate: int = 9600
    host: str = ""
    tcp_port: int = 9100
    file_path: Path | None = None
    sim_output: Path | None = None  # where the simulator writes its previews
    sim_faults: tuple[str, ...] = ()
    sim_slow_s: float = 0.0


@dataclass(frozen=True, slots=True)
class KioskSettings:
    device_id: str
    staff_pin: str  # "" turns the staff menu off
    home_after_s: int = 8  # the Done screen returns to Home after this long
    issue_timeout_s: float = 2.0  # wait for one reply to `issue`
    issue_attempts: int = 3  # sends of the same command id before giving up
    language: str = "id"
    printer: PrinterSettings = PrinterSettings()


def kiosk_settings(config: Config, device_id: str | None = None) -> KioskSettings:
    """Reads [kiosk] and [printer]; `device_id` (--device) wins over [kiosk] device."""
    r = config.reader()
    t = r.table(config.sections, "kiosk")
    r.only_keys(
        t,
        "kiosk",
        {"device", "staff_pin", "home_after_s", "issue_timeout_s", "issue_attempts", "language"},
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
        issue_timeout_s=_seconds(r, t, "kiosk", "issue_timeout_s", 2.0, 0.2, 30),
        issue_attempts=r.integer(t, "kiosk", "issue_attempts", default=3, low=1, high=10),
        language=language,
        printer=printer_settings(config, r),
    )


def printer_settings(config: Config, r: ConfigReader | None = None) -> PrinterSettings:
    """Reads [printer]; keys of another driver are refused (they are usually a typo)."""
    r = r or config.reader()
    t = r.table(config.sections, "printer")
    driver = r.string(t, "printer", "driver", default="sim")
    allowed = _COMMON_KEYS | _DRIVER_KEYS.get(driver, set())
    r.only_keys(t, "printer", allowed, f" for driver {driver!r}")
    paper = r.integer(t, "printer", "paper_mm", default=80, low=0, high=1000)
    if paper not in PAPER_WIDTHS:
        r.fail("printer", "paper_mm", f"must be 58 or 80, got {paper}")
    on_unknown = r.string(t, "printer", "on_unknown", default="issue")
    if on_unknown not in ("issue", "refuse"):
        r.fail("printer", "on_unknown", f"must be 'issue' or 'refuse', got {on_unknown!r}")
    if driver == "file" and on_unknown == "refuse":
        # A device file cannot be asked for its status: the kiosk would never issue.
        r.fail("printer", "on_unknown", "a file printer never reports its status; use 'issue'")
    common: dict[str, Any] = {
        "driver": driver,
        "paper_mm": paper,
        "on_unknown": on_unknown,
        "timeout_s": _seconds(r, t, "printer", "timeout_s", 3.0, 0.1, 60),
    }
    if driver == "usb":
        return PrinterSettings(
            **common,
            usb_vendor=r.integer(t, "printer", "usb_vendor", low=1, high=0xFFFF),
            usb_product=r.integer(t, "printer", "usb_product", low=1, high=0xFFFF),
            usb_in_ep=r.integer(t, "printer", "usb_in_ep", default=0x82, low=1, high=0xFF),
            usb_out_ep=r.integer(t, "printer", "usb_out_ep", default=0x01, low=1, high=0xFF),
        )
    if driver == "serial":
        return PrinterSettings(
            **common,
            serial_device=r.string(t, "printer", "serial_device"),
            serial_baudrate=r.integer(
                t, "printer", "serial_baudrate", default=9600, low=1200, high=921600
            ),
        )
    if driver == "network":
        return PrinterSettings(
            **common,
            host=r.string(t, "printer", "host"),
            tcp_port=r.integer(t, "printer", "tcp_port", default=9100, low=1, high=65535),
        )
    if driver == "file":
        return PrinterSettings(**common, file_path=config.path(r.string(t, "printer", "file_path")))
    faults = r.get(t, "printer", "sim_faults", default=[])
    if not isinstance(faults, list) or any(f not in FAULTS for f in faults):
        r.fail("printer", "sim_faults", f"must be a list of {', '.join(FAULTS)}, got {faults!r}")
    output = r.string(t, "printer", "sim_output", default="var/tickets")
    return PrinterSettings(
        **common,
        sim_output=config.path(output) if output else None,
        sim_faults=tuple(faults),
        sim_slow_s=_seconds(r, t, "printer", "sim_slow_s", 0.0, 0.0, 60),
    )


def _first_kiosk(config: Config) -> str:
    return next((d.id for d in config.devices if d.role is Role.KIOSK), "")


def _seconds(
    r: ConfigReader,
    t: dict[str, Any],
    where: str,
    key: str,
    default: float,
    low: float,
    high: float,
) -> float:
    value = t.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        r.fail(where, key, f"must be a number of seconds from {low:g} to {high:g}, got {value!r}")
    return float(value)


def check_sections(config: Config) -> None:
    """check-config's part: [kiosk] and [printer], as `antrean kiosk` reads them at start."""
    if "kiosk" in config.sections or any(d.role is Role.KIOSK for d in config.devices):
        kiosk_settings(config)
    else:
        printer_settings(config)
