"""A request/reply client of the queue service, for tests and benchmarks.

It reads replies with the same parser and makes ids with the same scheme as
the apps' DeviceLink (antrean.device), without presence or retained state.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from antrean import protocol
from antrean.config import BrokerConfig
from antrean.device import CommandIds, NoAnswer, Reply, decode_reply
from antrean.mqtt import MqttClient

__all__ = ["NoAnswer", "QueueClient"]

# Sends of one command before NoAnswer: the same id again after a third of the
# timeout, so a command or reply the network dropped costs a few seconds, not all.
SENDS = 3


class QueueClient:
    """Sends commands as one device and waits for their replies."""

    def __init__(self, office: str, device: str, broker: BrokerConfig) -> None:
        self.office = office
        self.device = device
        self._ids = CommandIds(device)
        self._waiting: dict[str, threading.Event] = {}
        self._replies: dict[str, Reply] = {}
        self._lock = threading.Lock()
        self.mqtt = MqttClient(f"{self._ids.prefix}-client", broker, username=device)
        self.mqtt.subscribe(protocol.reply_topic(office, device), self._on_reply)

    def start(self, timeout: float = 10) -> QueueClient:
        self.mqtt.start()
        if not self.mqtt.wait_connected(timeout):
            raise ConnectionError("cannot reach the MQTT broker")
        return self

    def stop(self) -> None:
        self.mqtt.stop()

    def new_id(self) -> str:
        return self._ids()

    def send(
        self, action: str, args: dict[str, Any] | None = None, cmd_id: str | None = None
    ) -> str:
        """Publishes a command without waiting; returns its id."""
        cmd_id = cmd_id or self.new_id()
        with self._lock:
            self._waiting.setdefault(cmd_id, threading.Event())
        body = {"id": cmd_id, "action": action, "args": args or {}}
        self.mqtt.publish(protocol.cmd_topic(self.office, self.device), body)
        return cmd_id

    def reply(self, cmd_id: str, timeout: float = 5) -> Reply:
        """The typed reply to a command sent earlier; NoAnswer when none came in time."""
        with self._lock:
            event = self._waiting.setdefault(cmd_id, threading.Event())
        if not event.wait(timeout):
            raise NoAnswer(_no_answer(cmd_id, timeout, self.office), cmd_id, 1)
        with self._lock:
            self._waiting.pop(cmd_id, None)
            return self._replies.pop(cmd_id)

    def wait(self, cmd_id: str, timeout: float = 5) -> dict[str, Any]:
        """The reply to a command sent earlier, as the JSON on the wire."""
        return self.reply(cmd_id, timeout).body

    def request(
        self,
        action: str,
        args: dict[str, Any] | None = None,
        cmd_id: str | None = None,
        timeout: float = 5,
        sends: int = SENDS,
    ) -> dict[str, Any]:
        """Sends a command and returns its wire reply, sending the same id again while none comes.

        Up to `sends` sends spread over `timeout` (a lost command or a lost
        reply costs one interval, and the service runs a repeated id only
        once); a `rate_limited` refusal is sent again once its retry_after_s
        has passed. NoAnswer after `timeout`.
        """
        deadline = time.monotonic() + timeout
        if cmd_id is not None:
            # A reply still here for this id answered an earlier request (a second
            # answer to a send repeated under load): it is not this request's.
            with self._lock:
                self._replies.pop(cmd_id, None)
                self._waiting.pop(cmd_id, None)
        cmd_id = self.send(action, args, cmd_id)
        for n in range(sends, 0, -1):
            left = deadline - time.monotonic()
            try:
                reply = self.wait(cmd_id, max(0.0, left / n))
            except NoAnswer:
                if n == 1:
                    raise NoAnswer(
                        _no_answer(cmd_id, timeout, self.office), cmd_id, sends
                    ) from None
            else:
                error = reply.get("error") or {}
                if error.get("code") != "rate_limited" or n == 1:
                    return reply
                time.sleep(min(float(error.get("retry_after_s", 0.05)), max(0.0, left / n)))
            self.send(action, args, cmd_id)
        raise AssertionError("unreachable")  # pragma: no cover

    def send_raw(self, payload: bytes) -> None:
        """Publishes bytes as they are (for malformed-input tests)."""
        self.mqtt.publish(protocol.cmd_topic(self.office, self.device), payload)

    def _on_reply(self, _topic: str, payload: bytes) -> None:
        reply = decode_reply(payload)
        key = reply.id if reply.id is not None else "<none>"
        with self._lock:
            self._replies[key] = reply
            self._waiting.setdefault(key, threading.Event()).set()


def _no_answer(cmd_id: str, timeout: float, office: str) -> str:
    return (
        f"no answer to {cmd_id} within {timeout} s from the queue service of "
        f"office {office!r}; is it running, and is the office id right?"
    )
