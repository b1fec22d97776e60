"""The office config: the example is valid, and a bad value names its key and line."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from antrean.config import ConfigError, load_config, parse_config
from antrean.domain import Role
from antrean_tools.cli import main
from tests.support.helpers import EXAMPLE, example_config, example_text


def test_example_config_is_the_office_the_issue_describes() -> None:
    c = load_config(EXAMPLE)
    assert c.office.id == "gajahmungkur"
    assert c.office.timezone.key == "Asia/Jakarta"
    assert c.office.hours is not None
    assert c.office.hours[0].opens == time(8)
    assert c.office.hours[3].closes == time(15)
    assert c.office.hours[4].closes == time(11)
    assert 5 not in c.office.hours
    assert 6 not in c.office.hours
    assert [s.name for s in c.services] == [
        "Perekaman KTP-el",
        "Pencetakan KTP-el",
        "Kartu Keluarga",
        "Akta dan Pindah",
    ]
    assert c.service("C").daily_quota is None  # type: ignore[union-attr]
    assert len(c.counters) == 4
    roles = {d.id: (d.role, d.counter) for d in c.devices}
    assert roles["kiosk-1"] == (Role.KIOSK, None)
    assert roles["counter-3"] == (Role.COUNTER, 3)
    assert roles["admin"] == (Role.ADMIN, None)
    assert c.sections["printer"]["driver"] == "sim"  # the kiosk reads [printer]
    assert c.store_path == EXAMPLE.parent / "var" / "antrean.db"


def test_hours_left_out_means_always_open() -> None:
    assert parse_config(example_text(hours=False)).office.hours is None


@pytest.mark.parametrize(
    ("old", "new", "key", "fragment"),
    [
        ("daily_quota = 80", "daily_quota = -5", "service[1].daily_quota", "whole number"),
        ('code = "C"', 'code = "cc"', "service[2].code", "one capital letter"),
        ('timezone = "Asia/Jakarta"', 'timezone = "Asia/Semarang"', "office.timezone", "time zone"),
        ('fri = "08:00-11:00"', 'fri = "11:00-08:00"', "office.hours.fri", "not a valid"),
        ('fri = "08:00-11:00"', 'jumat = "08:00-11:00"', "office.hours.jumat", "days are"),
        (
            'services = ["C", "D"]',
            'services = ["C", "E"]',
            "counter[3].services",
            "unknown service",
        ),
        ("counter = 4", "counter = 9", "device[5].counter", "no [[counter]]"),
        ('role = "board"', 'role = "tv"', "device[1].role", "must be one of"),
        ("port = 1883", 'port = "1883"', "broker.port", "whole number"),
        ('id = "kiosk-1"', 'id = "admin"', "device[6].id", "used twice"),
        ('id = "board-1"', 'id = "queue"', "device[1].id", "queue service's own id"),
    ],
)
def test_a_bad_value_names_its_key_and_line(old: str, new: str, key: str, fragment: str) -> None:
    text = example_text().replace(old, new, 1)
    line = next(n for n, raw in enumerate(text.splitlines(), 1) if new in raw)
    if key == "device[6].id":  # the duplicate is reported where it is used the second time
        line = max(n for n, raw in enumerate(text.splitlines(), 1) if 'id = "admin"' in raw)
    with pytest.raises(ConfigError) as info:
        parse_config(text, source="antrean.toml")
    message = str(info.value)
    assert message.startswith(f"antrean.toml:{line}: {key}: "), message
    assert fragment in message


def test_toml_syntax_errors_name_the_line() -> None:
    text = example_text().replace('name = "Loket 2"', 'name = "Loket 2')
    with pytest.raises(ConfigError, match=r"antrean.toml:\d+: \(syntax\)"):
        parse_config(text, source="antrean.toml")


def test_missing_required_values() -> None:
    with pytest.raises(ConfigError, match="office: the section is required"):
        parse_config("[[service]]\ncode='A'\nname='x'\n")
    with pytest.raises(ConfigError, match=r"office.name: is required"):
        parse_config("[office]\nid='x'\n")


def test_check_config_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", "--config", str(EXAMPLE)]) == 0
    assert "gajahmungkur" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text(example_text().replace("daily_quota = 80", "daily_quota = 0"))
    assert main(["check-config", "--config", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "service[1].daily_quota" in err
    assert main(["check-config", "--config", str(tmp_path / "missing.toml")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_an_app_section_error_names_file_line_and_key(tmp_path: Path) -> None:
    config = example_config(tmp_path, edit={"[printer]\n": "[printer]\nspeed = -1\n"})
    r = config.reader()
    table = r.table(config.sections, "printer")
    with pytest.raises(ConfigError, match=r"test.toml:\d+: printer.speed: must be a whole number"):
        r.integer(table, "printer", "speed", default=5, low=1, high=9)
    assert config.path("var/x") == tmp_path / "var/x"
