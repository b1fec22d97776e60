"""`driver = "usb"`: an ESC/POS printer on USB (python-escpos Usb, pyusb)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from antrean.backends import Backend, Key, Probe
from antrean.config import Config, ConfigReader
from kiosk.printer.escpos_drivers import USB_LINE, EscposPrinter
from kiosk.printer.registry import PRINTERS, PrinterSettings


@dataclass(frozen=True, slots=True)
class UsbSettings:
    vendor: int
    product: int
    in_ep: int = 0x82
    out_ep: int = 0x01


def parse(r: ConfigReader, t: dict[str, Any], where: str, _config: Config) -> UsbSettings:
    """usb_vendor and usb_product (from lsusb), and the endpoints if not the usual ones."""
    return UsbSettings(
        vendor=r.integer(t, where, "usb_vendor", low=1, high=0xFFFF),
        product=r.integer(t, where, "usb_product", low=1, high=0xFFFF),
        in_ep=r.integer(t, where, "usb_in_ep", default=0x82, low=1, high=0xFF),
        out_ep=r.integer(t, where, "usb_out_ep", default=0x01, low=1, high=0xFF),
    )


def open_usb(s: PrinterSettings) -> EscposPrinter:
    """The printer, opened at first use."""
    o: UsbSettings = s.options

    def open_device() -> Any:
        from escpos.printer import Usb  # noqa: PLC0415 - needs pyusb, only for this driver

        return Usb(
            o.vendor, o.product, timeout=int(s.timeout_s * 1000), in_ep=o.in_ep, out_ep=o.out_ep
        )

    describe = f"usb {o.vendor:04x}:{o.product:04x}"
    return EscposPrinter("usb", s.paper_mm, open_device, USB_LINE, describe, s.timeout_s)


def check(_s: PrinterSettings, probe: Probe) -> Any:
    """The udev rule's /dev/antrean-printer (or a usblp node), writable by the service."""
    node = probe.dev / "antrean-printer"
    nodes = [node] if node.exists() else sorted((probe.dev / "usb").glob("lp*"))
    if not nodes:
        return probe.hardware(
            "printer",
            "no USB printer found (no /dev/antrean-printer)",
            "plug the printer into USB and switch it on; then lsusb",
        )
    return probe.writable("printer", nodes[0], "printer")


PRINTERS.register(
    Backend(
        name="usb",
        summary="ESC/POS printer on USB",
        keys=(
            Key("usb_vendor", "int", help="vendor id from lsusb, e.g. 0x0416"),
            Key("usb_product", "int", help="product id from lsusb, e.g. 0x5011"),
            Key("usb_in_ep", "int", 0x82, "the bulk IN endpoint (status replies)"),
            Key("usb_out_ep", "int", 0x01, "the bulk OUT endpoint"),
        ),
        parse=parse,
        open=open_usb,
        check=check,
    )
)
