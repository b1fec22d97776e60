"""One device's burst against the real queue service on the hub's real broker.

The broker is the one `antrean broker init` sets up (its generated drop-in,
logins and access rules); kiosk-1 and counter-4 run on the hub, so their
passwords are saved in clients/, as the queue service's two logins are.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import statistics
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from antrean.config import Config, parse_config
from antrean.device import NoAnswer
from antrean.mqtt import MqttClient
from antrean.protocol import queue_staff_user
from antrean.ratelimit import BURST, RateLimit
from antrean.runner import QueueServiceRunner
from antrean_testing.client import QueueClient
from antrean_tools.broker.local import SecuredBroker
from tests.support.broker_world import wait_for
from tests.support.helpers import FakeClock, example_text

R = "antrean/v1/gajahmungkur"
DEFAULT_BROKER = 'host = "127.0.0.1"\nport = 1883\n'
COUNTER_GAP_S = 0.06  # a counter pressing far faster than a person, under the limit


class Hub:
    """The hub's broker and queue service; kiosk-1 and counter-4 log in on loopback."""

    def __init__(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="antrean-burst-"))
        plain = parse_config(example_text(rate_limit=True), source="init.toml", base_dir=self.tmp)
        self.broker = SecuredBroker(plain, ("kiosk-1", "counter-4"))
        self.broker.start()
        login = (
            f'host = "127.0.0.1"\nport = {self.broker.local_port}\n'
            f'password_file = "{self.broker.files.clients}/{{user}}.password"\n'
        )
        text = example_text(edit={DEFAULT_BROKER: login}, rate_limit=True)
        self.config: Config = parse_config(text, source="hub.toml", base_dir=self.tmp)
        self.runner: QueueServiceRunner | None = None
        self.fatal: list[BaseException] = []

    def start_service(self) -> QueueServiceRunner:
        self.runner = QueueServiceRunner(self.config, FakeClock(), self.fatal.append).start()
        assert self.runner.mqtt.wait_connected(10)
        if self.runner.staff_mqtt:
            assert self.runner.staff_mqtt.wait_connected(10)
        return self.runner

    def client(self, device: str) -> QueueClient:
        return QueueClient(self.config.office.id, device, self.config.broker).start()

    def tickets(self) -> int:
        db = sqlite3.connect(f"file:{self.config.store_path}?mode=ro", uri=True)
        try:
            return int(db.execute("SELECT count(*) FROM tickets").fetchone()[0])
        finally:
            db.close()

    def close(self) -> None:
        if self.runner:
            self.runner.stop()
        self.broker.cleanup()
        assert not self.fatal


@pytest.fixture
def hub() -> Iterator[Hub]:
    h = Hub()
    yield h
    h.close()


class BurstKiosk:
    """kiosk-1's login publishing `issue` commands without waiting; every reply kept by id."""

    def __init__(self, hub: Hub) -> None:
        self.replies: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self.mqtt = MqttClient("burst", hub.config.broker, username="kiosk-1")
        self.mqtt.subscribe(f"{R}/reply/kiosk-1", self._on_reply)
        self.mqtt.start()
        assert self.mqtt.wait_connected(10)

    def publish(self, ids: list[str]) -> None:
        for cmd_id in ids:
            body = {"id": cmd_id, "action": "issue", "args": {"service": "C"}}
            self.mqtt.publish(f"{R}/cmd/kiosk-1", body)  # QoS 1, as QueueClient sends

    def answered(self, ids: list[str]) -> int:
        with self._lock:
            return sum(i in self.replies for i in ids)

    def _on_reply(self, _topic: str, payload: bytes) -> None:
        reply = json.loads(payload)
        with self._lock:
            self.replies.setdefault(reply["id"], reply)


def press_until(counter: QueueClient, done: threading.Event, took: list[float]) -> None:
    """counter-4 pressing call_next every COUNTER_GAP_S until `done`."""
    while not done.is_set():
        t0 = time.perf_counter()
        reply = counter.request("call_next", {}, timeout=10, sends=1)
        assert reply["ok"], reply
        took.append(time.perf_counter() - t0)
        time.sleep(COUNTER_GAP_S)


