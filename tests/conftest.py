"""Shared fixtures: a real Mosquitto per test, the example office, a clock tests can move."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from antrean import mqtt
from antrean.config import Config
from antrean.devbroker import DevBroker

from .helpers import FakeClock, Office, example_config


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
