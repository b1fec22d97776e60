"""[kiosk] and [printer]: good values are read, bad ones are refused with file:line and key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from antrean.config import ConfigError, parse_config
from antrean_tools.cli import main
from kiosk.settings import kiosk_settings
from tests.support.helpers import ROOT, example_text

PRINTER = (
    '[printer]\ndriver = "sim"                      '
    "# usb, serial, network, file or sim (simulator, runs anywhere)\n"
)


def settings_of(text: str, device: str | None = None):
    return kiosk_settings(parse_config(text, source="office.toml", base_dir=Path("/srv")), device)


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_the_example_config_gives_the_first_kiosk_and_the_simulator() -> None:
    s = settings_of(example_text())
    assert s.device_id == "kiosk-1"
    assert s.staff_pin == "2468"
    assert s.printer.driver == "sim"
    assert s.printer.paper_mm == 80
    assert s.printer.options.output == Path("/srv/var/tickets")
    assert s.phone_base == "http://127.0.0.1:8080/t/"  # [web] public_url: the QR's address


def test_without_a_public_url_the_qr_keeps_the_ticket_id() -> None:
    text = example_text()
    line = next(x for x in text.splitlines() if x.startswith("public_url ="))
    assert settings_of(text.replace(line + "\n", "")).phone_base == ""
    with pytest.raises(ConfigError, match="public_url"):
        settings_of(text.replace(line, 'public_url = "hub:8080"'))


def test_a_phone_url_sends_the_qr_to_the_central_web() -> None:
    """An office whose hub the phones cannot reach prints the central web's address (issue 16)."""
    text = example_text()
    line = next(x for x in text.splitlines() if x.startswith("public_url ="))
    central = 'phone_url = "https://antrean.demakkab.go.id/"'
    assert settings_of(text.replace(line, f"{line}\n{central}")).phone_base == (
        "https://antrean.demakkab.go.id/t/"
    )
    assert settings_of(text.replace(line, central)).phone_base == (
        "https://antrean.demakkab.go.id/t/"
    )
    with pytest.raises(ConfigError, match="phone_url"):
        settings_of(text.replace(line, f'{line}\nphone_url = "antrean.demakkab.go.id"'))


@pytest.mark.parametrize(
    ("old", "new", "key", "message"),
    [
        ('staff_pin = "2468"', 'staff_pin = "12a4"', "kiosk.staff_pin", "4 to 8 digits"),
        ('staff_pin = "2468"', "staff_pin = 2468", "kiosk.staff_pin", "must be a string"),
        ("home_after_s = 8", "home_after_s = 0", "kiosk.home_after_s", "from 2 to 120"),
        ('language = "id"', 'language = "jv"', "kiosk.language", "'id' or 'en'"),
        ('# device = "kiosk-1"', 'device = "board-1"', "kiosk.device", "has role board"),
        ("paper_mm = 80", "paper_mm = 76", "printer.paper_mm", "58 or 80"),
        ('on_unknown = "issue"', 'on_unknown = "maybe"', "printer.on_unknown", "'issue' or"),
        ('# sim_faults = ["paper_low"]', 'sim_faults = ["jam"]', "printer.sim_faults", "paper_out"),
        ('# host = "192.168.1.50"', 'host = "192.168.1.50"', "printer.host", "unknown key"),
    ],
)
def test_a_bad_value_names_its_line_and_key(old: str, new: str, key: str, message: str) -> None:
    text = example_text(edit={old: new})
    with pytest.raises(ConfigError) as bad:
        settings_of(text)
    assert bad.value.key == key
    assert bad.value.line == line_of(text, new)
    assert message in str(bad.value)
    assert str(bad.value).startswith(f"office.toml:{bad.value.line}: {key}: ")


def test_each_driver_needs_its_own_keys() -> None:
    usb = example_text(
        edit={
            PRINTER: '[printer]\ndriver = "usb"\nusb_vendor = 0x0416\nusb_product = 0x5011\n',
            'sim_output = "var/tickets"': "",
        }
    )
    s = settings_of(usb)
    assert (s.printer.options.vendor, s.printer.options.product) == (0x0416, 0x5011)
    net = example_text(
        edit={PRINTER: '[printer]\ndriver = "network"\n', 'sim_output = "var/tickets"': ""}
    )
    with pytest.raises(ConfigError, match=r"printer\.host: is required"):
        settings_of(net)


def test_device_from_the_command_line_must_be_a_kiosk() -> None:
    with pytest.raises(ConfigError, match="--device: device 'counter-1' has role counter"):
        settings_of(example_text(), "counter-1")
    with pytest.raises(ConfigError, match="--device: device 'kiosk-9' is not in the config"):
        settings_of(example_text(), "kiosk-9")


def test_the_cli_refuses_a_bad_config_before_opening_a_window(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "antrean.toml"
    path.write_text(example_text(edit={"paper_mm = 80": "paper_mm = 57"}), encoding="utf-8")
    assert main(["kiosk", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "printer.paper_mm: must be 58 or 80, got 57" in err
    assert f"{path}:" in err


def test_the_kiosk_command_is_listed_and_imports_no_kivy_to_build_the_parser() -> None:
    code = (
        "import sys; from antrean_tools.cli import build_parser; build_parser();"
        "print('kivy' in sys.modules, 'escpos' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert out.stdout.strip() == "False False"
    helptext = subprocess.run(
        [sys.executable, "-m", "antrean_tools.cli", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stdout
    assert "kiosk" in helptext


def test_a_bad_window_size_is_refused_by_the_command_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["kiosk", "--size", "800by480"])
    assert stopped.value.code == 2
    assert "expected WIDTHxHEIGHT like 800x480, got '800by480'" in capsys.readouterr().err


def test_a_file_printer_cannot_refuse_on_unknown_status() -> None:
    text = example_text(
        edit={
            PRINTER: '[printer]\ndriver = "file"\nfile_path = "/dev/usb/lp0"\n',
            'sim_output = "var/tickets"': "",
            'on_unknown = "issue"': 'on_unknown = "refuse"',
        }
    )
    with pytest.raises(ConfigError, match="never reports its status") as bad:
        settings_of(text)
    assert bad.value.line == line_of(text, 'on_unknown = "refuse"')
