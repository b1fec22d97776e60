"""The input-source registry: sources register themselves; [counter_inputs.N] and the doctor
go through it, and a new source needs no other file."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from antrean.backends import Backend, Key
from antrean.config import ConfigError
from antrean_tools.doctor import Doctor, Result
from counter.inputs.registry import SOURCES, open_sources
from counter.settings import counter_inputs
from tests.support.counter_helpers import counter_config

KEYPAD = "/dev/input/by-id/antrean-test-no-such-keypad"


def test_every_source_is_registered_with_its_keys() -> None:
    keys = {name: [k.name for k in b.keys] for name, b in SOURCES.backends().items()}
    assert keys == {
        "gpio": ["next", "recall", "no_show", "complete", "bounce_ms", "pull_up"],
        "keyboard": [],
        "keypad": ["path", "keys"],
        "serial": ["port", "baudrate"],
    }
    assert [k.required for k in SOURCES.backends()["serial"].keys] == [True, False]
    assert all(b.check is not None and b.summary for b in SOURCES.backends().values())


def test_reading_every_source_imports_no_hardware_library() -> None:
    """A counter Pi without evdev or pyserial (and a hub) reads every source's table."""
    code = (
        "import sys\nfrom counter.inputs.registry import SOURCES\n"
        "print(SOURCES.names())\n"
        "heavy = {'gpiozero', 'evdev', 'serial', 'paho'}\n"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert run.stdout.splitlines() == ["['gpio', 'keyboard', 'keypad', 'serial']", "[]"]


def test_an_unknown_source_names_its_line_and_the_registered_ones(tmp_path: Path) -> None:
    config = counter_config(tmp_path, 1883, '\n[counter_inputs.1.laser]\nport = "x"\n')
    line = config.text.splitlines().index("[counter_inputs.1.laser]") + 1
    with pytest.raises(ConfigError) as bad:
        counter_inputs(config, 1)
    assert str(bad.value) == (
        f"test.toml:{line}: counter_inputs.1.laser: unknown input source 'laser'; "
        "registered: gpio, keyboard, keypad, serial"
    )
    config = counter_config(tmp_path, 1883, "\n[counter_inputs.1]\nlaser = true\n")
    with pytest.raises(ConfigError, match=r"\.1\.laser: unknown input source 'laser'; regis"):
        counter_inputs(config, 1)


def test_a_source_is_a_table_or_true(tmp_path: Path) -> None:
    config = counter_config(tmp_path, 1883, "\n[counter_inputs.1]\ngpio = true\nkeyboard = true\n")
    one = counter_inputs(config, 1)
    assert one.sources == ["gpio", "keyboard"]
    assert one.inputs["gpio"].pins["next"] == 17
    config = counter_config(tmp_path, 1883, "\n[counter_inputs.1]\nserial = true\n")
    line = config.text.splitlines().index("serial = true") + 1
    with pytest.raises(ConfigError) as bad:
        counter_inputs(config, 1)
    assert str(bad.value) == (
        f"test.toml:{line}: counter_inputs.1.serial: needs port: "
        "write a table [counter_inputs.1.serial]"
    )


@dataclass(frozen=True)
class FakeSettings:
    name: str


class FakeSource:
    """A source that presses nothing; it only says it is there."""

    name = "fake"

    def __init__(self, settings: FakeSettings, pin_factory: Any) -> None:
        self.settings, self.pin_factory = settings, pin_factory

    def start(self, _press: Any, on_health: Any) -> None:
        on_health(self.name, "ok")

    def stop(self) -> None:
        pass


@pytest.fixture
def fake_source() -> Iterator[list[FakeSettings]]:
    """A source registered by a test, the way a new source module registers itself."""
    checked: list[FakeSettings] = []

    def check(s: FakeSettings, probe: Any) -> Any:
        checked.append(s)
        return probe.result("OK", "fake", f"fake box {s.name} is fine")

    SOURCES.register(
        Backend(
            name="fake",
            summary="a test source",
            keys=(Key("box", "str"),),
            parse=lambda r, t, where, _c: FakeSettings(r.string(t, where, "box")),
            open=FakeSource,
            check=check,
        )
    )
    yield checked
    SOURCES._backends.pop("fake")


def test_a_registered_source_is_read_opened_and_checked_without_touching_another_file(
    tmp_path: Path, fake_source: list[FakeSettings]
) -> None:
    text = counter_config(tmp_path, 1883, '\n[counter_inputs.2.fake]\nbox = "loket-2"\n').text
    path = tmp_path / "antrean.toml"
    path.write_text(text, encoding="utf-8")
    doctor = Doctor(config_file=path, role="counter", counter=2)
    assert doctor.check_config().status == "OK"  # check-config reads it through the registry
    assert doctor.check_inputs() == [Result("OK", "fake", "fake box loket-2 is fine")]
    assert fake_source == [FakeSettings("loket-2")]
    assert doctor.config is not None
    settings = counter_inputs(doctor.config, 2)
    (source,) = open_sources(settings.inputs, pin_factory="mock pins")
    assert isinstance(source, FakeSource)
    assert (source.settings, source.pin_factory) == (FakeSettings("loket-2"), "mock pins")
    with pytest.raises(ConfigError, match=r"counter_inputs\.2\.fake\.bx: unknown key"):
        counter_inputs(
            counter_config(tmp_path, 1883, '\n[counter_inputs.2.fake]\nbx = "loket-2"\n'), 2
        )


def test_the_doctor_checks_each_configured_source(tmp_path: Path) -> None:
    dev = tmp_path / "dev"
    dev.mkdir()
    port = dev / "ttyUSB0"
    port.touch()  # stands where the adapter's node would
    extra = (
        f'\n[counter_inputs.2.keypad]\npath = "{KEYPAD}"\n'
        f'[counter_inputs.2.serial]\nport = "{port}"\n'
        "[counter_inputs.2.feedback]\nled = 24\n"
    )
    path = tmp_path / "antrean.toml"
    path.write_text(counter_config(tmp_path, 1883, extra).text, encoding="utf-8")
    results = Doctor(config_file=path, role="counter", counter=2, dev=dev).check_inputs()
    # The feedback LED is on GPIO, so GPIO is checked beside the two sources.
    assert [(r.name, r.status) for r in results] == [
        ("keypad", "FAIL"),
        ("serial", "OK"),
        ("gpio", "FAIL"),
    ]
    assert results[0].detail == f"{KEYPAD} does not exist"
    assert results[1].detail.startswith(f"{port} is writable by ")
