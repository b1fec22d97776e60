"""Test helpers: the example office, a clock tests can move, a running office."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from antrean.config import Config, parse_config
from antrean.device import NoAnswer
from antrean.runner import QueueServiceRunner
from antrean_testing.client import QueueClient

# The checkout: the folder above this file that holds pyproject.toml (at any depth).
ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())
EXAMPLE = ROOT / "antrean.example.toml"
# Thursday 2026-11-26 09:00 WIB (02:00 UTC): inside the example office's hours.
OPEN_MORNING = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


class FakeClock:
    """An aware-UTC clock that only moves when a test says so (thread-safe)."""

    def __init__(self, start: datetime = OPEN_MORNING) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, **delta: float) -> datetime:
        with self._lock:
            self._now += timedelta(**delta)
            return self._now

    def set(self, when: datetime) -> None:
        with self._lock:
            self._now = when


CARD_LINE = "uses_card = true"  # the example's printing service; its stock starts empty


QUEUE_TABLE = "[queue]\n"
UNLIMITED = "device_rate_per_s = 100000\ndevice_burst = 100000\n"


def example_text(
    port: int = 1883,
    hours: bool = True,
    edit: dict[str, str] | None = None,
    cards: bool = False,
    rate_limit: bool = False,
) -> str:
    """The example office's TOML with its broker port (and maybe hours) changed.

    Without `cards` the printing service does not count blank cards: the
    tests of the queue itself issue its tickets with no stock recorded.
    Without `rate_limit` each device's token bucket is far above 20/s: tests
    set up hundreds of tickets from one admin login in a moment, which no real
    device does (tests/service/test_burst.py tests the limit itself).
    """
    text = EXAMPLE.read_text(encoding="utf-8").replace("port = 1883", f"port = {port}")
    if not rate_limit:
        assert QUEUE_TABLE in text
        text = text.replace(QUEUE_TABLE, QUEUE_TABLE + UNLIMITED, 1)
    if not cards:
        assert CARD_LINE in text
        text = text.replace(CARD_LINE, "uses_card = false")
    if not hours:
        text = text.replace('mon-thu = "08:00-15:00"\nfri = "08:00-11:00"\n', "")
        text = text.replace("[office.hours]\n", "")
    for old, new in (edit or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    return text


def example_config(
    tmp_path: Path,
    port: int = 1883,
    hours: bool = True,
    edit: dict[str, str] | None = None,
    cards: bool = False,
) -> Config:
    """The example office with its broker port and store moved into the test's folder."""
    text = example_text(port, hours, edit, cards)
    return parse_config(text, source="test.toml", base_dir=tmp_path)


class Office:
    """A running queue service with clients for the example office's devices."""

    def __init__(self, config: Config, clock: FakeClock) -> None:
        self.config = config
        self.clock = clock
        self.runner: QueueServiceRunner | None = None
        self._clients: dict[str, QueueClient] = {}
        self.fatal_errors: list[BaseException] = []  # checked by close()

    def start(self) -> Office:
        self.runner = QueueServiceRunner(self.config, self.clock, self.fatal_errors.append)
        self.runner.start()
        assert self.runner.mqtt.wait_connected(10)
        return self

    def stop(self) -> None:
        if self.runner:
            self.runner.stop()
            self.runner = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def client(self, device: str) -> QueueClient:
        if device not in self._clients:
            c = QueueClient(self.config.office.id, device, self.config.broker)
            self._clients[device] = c.start()
        return self._clients[device]

    def request(self, device: str, action: str, **args: Any) -> dict[str, Any]:
        return self.client(device).request(action, args)

    def ok(self, device: str, action: str, **args: Any) -> dict[str, Any]:
        reply = self.request(device, action, **args)
        assert reply["ok"], reply
        return reply["result"]  # type: ignore[no-any-return]

    def error(self, device: str, action: str, **args: Any) -> dict[str, Any]:
        reply = self.request(device, action, **args)
        assert not reply["ok"], reply
        return reply["error"]  # type: ignore[no-any-return]

    def close(self) -> None:
        for c in self._clients.values():
            c.stop()
        self.stop()
        assert not self.fatal_errors, f"the queue service hit fatal errors: {self.fatal_errors}"


def issue_when_served(client: QueueClient, timeout: float = 20) -> str:
    """Issues a D ticket, asking again while no queue service answers; its code."""
    end = time.monotonic() + timeout
    while True:
        try:
            reply = client.request("issue", {"service": "D"}, timeout=2)
        except NoAnswer:
            assert time.monotonic() < end, "no queue service answered"
            continue
        assert reply["ok"], reply
        return str(reply["result"]["ticket"]["code"])
