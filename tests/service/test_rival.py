"""Two queue services for one office: the second one stops and says why; a restart does not.

Real `antrean queue` processes against a real Mosquitto, each with a store of
its own, as when a second hub (or `make demo`) is started for an office.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from antrean import protocol
from antrean.config import Config, load_config
from antrean.rival import EXIT_RIVAL
from antrean_testing.client import QueueClient
from antrean_testing.devbroker import DevBroker
from tests.support.helpers import (
    ROOT,
    FakeClock,
    Office,
    example_config,
    example_text,
    issue_when_served,
)
from tests.support.mqtt_watch import Watcher

RIVAL_SAYS = "another queue service for office 'gajahmungkur' is running"


class Service:
    """`antrean queue` in a process of its own, its log kept in a file."""

    def __init__(self, folder: Path, port: int) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.source = folder / "office.toml"  # the store goes beside it: one store each
        self.source.write_text(example_text(port, hours=False), encoding="utf-8")
        self.config: Config = load_config(self.source)
        self.log = folder / "queue.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Service:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "antrean_tools.cli", "queue", "--config", str(self.source)],
                env={**os.environ, "PYTHONPATH": str(ROOT)},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        return self

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def exit_status(self, timeout: float) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)  # a frozen one must be able to die
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def services(tmp_path: Path, broker: DevBroker) -> Iterator[list[Service]]:
    made = [Service(tmp_path / name, broker.port) for name in ("hub", "second")]
    yield made
    for service in made:
        service.stop()


def issue(config: Config, timeout: float = 30) -> str:
    """Issues a ticket as the admin (retrying while no service answers); its code."""
    client = QueueClient("gajahmungkur", "admin", config.broker).start()
    try:
        return issue_when_served(client, timeout)
    finally:
        client.stop()


def test_a_second_queue_service_for_the_office_stops_and_says_why(
    services: list[Service],
) -> None:
    hub, second = services
    hub.start()
    assert issue(hub.config) == "D001"
    began = time.monotonic()
    second.start()
    assert second.exit_status(20) == EXIT_RIVAL, second.text()
    # Measured here: 1.8 s from the start of the process (Python's start-up
    # included), 0.07 s of it from the probe's connect.
    assert time.monotonic() - began < 10
    assert RIVAL_SAYS in second.text()
    assert f"(on {os.uname().nodename}, pid {hub.pid})" in second.text()
    # The first one never stopped serving from its own store: the next number is its D002.
    assert issue(hub.config, timeout=5) == "D002"
    assert hub.running()
    assert hub.text().count("dropped this connection") <= 2, hub.text()


def test_two_services_that_both_started_find_each_other_and_the_later_one_yields(
    services: list[Service], broker: DevBroker
) -> None:
    hub, second = services
    hub.start()
    assert issue(hub.config) == "D001"
    broker.stop()  # the second starts while the broker is away: no probe can tell
    second.start()
    time.sleep(6)  # its probe gives up after 5 s without a broker and it serves
    assert second.running(), second.text()
    broker.start()
    began = time.monotonic()
    assert second.exit_status(30) == EXIT_RIVAL, second.text()
    # Measured here: 4.4 s, most of it the reconnect back-off after the outage.
    assert time.monotonic() - began < 20
    assert RIVAL_SAYS in second.text()
    assert issue(hub.config) == "D002"
    assert hub.running(), hub.text()


def test_a_restart_after_a_freeze_is_not_taken_for_a_rival(
    services: list[Service],
) -> None:
    """The old process holds its session (its presence says online) but answers nothing.

    As after a power cut of a hub whose broker runs elsewhere, or a hung
    process that systemd replaces: the new one takes over and serves.
    """
    hub, _ = services
    hub.start()
    assert issue(hub.config) == "D001"
    assert hub.proc is not None
    frozen = hub.proc
    frozen.send_signal(signal.SIGSTOP)
    try:
        hub.start()  # the same unit again: same config, same store
        assert issue(hub.config) == "D002"
        time.sleep(3)
        assert hub.running(), hub.text()
    finally:
        frozen.kill()
        frozen.wait()


def test_a_stale_online_presence_restored_by_the_broker_does_not_stop_the_service(
    tmp_path: Path, broker: DevBroker, clock: FakeClock
) -> None:
    """Mosquitto's persistence can bring back an `online: true` whose session is long gone."""
    config = example_config(tmp_path, broker.port)
    watch = Watcher(config.broker, "antrean/v1/gajahmungkur/device/queue/status").start()
    stale = {"online": True, "role": "queue", "instance": "0ld", "started": 1.0, "host": "hub"}
    topic = protocol.status_topic("gajahmungkur", protocol.QUEUE_DEVICE)
    assert watch.mqtt.publish_and_wait(topic, stale)
    watch.stop()
    office = Office(config, clock)
    began = time.monotonic()
    office.start()
    try:
        assert time.monotonic() - began < 5
        assert office.ok("admin", "issue", service="D")["ticket"]["code"] == "D001"
    finally:
        office.close()
