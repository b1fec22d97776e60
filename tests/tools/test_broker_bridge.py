"""The bridge from the office broker to a central broker, two real Mosquitto processes.

The bridge section is the one `antrean broker bridge` writes (TLS to the
central broker's own CA, the office's user there); only its reconnect delay
is shortened so the test does not wait for the production back-off.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from antrean_tools.broker.bridge import Bridge
from antrean_tools.broker.local import SecuredBroker as HubBroker
from antrean_tools.broker.provision import write_bridge
from tests.support.broker_world import CentralBroker, wait_for
from tests.support.helpers import example_config
from tests.support.mqtt5_probe import NO_MATCHING_SUBSCRIBERS, SUCCESS, Probe

OFFICE = "gajahmungkur"
R = f"antrean/v1/{OFFICE}"
QUEUE = f"antrean-queue-{OFFICE}"
PUBLISHED = (SUCCESS, NO_MATCHING_SUBSCRIBERS)


class Pair:
    def __init__(self) -> None:
        config = example_config(Path(tempfile.mkdtemp(prefix="antrean-test-")))
        self.central = CentralBroker(OFFICE)
        self.hub = HubBroker(config)
        bridge = Bridge(
            office=OFFICE,
            host="127.0.0.1",
            port=self.central.port,
            username=OFFICE,
            password=self.central.office_password,
            ca_file=self.central.files.ca_cert,
        )
        path = write_bridge(self.hub.files, bridge, restart_timeout=(1, 2))
        (self.hub.conf_d / path.name).symlink_to(path)

    def dashboard(self) -> Probe:
        """A central reader whose session (and queue) the central broker keeps across restarts."""
        p = Probe(self.central.dashboard(), "dashboard", persistent=True)
        assert p.connect() == SUCCESS
        assert p.subscribe("antrean/v1/#") == 0x01
        return p

    def queue(self) -> Probe:
        p = Probe(self.hub.lan(QUEUE), QUEUE)
        assert p.connect() == SUCCESS
        return p


@pytest.fixture
def pair() -> Iterator[Pair]:
    p = Pair()
    p.central.start()
    p.hub.start()
    yield p
    p.hub.cleanup()
    p.central.cleanup()


def event(seq: int) -> bytes:
    return json.dumps({"seq": seq, "kind": "issued"}).encode()


def seqs(messages: list[tuple[str, bytes]], topic: str) -> list[int]:
    return [json.loads(body)["seq"] for t, body in messages if t == topic]


def assert_caught_up(dashboard: Probe, topic: str, want: list[int]) -> None:
    """Every seq arrives, none lost and in order (QoS 1 may repeat one: the first counts)."""
    wait_for(lambda: set(seqs(dashboard.messages(), topic)) >= set(want), 30, "catch-up")
    assert list(dict.fromkeys(seqs(dashboard.messages(), topic))) == want


def bridge_up(dashboard: Probe, queue: Probe) -> None:
    """Waits until a message from the hub reaches the central broker."""
    marker = f"{R}/state/office"

    def arrived() -> bool:
        assert queue.publish(marker, b'{"seq": 0}', retain=True) in PUBLISHED
        time.sleep(0.1)
        return any(t == marker for t, _ in dashboard.messages())

    wait_for(arrived, 15, "the bridge to connect")


def test_office_topics_reach_the_central_broker_and_nothing_comes_back(pair: Pair) -> None:
    dashboard, queue = pair.dashboard(), pair.queue()
    try:
        bridge_up(dashboard, queue)
        assert queue.publish(f"{R}/event/issued", event(1)) in PUBLISHED
        wait_for(lambda: seqs(dashboard.messages(), f"{R}/event/issued") == [1], 5, "event 1")
        # Retained state stays retained on the central broker: a late reader has it.
        late = Probe(pair.central.dashboard(), "late-reader")
        assert late.connect() == SUCCESS
        assert late.subscribe(f"{R}/state/#") == 0x01
        wait_for(lambda: late.messages() == [(f"{R}/state/office", b'{"seq": 0}')], 5, "state")
        late.close()
        # Out only: a command published on the central broker never reaches the office.
        watcher = pair.queue()
        assert watcher.subscribe(f"{R}/cmd/+") == 0x01
        office_user = Probe(pair.central.office_login(), "someone-at-the-centre")
        assert office_user.connect() == SUCCESS
        assert office_user.publish(f"{R}/cmd/admin", b'{"id":"x","action":"issue"}') in PUBLISHED
        time.sleep(0.5)
        assert watcher.messages() == []
        office_user.close()
        watcher.close()
    finally:
        dashboard.close()
        queue.close()


def test_events_sent_while_the_link_is_cut_arrive_in_order_after_it_returns(pair: Pair) -> None:
    dashboard, queue = pair.dashboard(), pair.queue()
    topic = f"{R}/event/issued"
    n = 200
    try:
        bridge_up(dashboard, queue)
        assert queue.publish(topic, event(1)) in PUBLISHED
        wait_for(lambda: seqs(dashboard.messages(), topic) == [1], 5, "event 1 before the cut")

        pair.central.stop()  # the link is cut; the office goes on
        for seq in range(2, n + 2):
            assert queue.publish(topic, event(seq)) in PUBLISHED  # the hub took each one
        pair.central.start()

        assert_caught_up(dashboard, topic, list(range(1, n + 2)))
    finally:
        dashboard.close()
        queue.close()


def test_the_queue_for_the_central_broker_survives_a_hub_restart(pair: Pair) -> None:
    dashboard, queue = pair.dashboard(), pair.queue()
    topic = f"{R}/event/called"
    try:
        bridge_up(dashboard, queue)
        pair.central.stop()
        for seq in range(1, 51):
            assert queue.publish(topic, event(seq)) in PUBLISHED
        queue.close()
        pair.hub.stop()  # a clean stop saves the queue with the persistence database
        pair.hub.start()
        pair.central.start()
        assert_caught_up(dashboard, topic, list(range(1, 51)))
    finally:
        dashboard.close()
