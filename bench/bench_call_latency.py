"""Call latency: a counter's call_next until a board-side subscriber has event/called.

The queue service runs as its own process (`antrean queue`), as on a Pi. A
counter device (counter-4, services C and D, no quota) calls one ticket at a
time: it publishes call_next, waits for the board's copy of event/called and
for its own reply, then calls the next. Tickets are issued beforehand.

Baseline in the same run: bench/relay.py, a separate process that republishes
what it receives; the same two broker hops (client -> broker -> relay -> broker
-> subscriber), QoS 1, TCP_NODELAY, the same client class, no engine or store.
Service calls and relay messages alternate, so both see the same machine state.

Targets (issue): p99 <= 15 ms, and p99 <= 3x the relay's p99.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from common import (
    OFFICE,
    PYTHON,
    Pipeline,
    Result,
    antrean_command,
    broker_config,
    format_ms,
    main,
    spawn,
    stop_process,
    summary_ms,
    topic,
    wait_service_online,
    write_config,
)

from antrean.client import QueueClient
from antrean.devbroker import DevBroker
from antrean.mqtt import MqttClient

COUNTER_DEVICE = "counter-4"  # counter 4 serves C and D, which have no daily quota
SERVICE = "C"
RELAY_IN, RELAY_OUT = "bench/relay/in", "bench/relay/out"
TIMEOUT_S = 5


class Latch:
    """Timestamps the next message on a topic (one outstanding message at a time)."""

    def __init__(self, port: int, topic_filter: str, name: str) -> None:
        self._got = threading.Event()
        self.at = 0.0
        self.payload = b""
        self.mqtt = MqttClient(f"bench-{name}-{os.getpid()}", broker_config(port))
        self.mqtt.subscribe(topic_filter, self._on)

    def start(self) -> Latch:
        self.mqtt.start()
        if not self.mqtt.wait_connected(10):
            raise RuntimeError("latch: cannot reach the broker")
        time.sleep(0.2)  # the SUBACK
        return self

    def stop(self) -> None:
        self.mqtt.stop()

    def _on(self, _topic: str, payload: bytes) -> None:
        self.at = time.perf_counter()
        self.payload = payload
        self._got.set()

    def arm(self) -> None:
        self._got.clear()

    def wait(self) -> float:
        if not self._got.wait(TIMEOUT_S):
            raise TimeoutError("no message within the timeout")
        return self.at


class OfficeSeq:
    """Follows state/office, the last message the service publishes for a batch."""

    def __init__(self, port: int) -> None:
        self.seq = -1
        self._cond = threading.Condition()
        self.mqtt = MqttClient(f"bench-office-{os.getpid()}", broker_config(port))
        self.mqtt.subscribe(topic("state", "office"), self._on)

    def start(self) -> OfficeSeq:
        self.mqtt.start()
        if not self.mqtt.wait_connected(10):
            raise RuntimeError("office watcher: cannot reach the broker")
        return self

    def stop(self) -> None:
        self.mqtt.stop()

    def _on(self, _topic: str, payload: bytes) -> None:
        with self._cond:
            self.seq = max(self.seq, int(json.loads(payload)["seq"]))
            self._cond.notify_all()

    def wait_for(self, seq: int) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: self.seq >= seq, TIMEOUT_S):
                raise TimeoutError(f"state/office never reached seq {seq}")


def one_call(counter: QueueClient, board: Latch, office: OfficeSeq) -> float:
    """call_next -> event/called at the board, in seconds.

    Then waits for the reply and for the batch's state/office, so that the
    service is idle again before the next measurement (of either kind).
    """
    board.arm()
    t0 = time.perf_counter()
    cmd_id = counter.send("call_next", {"counter": 4})
    at = board.wait()
    reply = counter.wait(cmd_id, TIMEOUT_S)
    if not reply["ok"] or not reply["result"]["ticket"]:
        raise RuntimeError(f"call_next did not call a ticket: {reply}")
    event: dict[str, Any] = json.loads(board.payload)
    if event["ticket"]["code"] != reply["result"]["ticket"]["code"]:
        raise RuntimeError(f"the board saw another call: {event} for {reply}")
    office.wait_for(event["seq"])
    return at - t0


def one_relay(sender: MqttClient, sink: Latch, payload: bytes) -> float:
    sink.arm()
    t0 = time.perf_counter()
    sender.publish(RELAY_IN, payload)
    return sink.wait() - t0


def wait_relay(sender: MqttClient, sink: Latch, timeout: float = 10) -> None:
    """Blocks until the relay process forwards (it starts alongside the service)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            one_relay(sender, sink, b"ping")
            return
        except TimeoutError:
            if time.monotonic() > deadline:
                raise