def test_a_burst_of_5000_is_answered_or_refused_and_another_counter_keeps_its_pace(
    hub: Hub,
) -> None:
    hub.start_service()
    kiosk = BurstKiosk(hub)
    counter = hub.client("counter-4")
    done, took = threading.Event(), []
    presser = threading.Thread(target=press_until, args=(counter, done, took), daemon=True)
    try:
        counter.request("counter_open", {})
        presser.start()
        wait_for(lambda: len(took) >= 3, 10, "counter-4 pressing")
        ids = [f"burst-{n}" for n in range(5000)]
        before, t0 = len(took), time.perf_counter()
        kiosk.publish(ids)
        wait_for(lambda: kiosk.answered(ids) == len(ids), 120, "an answer to every command")
        burst_s = time.perf_counter() - t0
        during = took[before:]
        done.set()
        presser.join(15)
        codes = Counter(
            "ok" if kiosk.replies[i]["ok"] else kiosk.replies[i]["error"]["code"] for i in ids
        )
        # Nothing lost: each command made a ticket and said so, or was refused.
        assert set(codes) == {"ok", "rate_limited"}, codes
        assert BURST <= codes["ok"] < 1000, codes
        assert hub.tickets() == codes["ok"]
        refused = next(kiosk.replies[i] for i in ids if not kiosk.replies[i]["ok"])
        assert refused["error"]["message"].startswith("Terlalu banyak perintah")
        assert 0 < refused["error"]["retry_after_s"] <= 0.05
        # The counter never stood behind the burst (before: its press waited for
        # the whole burst, about as long as the burst took).
        assert during, "no press while the burst was handled"
        assert statistics.median(during) < 0.3, sorted(during)
        assert max(during) < burst_s / 2, (burst_s, sorted(during)[-5:])

        # A refusal is not remembered: the same id sent again later makes its ticket.
        again = [i for i in ids if not kiosk.replies[i]["ok"]][:5]
        kiosk_client = QueueClient(hub.config.office.id, "kiosk-1", hub.config.broker)
        kiosk.mqtt.stop()  # one session per login: the client below takes kiosk-1's
        kiosk_client.start()
        try:
            answers = [kiosk_client.request("issue", {"service": "C"}, i) for i in again]
        finally:
            kiosk_client.stop()
        assert all(a["ok"] for a in answers), answers
        assert hub.tickets() == codes["ok"] + len(again)
    finally:
        done.set()
        kiosk.mqtt.stop()
        counter.stop()


def test_the_counters_session_is_the_services_second_login(hub: Hub) -> None:
    runner = hub.start_service()
    assert runner.staff_mqtt is not None
    assert runner.staff_mqtt.client_id == queue_staff_user("gajahmungkur")
    counter = hub.client("counter-4")
    try:
        assert counter.request("counter_open", {})["ok"]
    finally:
        counter.stop()


def test_without_the_second_login_the_counters_share_the_one_session(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    hub.broker.files.client_password(queue_staff_user("gajahmungkur")).unlink()
    with caplog.at_level(logging.WARNING, "antrean.runner"):
        runner = hub.start_service()
    assert runner.staff_mqtt is None
    assert "antrean broker init" in caplog.text
    counter = hub.client("counter-4")
    try:
        assert counter.request("counter_open", {})["ok"]
    finally:
        counter.stop()


def test_a_client_sends_the_same_id_again_until_it_is_answered(hub: Hub) -> None:
    """The first send reaches no service (it is starting); the repeat gets the one ticket."""
    kiosk = hub.client("kiosk-1")
    try:
        starter = threading.Timer(0.5, hub.start_service)
        starter.start()
        reply = kiosk.request("issue", {"service": "C"}, cmd_id="tap-1", timeout=8)
        starter.join()
        assert reply["ok"], reply
        assert reply["result"]["ticket"]["code"] == "C001"
        assert hub.tickets() == 1
    finally:
        kiosk.stop()


def test_no_answer_after_every_send_within_the_timeout(hub: Hub) -> None:
    kiosk = hub.client("kiosk-1")
    try:
        t0 = time.monotonic()
        with pytest.raises(NoAnswer, match=r"within 1\.5 s"):
            kiosk.request("issue", {"service": "C"}, timeout=1.5)
        assert 1.4 < time.monotonic() - t0 < 2.5
    finally:
        kiosk.stop()


def test_the_bucket_refills_at_its_rate_up_to_its_burst() -> None:
    limit = RateLimit(rate_per_s=10, burst=5)
    assert [limit.take("k", 0.0) for _ in range(6)] == [True] * 5 + [False]
    assert limit.retry_after_s("k") == pytest.approx(0.1)
    assert limit.take("k", 0.1)  # one token back after 1/rate s
    assert not limit.take("k", 0.1)
    assert [limit.take("k", 60.0) for _ in range(6)] == [True] * 5 + [False]  # not more than burst
    assert limit.take("other", 60.0)  # each device its own bucket
    assert limit.refused("k") == 3
    assert limit.burst_ended("k", 60.5) == 0  # still refusing a moment ago
    assert limit.burst_ended("k", 61.5) == 3
    assert limit.burst_ended("k", 62.0) == 0  # said once


def test_a_clock_that_goes_back_does_not_stall_a_device() -> None:
    limit = RateLimit(rate_per_s=10, burst=2)
    assert limit.take("k", 1000.0)
    assert limit.take("k", 1000.0)
    assert not limit.take("k", 5.0)  # the clock went back: no refill, but no debt either
    assert limit.take("k", 5.1)
