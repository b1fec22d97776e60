"""`driver = "network"`: an ESC/POS printer on the LAN, raw TCP port 9100 (python-escpos)."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any

from antrean.backends import Backend, Key, Probe
from antrean.config import Config, ConfigReader
from kiosk.printer.escpos_drivers import SOCKET_LINE, EscposPrinter
from kiosk.printer.registry import PRINTERS, PrinterSettings


@dataclass(frozen=True, slots=True)
class NetworkSettings:
    host: str
    port: int = 9100


def parse(r: ConfigReader, t: dict[str, Any], where: str, _config: Config) -> NetworkSettings:
    """host and tcp_port."""
    return NetworkSettings(
        host=r.string(t, where, "host"),
        port=r.integer(t, where, "tcp_port", default=9100, low=1, high=65535),
    )


def open_network(s: PrinterSettings) -> EscposPrinter:
    """The printer, connected at first use (and again after the link dies)."""
    o: NetworkSettings = s.options

    def open_device() -> Any:
        from escpos.printer import Network  # noqa: PLC0415

        return Network(o.host, o.port, timeout=s.timeout_s)

    describe = f"network {o.host}:{o.port}"
    return EscposPrinter("network", s.paper_mm, open_device, SOCKET_LINE, describe, s.timeout_s)


def check(s: PrinterSettings, probe: Probe) -> Any:
    """The printer's port answers."""
    o: NetworkSettings = s.options
    try:
        with socket.create_connection((o.host, o.port), timeout=probe.timeout):
            return probe.result("OK", "printer", f"network printer {o.host}:{o.port} answers")
    except OSError as exc:
        return probe.hardware(
            "printer",
            f"network printer {o.host}:{o.port}: {exc.strerror or exc}",
            "is the printer on, with paper, on this network?",
        )


PRINTERS.register(
    Backend(
        name="network",
        summary="ESC/POS printer on the network (raw port 9100)",
        keys=(Key("host", "str", help="the printer's address"), Key("tcp_port", "int", 9100)),
        parse=parse,
        open=open_network,
        check=check,
    )
)
