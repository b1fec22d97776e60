"""A burst from one kiosk login: nothing lost silently, and another counter unhurt.

The hub's broker as `antrean broker init` sets it up (antrean_tools.broker.local.
SecuredBroker: its generated drop-in, logins and access rules, on loopback)
and the queue service as its own process (`antrean queue`), logged in with
its saved password. kiosk-1 publishes BURST `issue` commands for service C
in one go (rounds alternate QoS 1, as `mosquitto_pub -q 1` or QueueClient
send, and QoS 0, as DeviceLink sends); every command has its own id. Each
reply is matched to its id: answered (`ok`), refused (by code), or lost (no
reply within QUIET_S of the last one). Lost ids are then sent again with the
same id, as a device does after a timeout.

The kiosk runs in a process of its own. Meanwhile counter-4 (services C and
D) presses `call_next` every COUNTER_GAP_S, a pace under the service's
per-device limit, and the time from its publish to its reply is kept. A
sample belongs to a burst when it was sent between the burst's first publish
and its last reply; the quiet phases between bursts (`baseline` presses
each) are the baseline, in the same run.

At the end the store is opened read-only: its tickets must equal the issues
the kiosk was told were made. Targets: 0 commands lost; the counter's p99
during a burst <= 100 ms (the counter's press-to-feedback target).
"""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import tempfile
import threading
import time
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import common
from common import OFFICE, Observer, Result, main, topic

from antrean.config import BrokerConfig, parse_config
from antrean.device import NoAnswer
from antrean_testing.client import QueueClient
from antrean_tools.broker.local import SecuredBroker

BURST = 5000
COUNTER_GAP_S = 0.06  # about 17 presses/s: far faster than a person, under the limit
QUIET_S = 15.0  # no reply for this long after a burst: the rest are lost (a device waits 5 s)
P99_TARGET_MS = 100.0
LOCAL = ("kiosk-1", "counter-4")  # hub devices: their passwords are saved in clients/


class BurstKiosk:
    """kiosk-1's login, publishing commands without waiting; its replies kept by an Observer."""

    def __init__(self, broker: BrokerConfig) -> None:
        self.inbox = Observer(0, topic("reply", "kiosk-1"), "kiosk", broker, "kiosk-1")
        self._count = 0
        self._read, self._duplicates, self._last = 0, 0, 0.0
        self._replies: dict[str, dict[str, Any]] = {}

    def start(self) -> BurstKiosk:
        self.inbox.start()
        return self

    def stop(self) -> None:
        self.inbox.stop()

    def new_ids(self, n: int) -> list[str]:
        first = self._count + 1
        self._count += n
        return [f"bench-burst-{i}" for i in range(first, first + n)]

    def publish(self, ids: list[str], qos: int) -> None:
        """Publishes one `issue` per id, back to back."""
        for cmd_id in ids:
            body = {"id": cmd_id, "action": "issue", "args": {"service": "C"}}
            self.inbox.mqtt.publish(topic("cmd", "kiosk-1"), body, qos=qos)

    def replies(self) -> tuple[dict[str, dict[str, Any]], int, float]:
        """Each id's reply (a ticket told of once is told of), duplicates, the last time."""
        messages = self.inbox.messages[self._read :]  # only the new ones: bursts are long
        self._read += len(messages)
        for at, _topic, payload in messages:
            reply = json.loads(payload)
            earlier = self._replies.get(reply["id"])
            self._duplicates += earlier is not None
            if earlier is None or reply["ok"]:
                self._replies[reply["id"]] = reply
            self._last = at
        return self._replies, self._duplicates, self._last

    def wait_quiet(self, ids: list[str], quiet: float) -> None:
        """Until every id has its reply, or no reply came for `quiet` s."""
        began = time.perf_counter()
        while True:
            replies, _, last = self.replies()
            if all(i in replies for i in ids) or time.perf_counter() - max(last, began) > quiet:
                return
            time.sleep(0.05)


