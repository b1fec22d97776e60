"""A USB QR/barcode scanner read with evdev (a keyboard to Linux), grabbed.

Named by its device path (`/dev/input/by-id/usb-...-event-kbd`, stable
across re-plugging) or by the name the scanner gives itself (`evtest` and
`/proc/bus/input/devices` show it), for scanners whose by-id path changes
with the port. The service user needs read access (the `input` group,
provisioning's step 20).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from antrean.backends import Backend, Key, Probe
from antrean.config import Config, ConfigReader
from kiosk.scanner.registry import SCANNERS, ScannerSettings
from kiosk.scanner.source import ScannerDevice, ScannerSource, key_names

INPUT_DIR = "/dev/input/"
DEVICES = Path("/proc/bus/input/devices")  # the kernel's list of input devices, with names


@dataclass(frozen=True, slots=True)
class EvdevSettings:
    path: str  # "" when the scanner is found by name
    name: str  # "" when the path is given


def parse(r: ConfigReader, t: dict[str, Any], where: str, _config: Config) -> EvdevSettings:
    """path (under /dev/input/) or name: exactly one."""
    path = r.string(t, where, "path", default="")
    name = r.string(t, where, "name", default="")
    if bool(path) == bool(name):
        r.fail(
            where, "path", 'write either path = "/dev/input/by-id/..." or name = "...", not both'
        )
    if path and not path.startswith(INPUT_DIR):
        r.fail(where, "path", f"must be an input device under {INPUT_DIR}, got {path!r}")
    return EvdevSettings(path=path, name=name)


def find_device(s: EvdevSettings) -> str:
    """The device node to open: the path, or the first input device with that name."""
    if s.path:
        return s.path
    from evdev import InputDevice, list_devices  # noqa: PLC0415 - only a kiosk with a scanner

    for node in list_devices():
        device = InputDevice(node)
        try:
            if device.name == s.name:
                return str(node)
        finally:
            device.close()
    raise OSError(19, f"no input device named {s.name!r}")


def open_device(s: EvdevSettings) -> ScannerDevice:
    from evdev import InputDevice  # noqa: PLC0415

    return cast(ScannerDevice, InputDevice(find_device(s)))


def open_source(settings: ScannerSettings) -> ScannerSource:
    s: EvdevSettings = settings.options
    where = f"scanner {s.path or repr(s.name)}"
    return ScannerSource(where, lambda: open_device(s), key_names())


def check(settings: ScannerSettings, probe: Probe) -> Any:
    """The scanner's node is there and the service user may read it (the `input` group)."""
    s: EvdevSettings = settings.options
    fix = "plug the scanner in; its path is under /dev/input/by-id/ (ls -l /dev/input/by-id/)"
    if not s.path:
        try:
            listed = DEVICES.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            listed = []
        if f'N: Name="{s.name}"' not in listed:
            return probe.hardware("scanner", f"no input device named {s.name!r}", fix)
        return probe.result("OK", "scanner", f"input device {s.name!r} is plugged in")
    node = Path(s.path)
    if not node.exists():
        return probe.hardware("scanner", f"{s.path} does not exist", fix)
    return probe.writable("scanner", node, "scanner")


SCANNERS.register(
    Backend(
        name="evdev",
        summary="a USB QR/barcode scanner (a keyboard, read with evdev), grabbed",
        keys=(
            Key("path", "str", "", "/dev/input/by-id/...-event-kbd"),
            Key("name", "str", "", "the device's name, as evtest shows it (instead of path)"),
        ),
        parse=parse,
        open=open_source,
        check=check,
    )
)
