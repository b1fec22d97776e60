"""A board-side observer for tests: records every message under the office's root."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from antrean.config import BrokerConfig
from antrean.mqtt import MqttClient


class Watcher:
    """Subscribes to a topic filter and keeps (topic, payload, retained) in order."""

    def __init__(self, broker: BrokerConfig, topic_filter: str, name: str = "watcher") -> None:
        self.messages: list[tuple[str, dict[str, Any]]] = []
        self._cond = threading.Condition()
        self.mqtt = MqttClient(f"test-{name}-{id(self):x}", broker)
        self.mqtt.subscribe(topic_filter, self._on)

    def start(self) -> Watcher:
        self.mqtt.start()
        assert self.mqtt.wait_connected(10)
        return self

    def stop(self) -> None:
        self.mqtt.stop()

    def _on(self, topic: str, payload: bytes) -> None:
        with self._cond:
            self.messages.append((topic, json.loads(payload)))
            self._cond.notify_all()

    def wait_for(self, predicate: Any, timeout: float = 5) -> tuple[str, dict[str, Any]]:
        """The first message (topic, payload) for which predicate(topic, payload) holds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for topic, payload in self.messages:
                    if predicate(topic, payload):
                        return topic, payload
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no matching message in {timeout} s")
                self._cond.wait(left)

    def latest(self, topic: str) -> dict[str, Any] | None:
        with self._cond:
            for t, payload in reversed(self.messages):
                if t == topic:
                    return payload
        return None

    def events(self) -> list[dict[str, Any]]:
        with self._cond:
            return [p for t, p in self.messages if "/event/" in t]