class PacedCounter(threading.Thread):
    """counter-4 pressing call_next every COUNTER_GAP_S; keeps (sent at, latency or None)."""

    def __init__(self, broker: BrokerConfig) -> None:
        super().__init__(name="counter-4", daemon=True)
        self.client = QueueClient(OFFICE, "counter-4", broker)
        self.samples: list[tuple[float, float | None, str]] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            sent = time.perf_counter()
            try:  # one send, no repeat: the time of this command alone
                reply = self.client.wait(self.client.send("call_next", {}), timeout=10)
            except NoAnswer:
                self.samples.append((sent, None, "lost"))
                continue
            took = time.perf_counter() - sent
            code = "ok" if reply.get("ok") else reply["error"]["code"]
            self.samples.append((sent, took, code))
            time.sleep(max(0.0, COUNTER_GAP_S - took))


def classify(reply: dict[str, Any] | None) -> str:
    if reply is None:
        return "lost"
    return "ok" if reply.get("ok") else str(reply["error"]["code"])


def hub_config(folder: Path, port: int = 1883, clients: Path | None = None) -> str:
    """The bench office (always open) on the hub's loopback listener, with saved passwords."""
    text = common.config_text(port, folder / "antrean.db")
    if clients is None:
        return text
    line = f"port = {port}\n"
    return text.replace(line, f'{line}password_file = "{clients}/{{user}}.password"\n', 1)


def count_tickets(store: Path) -> int:
    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        return int(db.execute("SELECT count(*) FROM tickets").fetchone()[0])
    finally:
        db.close()


def wait_online(broker: BrokerConfig, timeout: float = 20) -> None:
    """Until the queue service answers a snapshot (it is connected and serving)."""
    client = QueueClient(OFFICE, "counter-4", broker).start()
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                client.request("snapshot", {}, timeout=1)
                return
            except NoAnswer:
                if time.monotonic() > deadline:
                    raise
    finally:
        client.stop()


def resend_lost(kiosk: BurstKiosk, ids: list[str], qos: int) -> int:
    """Sends the unanswered ids again, same ids, 100 at a time; how many got an answer."""
    lost = [i for i in ids if i not in kiosk.replies()[0]]
    for n in range(0, len(lost), 100):
        chunk = lost[n : n + 100]
        kiosk.publish(chunk, qos)
        kiosk.wait_quiet(chunk, 2.0)
    replies = kiosk.replies()[0]
    return sum(i in replies for i in lost)


def run(quick: bool) -> Result:
    rounds, baseline = (2, 30) if quick else (4, 60)
    with tempfile.TemporaryDirectory(prefix="antrean-bench-burst-") as tmp:
        folder = Path(tmp)
        hub = SecuredBroker(parse_config(hub_config(folder), "bench.toml", folder), LOCAL)
        hub.start()
        try:
            config = folder / "antrean.toml"
            text = hub_config(folder, hub.local_port, hub.files.clients)
            config.write_text(text, encoding="utf-8")
            service = common.spawn(common.antrean_command(config), folder / "queue.log")
            try:
                wait_online(hub.loopback("counter-4"))
                figures = bursts(hub, rounds, baseline)
            finally:
                common.stop_process(service)
        finally:
            hub.cleanup()
        figures["tickets"] = count_tickets(folder / "antrean.db")
    return report(**figures)


def kiosk_process(broker: BrokerConfig, conn: Connection) -> None:
    """The kiosk, in a process of its own (its 5,000 publishes and replies must not hold
    the counter's GIL): one burst per QoS received, its figures sent back."""
    kiosk = BurstKiosk(broker).start()
    conn.send("ready")
    while (qos := conn.recv()) is not None:
        ids = kiosk.new_ids(BURST)
        start = time.perf_counter()  # CLOCK_MONOTONIC: the same clock in both processes
        kiosk.publish(ids, qos)
        kiosk.wait_quiet(ids, QUIET_S)
        replies, _, end = kiosk.replies()
        codes: dict[str, int] = {}
        for i in ids:
            c = classify(replies.get(i))
            codes[c] = codes.get(c, 0) + 1
        recovered = resend_lost(kiosk, ids, qos)
        conn.send({"qos": qos, "codes": codes, "start": start, "end": end, "recovered": recovered})
    replies, duplicates, _ = kiosk.replies()
    kiosk.stop()
    answered = sum(bool(v["ok"]) for v in replies.values())
    conn.send({"answered": answered, "duplicates": duplicates})


def receive(conn: Connection, child: BaseProcess, timeout: float) -> Any:
    """The kiosk process's next message; an error if it died or went silent."""
    deadline = time.monotonic() + timeout
    while not conn.poll(0.5):
        if not child.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the kiosk process stopped answering (exit {child.exitcode})")
    return conn.recv()


