"""Shared fixtures: a real Mosquitto per test, the example office, a clock tests can move.

Also starts one Xvfb screen for the whole run before test modules are imported,
so that Kivy (imported by the app tests) opens its window there.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from antrean import mqtt
from antrean.config import Config
from antrean.devbroker import DevBroker
from antrean.xvfb import VirtualScreen
from display_board.voice.clips import ClipLibrary, VoiceSettings, build_clips

from .helpers import FakeClock, Office, example_config

_screen: VirtualScreen | None = None


def pytest_configure(config: pytest.Config) -> None:
    """Gives Kivy a private X screen and a throwaway home before anything imports it."""
    global _screen  # noqa: PLW0603 - one screen per pytest process, by design
    _screen = VirtualScreen().start()
    os.environ["DISPLAY"] = _screen.display
    os.environ.pop("WAYLAND_DISPLAY", None)
    os.environ["KIVY_NO_ARGS"] = "1"  # Kivy must not parse pytest's argv
    os.environ["KIVY_NO_FILELOG"] = "1"
    os.environ["KIVY_NO_CONSOLELOG"] = "1"
    os.environ["KIVY_LOG_MODE"] = "PYTHON"  # log through logging, leave pytest's handlers alone
    os.environ["KIVY_HOME"] = tempfile.mkdtemp(prefix="antrean-kivy-home-")
    os.environ["SDL_AUDIODRIVER"] = "dummy"


def pytest_unconfigure(config: pytest.Config) -> None:
    if _screen is not None:
        _screen.stop()


@pytest.fixture(autouse=True)
def _no_swallowed_callback_errors() -> Iterator[None]:
    """Fails a test in which an MQTT callback raised (they are logged, not propagated)."""
    mqtt.callback_errors.clear()
    yield
    errors = list(mqtt.callback_errors)
    mqtt.callback_errors.clear()
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
