"""An MQTT 5 client for the broker tests, to read the broker's reason codes.

This is the one place besides antrean/mqtt.py that imports paho, on purpose:
the apps speak MQTT 3.1.1 (the contract), where a broker answers a publish it
refuses with an ordinary PUBACK and a refused login with a bare return code.
Only MQTT 5 carries *why* (PUBACK 0x87 "not authorized", CONNACK 0x86 "bad
user name or password"), which is what these tests check. It is test-only,
so the production door to the network stays single.
"""

from __future__ import annotations

import ssl
import threading
import time
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from antrean.config import BrokerConfig

SUCCESS = 0x00
NO_MATCHING_SUBSCRIBERS = 0x10  # a granted publish that nobody was listening for
GRANTED_QOS_1 = 0x01
BAD_USERNAME_OR_PASSWORD = 0x86
NOT_AUTHORIZED = 0x87


class Probe:
    """Connects once with MQTT 5 and reports the broker's reason codes."""

    def __init__(
        self,
        broker: BrokerConfig,
        client_id: str,
        tls: bool | None = None,
        ca: str | None = None,
        persistent: bool = False,
    ) -> None:
        """With `persistent`, the broker keeps the session (and queues for it) for 10 min."""
        self.broker = broker
        self.persistent = persistent
        self._lock = threading.Lock()
        self._done: dict[int, threading.Event] = {}
        self._codes: dict[int, list[int]] = {}
        self._connack = threading.Event()
        self.connack: int | None = None
        self.disconnected = threading.Event()
        self.received: list[tuple[str, bytes]] = []  # (topic, payload), in order
        c = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5)
        if broker.username is not None:
            c.username_pw_set(broker.username, broker.password)
        if tls if tls is not None else broker.tls_ca is not None:
            c.tls_set(ca_certs=ca or str(broker.tls_ca), tls_version=ssl.PROTOCOL_TLS_CLIENT)
        c.on_connect = self._on_connect
        c.on_publish = self._on_publish
        c.on_subscribe = self._on_subscribe
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message
        self.client = c

    def connect(self, timeout: float = 5) -> int:
        """The CONNACK reason code; raises OSError/ssl.SSLError if there is no MQTT at all."""
        props = None
        if self.persistent:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = 600
            self.client.reconnect_delay_set(1, 1)
        self.client.connect(
            self.broker.host,
            self.broker.port,
            keepalive=30,
            clean_start=not self.persistent,
            properties=props,
        )
        self.client.loop_start()
        deadline = time.monotonic() + timeout
        while not self._connack.wait(0.02):
            if self.disconnected.is_set() or time.monotonic() > deadline:
                self.close()
                raise ConnectionError("no CONNACK (the broker closed the connection)")
        assert self.connack is not None
        return self.connack

    def publish(self, topic: str, payload: bytes = b"{}", retain: bool = False) -> int:
        """Publishes at QoS 1 and returns the PUBACK's reason code."""
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        return self._wait(info.mid)[0]

    def subscribe(self, topic_filter: str) -> int:
        """Subscribes at QoS 1 and returns the SUBACK's reason code."""
        _rc, mid = self.client.subscribe(topic_filter, qos=1)
        assert mid is not None
        return self._wait(mid)[0]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _wait(self, mid: int, timeout: float = 5) -> list[int]:
        with self._lock:
            event = self._done.setdefault(mid, threading.Event())
        if not event.wait(timeout):
            raise AssertionError(f"no acknowledgement for message {mid}")
        with self._lock:
            return self._codes.pop(mid)

    def _ack(self, mid: int, codes: list[int]) -> None:
        with self._lock:
            self._codes[mid] = codes
            self._done.setdefault(mid, threading.Event()).set()

    def _on_connect(self, _c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self.connack = reason.value
        self._connack.set()

    def _on_publish(self, _c: Any, _u: Any, mid: int, reason: Any, _p: Any) -> None:
        self._ack(mid, [reason.value])

    def _on_subscribe(self, _c: Any, _u: Any, mid: int, reasons: Any, _p: Any) -> None:
        self._ack(mid, [r.value for r in reasons])

    def _on_message(self, _c: Any, _u: Any, msg: Any) -> None:
        with self._lock:
            self.received.append((msg.topic, msg.payload))

    def messages(self) -> list[tuple[str, bytes]]:
        with self._lock:
            return list(self.received)

    def _on_disconnect(self, _c: Any, _u: Any, _f: Any, _reason: Any, _p: Any) -> None:
        self.disconnected.set()
