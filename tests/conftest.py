"""Shared fixtures: a real Mosquitto per test, the example office, a clock tests can move.

Kivy's environment is set for the whole run; the Xvfb screen starts only when
a test module first imports Kivy (tests/support/screen.py), so tests that open
no window run without one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from antrean import mqtt
from antrean.config import Config
from antrean_testing.devbroker import DevBroker
from display_board.voice.clips import ClipLibrary, VoiceSettings, build_clips
from tests.support.helpers import FakeClock, Office, example_config

from .support import screen


def pytest_configure(config: pytest.Config) -> None:
    """Kivy's settings and a screen on demand, before any test module is imported."""
    screen.kivy_environment()
    screen.start_on_kivy_import()


def pytest_unconfigure(config: pytest.Config) -> None:
    screen.stop()


@pytest.fixture(autouse=True)
def _no_swallowed_callback_errors() -> Iterator[None]:
    """Fails a test in which an MQTT callback raised (they are logged, not propagated)."""
    errors: list[BaseException] = []
    previous = mqtt.set_default_callback_error_hook(errors.append)
    yield
    mqtt.set_default_callback_error_hook(previous)
    assert not errors, f"MQTT callbacks raised: {errors!r}"


@pytest.fixture
def broker() -> Iterator[DevBroker]:
    with DevBroker() as b:
        yield b


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def config(tmp_path: Path, broker: DevBroker) -> Config:
    return example_config(tmp_path, broker.port)


@pytest.fixture
def office(config: Config, clock: FakeClock) -> Iterator[Office]:
    o = Office(config, clock).start()
    yield o
    o.close()


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The board's voice clips, synthesised once per test session with the real espeak-ng."""
    folder = tmp_path_factory.mktemp("voice")
    build_clips(VoiceSettings(folder))
    return folder


@pytest.fixture
def library(clip_dir: Path) -> ClipLibrary:
    return ClipLibrary(clip_dir).load()
