"""Shared fixtures: a real Mosquitto per test, the example office, a clock tests can move.

Kivy's environment is set for the whole run; the Xvfb screen starts only when
a test module first imports Kivy (tests/support/screen.py), so tests that open
no window run without one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


# Pure logic: a failure there is never the machine's timing, so it is never retried.
NEVER_RETRIED = ("core", "protocol")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that drive real processes, windows and browsers on wall time get one retry.

    They wait on real Mosquitto, Xvfb, Chromium and subprocesses with time-outs
    sized for a loaded 2-core machine; on a slower or busier one a wait can still
    run out. A retried test shows as R in the run and as RERUN in the summary
    (`-ra`), so an intermittent failure stays visible; failing twice fails the run.
    """
    for item in items:
        package = item.path.parent.relative_to(Path(__file__).parent).parts[:1]
        if package and package[0] not in NEVER_RETRIED:
            item.add_marker(pytest.mark.flaky(reruns=1, reruns_delay=2))


_RETRIED: list[pytest.TestReport] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.outcome == "rerun":  # type: ignore[comparison-overlap]  # the plugin's outcome
        _RETRIED.append(report)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Why each retried test failed the first time: the next person needs the cause."""
    for report in _RETRIED:
        terminalreporter.write_sep("-", f"first failure of {report.nodeid} (retried)")
        text = report.longreprtext
        # The test's own lines come first and the error last; a library's frames between.
        shown = text if len(text) <= 5000 else f"{text[:2500]}\n[...]\n{text[-2500:]}"
        terminalreporter.write_line(shown)


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
