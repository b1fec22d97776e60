"""`driver = "file"`: ESC/POS bytes written to a device file such as /dev/usb/lp0."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from antrean.backends import Backend, Key, Probe
from antrean.config import Config, ConfigReader
from kiosk.printer.escpos_drivers import EscposPrinter
from kiosk.printer.registry import PRINTERS, PrinterSettings, node_check


def parse(r: ConfigReader, t: dict[str, Any], where: str, config: Config) -> Path:
    """file_path; a file cannot be asked for its status, so on_unknown must stay 'issue'."""
    if t.get("on_unknown") == "refuse":
        # A device file cannot be asked for its status: the kiosk would never issue.
        r.fail(where, "on_unknown", "a file printer never reports its status; use 'issue'")
    return config.path(r.string(t, where, "file_path"))


def open_file(s: PrinterSettings) -> EscposPrinter:
    """The file, opened at first use; its status is always UNKNOWN."""
    path: Path = s.options

    def open_device() -> Any:
        from escpos.printer import File  # noqa: PLC0415

        return File(str(path))

    return EscposPrinter("file", s.paper_mm, open_device, None, f"file {path}", s.timeout_s)


def check(s: PrinterSettings, probe: Probe) -> Any:
    """The file exists and the service may write it."""
    return node_check(probe, s.options)


PRINTERS.register(
    Backend(
        name="file",
        summary="ESC/POS bytes to a device file (no status)",
        keys=(Key("file_path", "path", help="e.g. /dev/usb/lp0"),),
        parse=parse,
        open=open_file,
        check=check,
    )
)
