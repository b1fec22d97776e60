"""The printer registry: drivers register themselves; [printer] and the doctor go through it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from antrean.backends import Backend, Key
from antrean.config import ConfigError, parse_config
from antrean_tools.doctor import Doctor, Result
from kiosk.printer.registry import PRINTERS, PrinterSettings, open_printer, printer_settings
from tests.support.helpers import example_text

SIM_LINE = 'driver = "sim"'


def config_with(printer: str) -> Any:
    text = example_text(edit={SIM_LINE: printer, 'sim_output = "var/tickets"': ""})
    return parse_config(text, source="office.toml", base_dir=Path("/srv"))


def test_every_driver_is_registered_with_its_keys() -> None:
    keys = {name: [k.name for k in b.keys] for name, b in PRINTERS.backends().items()}
    assert keys == {
        "file": ["file_path"],
        "network": ["host", "tcp_port"],
        "serial": ["serial_device", "serial_baudrate"],
        "sim": ["sim_output", "sim_faults", "sim_slow_s"],
        "usb": ["usb_vendor", "usb_product", "usb_in_ep", "usb_out_ep"],
    }
    usb = PRINTERS.backends()["usb"]
    assert [k.required for k in usb.keys] == [True, True, False, False]
    assert all(b.check is not None and b.summary for b in PRINTERS.backends().values())


def test_an_unknown_driver_names_its_line_and_the_registered_ones() -> None:
    text = example_text(edit={SIM_LINE: 'driver = "laser"'})
    line = next(n for n, raw in enumerate(text.splitlines(), 1) if 'driver = "laser"' in raw)
    config = parse_config(text, source="office.toml")  # the core does not know drivers
    with pytest.raises(ConfigError) as bad:
        printer_settings(config)
    assert str(bad.value) == (
        f"office.toml:{line}: printer.driver: unknown printer driver 'laser'; "
        "registered: file, network, serial, sim, usb"
    )


def test_each_driver_reads_its_own_settings_class() -> None:
    net = printer_settings(config_with('driver = "network"\nhost = "10.0.0.9"'))
    assert (net.driver, net.options.host, net.options.port) == ("network", "10.0.0.9", 9100)
    lp0 = printer_settings(config_with('driver = "file"\nfile_path = "lp0"'))
    assert lp0.options == Path("/srv/lp0")
    with pytest.raises(ConfigError, match=r"printer\.sim_faults: unknown key for driver 'file'"):
        printer_settings(config_with('driver = "file"\nfile_path = "lp0"\nsim_faults = []'))


@pytest.fixture
def fake_driver() -> Iterator[list[PrinterSettings]]:
    """A driver registered by a test, the way a new driver module registers itself."""
    checked: list[PrinterSettings] = []

    def check(s: PrinterSettings, probe: Any) -> Any:
        checked.append(s)
        return probe.result("OK", "printer", f"fake printer {s.options} is fine")

    PRINTERS.register(
        Backend(
            name="fake",
            summary="a test driver",
            keys=(Key("fake_name", "str"),),
            parse=lambda r, t, where, _c: r.string(t, where, "fake_name"),
            open=lambda s: s,
            check=check,
        )
    )
    yield checked
    PRINTERS._backends.pop("fake")


def test_a_registered_driver_is_read_opened_and_checked_without_touching_the_core(
    tmp_path: Path, fake_driver: list[PrinterSettings]
) -> None:
    text = example_text(edit={SIM_LINE: 'driver = "fake"\nfake_name = "lp-9"'})
    text = text.replace('sim_output = "var/tickets"', "")
    path = tmp_path / "antrean.toml"
    path.write_text(text, encoding="utf-8")
    doctor = Doctor(config_file=path, role="hub")
    assert doctor.check_config().status == "OK"  # check-config reads it through the registry
    assert doctor.check_printer() == Result("OK", "printer", "fake printer lp-9 is fine")
    assert [s.options for s in fake_driver] == ["lp-9"]
    assert open_printer(fake_driver[0]) == fake_driver[0]
