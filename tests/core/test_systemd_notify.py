"""sd_notify over a real unix datagram socket, as systemd would receive it."""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from antrean import systemd
from antrean.config import Config
from antrean.runner import QueueServiceRunner
from tests.support.helpers import FakeClock


class NotifySocket:
    """The receiving end systemd would hold; collects datagrams."""

    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(5)

    def receive(self) -> str:
        return self.sock.recv(4096).decode("utf-8")

    def drain(self, seconds: float) -> list[str]:
        """Every datagram that arrives within `seconds`."""
        got: list[str] = []
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                got.append(self.receive())
            except TimeoutError:
                break
        return got


@pytest.fixture
def notify_socket(monkeypatch: pytest.MonkeyPatch) -> Iterator[NotifySocket]:
    # A short path of our own: AF_UNIX paths are limited to about 100 bytes.
    path = f"/tmp/antrean-notify-{os.getpid()}-{time.monotonic_ns()}"
    s = NotifySocket(path)
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    yield s
    s.sock.close()
    Path(path).unlink(missing_ok=True)


def test_notify_sends_fields_as_one_datagram(notify_socket: NotifySocket) -> None:
    assert systemd.notify("READY=1", "STATUS=serving gajahmungkur")
    assert notify_socket.receive() == "READY=1\nSTATUS=serving gajahmungkur"


def test_notify_abstract_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"antrean-notify-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as rx:
        rx.bind("\0" + name)
        rx.settimeout(5)
        monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
        assert systemd.notify("WATCHDOG=1")
        assert rx.recv(100) == b"WATCHDOG=1"


def test_without_systemd_nothing_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert not systemd.notify("READY=1")


def test_a_socket_that_is_gone_is_reported_not_raised(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "gone"))
    assert not systemd.notify("READY=1")


def test_watchdog_interval_is_half_of_watchdog_usec(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    assert systemd.watchdog_interval() == 15.0
    monkeypatch.setenv("WATCHDOG_PID", "1")  # meant for another process
    assert systemd.watchdog_interval() is None
    monkeypatch.delenv("WATCHDOG_PID")
    monkeypatch.setenv("WATCHDOG_USEC", "0")
    assert systemd.watchdog_interval() is None
    monkeypatch.delenv("WATCHDOG_USEC")
    assert systemd.watchdog_interval() is None


def test_watchdog_pings_at_most_once_per_interval(notify_socket: NotifySocket) -> None:
    dog = systemd.Watchdog(interval=0.3)
    for _ in range(1000):
        dog.alive()
    assert notify_socket.drain(0.1) == ["WATCHDOG=1"]
    time.sleep(0.3)
    dog.alive()
    assert notify_socket.drain(0.1) == ["WATCHDOG=1"]


def test_queue_service_says_ready_and_pings_while_its_worker_runs(
    notify_socket: NotifySocket, monkeypatch: pytest.MonkeyPatch, config: Config
) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "400000")  # a ping every 0.2 s
    runner = QueueServiceRunner(config, FakeClock()).start()
    try:
        got = notify_socket.drain(1.5)
        ready = [m for m in got if m.startswith("READY=1\n")]
        assert ready == ["READY=1\nSTATUS=serving gajahmungkur, day 2026-11-26"], got
        assert got.count("WATCHDOG=1") >= 4, got
        # A worker that no longer loops (here: stopped) no longer pings, so
        # systemd would kill and restart the service after WatchdogSec.
        runner.service.stop()
        notify_socket.drain(0.3)  # a ping may be on its way
        assert notify_socket.drain(1.0) == []
    finally:
        runner.stop()
    assert "STOPPING=1" in notify_socket.drain(0.5)