def issue_tickets(port: int, count: int) -> None:
    kiosk = Pipeline(port, "kiosk-1", window=64).start()
    try:
        t = time.perf_counter()
        kiosk.run("issue", {"service": SERVICE}, count)
        print(f"issued {kiosk.ok} tickets for service {SERVICE} in {time.perf_counter() - t:.1f} s")
    finally:
        kiosk.stop()
    if kiosk.ok != count:
        raise RuntimeError(f"issuing failed: {kiosk.errors[:3]}")


def measure(port: int, calls: int, warmup: int) -> tuple[list[float], list[float]]:
    """Alternates a service call and a relay message; returns both latencies (s)."""
    counter = QueueClient(OFFICE, COUNTER_DEVICE, broker_config(port)).start()
    board = Latch(port, topic("event", "called"), "board").start()
    sender = MqttClient(f"bench-relay-sender-{os.getpid()}", broker_config(port))
    sender.start()
    sink = Latch(port, RELAY_OUT, "relay-sink").start()
    office = OfficeSeq(port).start()
    body = {"id": "counter-4-0000000000-1", "action": "call_next", "args": {"counter": 4}}
    payload = json.dumps(body).encode()  # what the relay forwards: a call_next command
    service_s: list[float] = []
    relay_s: list[float] = []
    try:
        wait_relay(sender, sink)
        for i in range(warmup + calls):
            s, r = one_call(counter, board, office), one_relay(sender, sink, payload)
            if i >= warmup:
                service_s.append(s)
                relay_s.append(r)
    finally:
        for client in (counter, board, sender, sink, office):
            client.stop()
    return service_s, relay_s


def run(quick: bool) -> Result:
    calls, warmup = (200, 20) if quick else (1000, 50)
    with tempfile.TemporaryDirectory(prefix="antrean-bench-") as tmp, DevBroker() as broker:
        folder, port = Path(tmp), broker.port
        service = spawn(antrean_command(write_config(folder, port)), folder / "queue.log")
        relay = spawn(
            [PYTHON, str(Path(__file__).with_name("relay.py")), "--port", str(port)],
            folder / "relay.log",
        )
        try:
            wait_service_online(port)
            issue_tickets(port, calls + warmup + 1)
            service_s, relay_s = measure(port, calls, warmup)
        finally:
            stop_process(relay)
            stop_process(service)

    svc, base = summary_ms(service_s), summary_ms(relay_s)
    print(format_ms("call_next -> event/called", svc))
    print(format_ms("relay baseline (2 hops)", base))
    ratio99, ratio50 = svc["p99"] / base["p99"], svc["p50"] / base["p50"]
    print(f"ratio service/relay: p50 {ratio50:.2f}x  p99 {ratio99:.2f}x")
    result = Result("call_latency")
    result.figures = {
        "calls": calls,
        "service_ms": svc,
        "relay_ms": base,
        "ratio_p50": ratio50,
        "ratio_p99": ratio99,
    }
    result.check("call latency p99", svc["p99"], "ms", "<= 15", svc["p99"] <= 15)
    result.check("call p99 / relay p99", ratio99, "x", "<= 3", ratio99 <= 3)
    return result


if __name__ == "__main__":
    main(__doc__, run)
