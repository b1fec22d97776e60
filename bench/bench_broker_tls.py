"""What the secured office broker costs: connect time and one-hop QoS 1 latency.

Three ways to reach Mosquitto, measured in the same run, alternating message
by message so all three see the same machine state:

- plain: an anonymous development broker (antrean_testing.devbroker), the baseline;
- loopback: the hub's loopback listener as `antrean broker init` sets it up
  (user name + PBKDF2 password at connect, the access rules on every message);
- TLS: the hub's LAN listener (TLS 1.2+/1.3 with the office CA, password,
  access rules), as a board or counter Pi reaches it.

Connect: MqttClient.start() until the broker's CONNACK (TCP, TLS handshake,
login). Round trip: a QoS 1 publish until a subscriber on the same broker has
it (a real office pair on the secured broker: the queue service's user
publishing an event to board-1 on loopback, kiosk-1 publishing its status to
admin over TLS). The issue sets no target: these are figures.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path

from common import EXAMPLE, Result, format_ms, main, summary_ms, topic

from antrean.config import BrokerConfig, parse_config
from antrean.mqtt import MqttClient
from antrean.protocol import queue_user
from antrean_testing.devbroker import DevBroker
from antrean_tools.broker.local import SecuredBroker

PAYLOAD = b'{"seq":1,"kind":"called","at":"2026-11-26T02:04:00.000+00:00","day":"2026-11-26",' + (
    b'"ticket":{"code":"A001","service":"A","counter":1},"pad":"' + b"x" * 180 + b'"}'
)  # about the size of an event/called


class Latch:
    """A subscriber that timestamps the next message on its topic."""

    def __init__(self, broker: BrokerConfig, topic_filter: str, user: str) -> None:
        self._got = threading.Event()
        self.at = 0.0
        self.mqtt = MqttClient(f"{user}-{os.getpid()}", broker, username=user)
        self.mqtt.subscribe(topic_filter, self._on)

    def start(self) -> Latch:
        self.mqtt.start()
        if not self.mqtt.wait_connected(10):
            raise RuntimeError("latch: cannot connect")
        return self

    def _on(self, _topic: str, _payload: bytes) -> None:
        self.at = time.perf_counter()
        self._got.set()

    def round_trip(self, sender: MqttClient, topic_: str) -> float:
        self._got.clear()
        t0 = time.perf_counter()
        sender.publish(topic_, PAYLOAD)
        if not self._got.wait(5):
            raise TimeoutError(f"nothing arrived on {topic_}")
        return self.at - t0


def connect_time(broker: BrokerConfig, user: str) -> float:
    client = MqttClient(f"{user}-{os.getpid()}", broker, username=user)
    t0 = time.perf_counter()
    client.start()
    if not client.wait_connected(10):
        raise RuntimeError(f"{user}: cannot connect")
    took = time.perf_counter() - t0
    client.stop()
    return took


def run(quick: bool) -> Result:
    connects, messages, warmup = (10, 200, 20) if quick else (50, 2000, 100)
    folder = Path(tempfile.mkdtemp(prefix="antrean-bench-tls-"))
    config = parse_config(EXAMPLE.read_text(encoding="utf-8"), "bench.toml", folder)
    hub = SecuredBroker(config)
    hub.start()
    queue = queue_user(config.office.id)
    try:
        with DevBroker() as plain_broker:
            plain = BrokerConfig(port=plain_broker.port)
            setups = {
                "plain": (plain, "bench-sender", plain, "bench-reader", topic("event", "x")),
                "loopback": (hub.loopback(queue), queue, hub.loopback("board-1"), "board-1",
                             topic("event", "called")),
                "TLS": (hub.lan("kiosk-1"), "kiosk-1", hub.lan("admin"), "admin",
                        topic("device", "kiosk-1", "status")),
            }  # fmt: skip
            result = Result("broker_tls")
            print(f"connect: {connects} each; round trip: {messages} each, alternating")
            for name, (broker, user, _, _, _) in setups.items():
                took = [connect_time(broker, user) for _ in range(connects)]
                s = summary_ms(took)
                result.figures[f"connect_{name}"] = s
                print(format_ms(f"connect {name}", s))
            pairs = {}
            for name, (sb, su, rb, ru, t) in setups.items():
                sender = MqttClient(f"{su}-{os.getpid()}", sb, username=su)
                sender.start()
                if not sender.wait_connected(10):
                    raise RuntimeError(f"{su}: cannot connect")
                pairs[name] = (sender, Latch(rb, t, ru).start(), t)
            times: dict[str, list[float]] = {name: [] for name in setups}
            try:
                for i in range(warmup + messages):
                    for name, (sender, latch, t) in pairs.items():
                        took = latch.round_trip(sender, t)
                        if i >= warmup:
                            times[name].append(took)
            finally:
                for sender, latch, _ in pairs.values():
                    sender.stop()
                    latch.mqtt.stop()
            base = summary_ms(times["plain"])
            for name, values in times.items():
                s = summary_ms(values)
                result.figures[f"round_trip_{name}"] = s
                ratio = s["p50"] / base["p50"]
                print(format_ms(f"round trip {name}", s) + f"  (p50 {ratio:.2f}x plain)")
            return result
    finally:
        hub.cleanup()


if __name__ == "__main__":
    main(__doc__, run)