def bursts(hub: SecuredBroker, rounds: int, baseline: int) -> dict[str, Any]:
    """The rounds: a burst (QoS 1, then 0, ...) and a quiet phase of `baseline` presses."""
    ours, theirs = multiprocessing.get_context("spawn").Pipe()
    child = multiprocessing.get_context("spawn").Process(
        target=kiosk_process, args=(hub.loopback("kiosk-1"), theirs), daemon=True
    )
    child.start()
    if receive(ours, child, 30) != "ready":
        raise RuntimeError("the kiosk process did not start")
    counter = PacedCounter(hub.loopback("counter-4"))
    counter.client.start()
    counter.start()
    done: list[dict[str, Any]] = []
    try:
        for r in range(rounds):
            ours.send(1 if r % 2 == 0 else 0)
            b = receive(ours, child, 600)
            b["took_s"] = b["end"] - b["start"]
            done.append(b)
            print(
                f"burst {r + 1} (QoS {b['qos']}): {BURST} sent, {b['took_s']:.2f} s to the last "
                "reply; " + ", ".join(f"{k} {v}" for k, v in sorted(b["codes"].items()))
                + f"; lost ones answered when sent again with the same id: {b['recovered']}"
            )  # fmt: skip
            n = len(counter.samples)
            while len(counter.samples) < n + baseline:  # the quiet phase: the baseline
                time.sleep(0.05)
        ours.send(None)
        totals = receive(ours, child, 60)
    finally:
        counter.done.set()
        counter.join(15)
        counter.client.stop()
        child.join(15)
        if child.is_alive():
            child.terminate()
    return {
        "bursts": done,
        "windows": [(b["start"], b["end"]) for b in done],
        "samples": counter.samples,
        **totals,
    }


def report(
    bursts: list[dict[str, Any]],
    windows: list[tuple[float, float]],
    samples: list[tuple[float, float | None, str]],
    answered: int,
    tickets: int,
    duplicates: int,
) -> Result:
    """Prints the figures and checks the targets."""

    def during(t: float) -> bool:
        return any(a <= t <= b for a, b in windows)

    hot = [s for s in samples if during(s[0])]
    # The baseline: outside the bursts and not in the second before one starts.
    cold = [s for s in samples if not during(s[0]) and not during(s[0] + 1)]
    hot_ms = common.summary_ms([s[1] for s in hot if s[1] is not None])
    cold_ms = common.summary_ms([s[1] for s in cold if s[1] is not None])
    counter_lost = sum(s[1] is None for s in samples)
    counter_codes: dict[str, int] = {}
    for s in samples:
        counter_codes[s[2]] = counter_codes.get(s[2], 0) + 1
    sent = BURST * len(bursts)
    lost = sum(b["codes"].get("lost", 0) for b in bursts)
    refused = sent - lost - sum(b["codes"].get("ok", 0) for b in bursts)
    for name, figures in (("no burst", cold_ms), ("during a burst", hot_ms)):
        print(common.format_ms(f"counter-4, {name}", figures))
    print(f"counter-4 replies: {counter_codes}")
    print(
        f"kiosk-1: {sent} sent, {sent - lost - refused} answered ok, {refused} refused, "
        f"{lost} lost; {duplicates} duplicate replies\n"
        f"store: {tickets} tickets; the kiosk was told of {answered} issues (after resends)"
    )
    figures = {"bursts": bursts, "counter_no_burst_ms": cold_ms, "counter_during_burst_ms": hot_ms}
    figures |= {"counter_codes": counter_codes, "sent": sent, "lost": lost, "refused": refused}
    result = Result("burst", {**figures, "tickets_in_store": tickets, "answered_issues": answered})
    result.check("burst commands lost", lost, "", "== 0", lost == 0)
    result.check("counter lost during bursts", counter_lost, "", "== 0", counter_lost == 0)
    p99 = hot_ms["p99"]
    result.check("counter p99 during a burst", p99, "ms", f"<= {P99_TARGET_MS:.0f}", p99 <= 100)
    same = tickets == answered
    result.check("store tickets == acknowledged", tickets, "", f"== {answered}", same)
    return result


if __name__ == "__main__":
    main(__doc__, run)
