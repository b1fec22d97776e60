"""`driver = "sim"`: the simulator (kiosk/printer/sim.py): keeps the bytes, renders previews."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from antrean.backends import Backend, Key, Probe
from antrean.config import Config, ConfigReader
from kiosk.printer.base import Printer
from kiosk.printer.registry import PRINTERS, PrinterSettings, seconds

FAULTS = ("paper_low", "paper_out", "cover_open", "offline", "fail_mid")


@dataclass(frozen=True, slots=True)
class SimSettings:
    output: Path | None = None  # where the simulator writes its previews
    faults: tuple[str, ...] = ()
    slow_s: float = 0.0


def parse(r: ConfigReader, t: dict[str, Any], where: str, config: Config) -> SimSettings:
    """sim_output, sim_faults and sim_slow_s."""
    faults = r.get(t, where, "sim_faults", default=[])
    if not isinstance(faults, list) or any(f not in FAULTS for f in faults):
        r.fail(where, "sim_faults", f"must be a list of {', '.join(FAULTS)}, got {faults!r}")
    output = r.string(t, where, "sim_output", default="var/tickets")
    return SimSettings(
        output=config.path(output) if output else None,
        faults=tuple(faults),
        slow_s=seconds(r, t, where, "sim_slow_s", 0.0, 0.0, 60),
    )


def open_sim(s: PrinterSettings) -> Printer:
    """The simulator (it needs PIL for its previews, so it is imported here)."""
    from kiosk.printer.sim import SimPrinter  # noqa: PLC0415 - PIL, only when used

    o: SimSettings = s.options or SimSettings()
    return SimPrinter(s.paper_mm, o.output, o.faults, o.slow_s)


def check(_s: PrinterSettings, probe: Probe) -> Any:
    """A simulator prints nothing: fine on a laptop, a warning on a provisioned unit."""
    return probe.result(
        "OK" if probe.role is None else "WARN",
        "printer",
        "simulated printer (driver = sim): no paper comes out",
        'set [printer] driver = "usb" (or serial/file) for a real printer',
    )


PRINTERS.register(
    Backend(
        name="sim",
        summary="the simulator: keeps the bytes, renders a PNG, injects faults",
        keys=(
            Key("sim_output", "path", "var/tickets", "where the previews go ('' for none)"),
            Key("sim_faults", "list[str]", [], f"any of {', '.join(FAULTS)}"),
            Key("sim_slow_s", "float", 0.0, "seconds each ticket takes"),
        ),
        parse=parse,
        open=open_sim,
        check=check,
    )
)
