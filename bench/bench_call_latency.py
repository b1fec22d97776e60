"""Call latency: a counter's call_next until a board-side subscriber has event/called.

The queue service runs as its own process (`antrean queue`), as on a Pi. A
counter device (counter-4, services C and D, no quota) calls one ticket at a
time: it publishes call_next, waits for the board's copy of event/called and
for its own reply, then calls the next. Tickets are issued beforehand.

Baseline in the same run: bench/relay.py, a separate process that republishes
what it receives; the same two broker hops (client -> broker -> relay -> broker
-> subscriber), QoS 1, TCP_NODELAY, the same client class, no engine or store.
The subscriber at the end of both, the board's place, is bench/latch.py, a
process of its own as a board is a device of its own.
And one durable SQLite commit, in this process: a store file with the
service's schema (WAL, synchronous FULL, checkpointed beside the commits by
antrean.checkpoint as the service's store is), and per commit the rows a call
writes (two tickets, a counter, a service, the meta, one remembered reply).
Service calls, relay messages and commits alternate, each after the same
idle gap, so all three see the same machine state. The service's physical
floor is relay + commit: two broker hops and one fsync are what a durable
call cannot avoid.

Where the probe commits matters: an fsync a few ms after another one has a
far shorter tail than one after an idle pause (the disk's flush then carries
whatever the machine wrote meanwhile), and the service's commit always comes
after a pause. So the floor's commit is made a gap after the last fsync, as
the service's is; the same probe right after the service's commit
(where it was measured until 2026-12-02) is printed beside it.

Targets: p99 <= 15 ms, p99 <= 3x the relay's p99, and
p99 <= 1.5x the floor (relay p99 + commit p99).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
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

from antrean.checkpoint import WalCheckpointer
from antrean.mqtt import MqttClient
from antrean.ratelimit import BURST, RATE_PER_S
from antrean.store import MIGRATIONS
from antrean_testing.client import QueueClient
from antrean_testing.devbroker import DevBroker

COUNTER_DEVICE = "counter-4"  # counter 4 serves C and D, which have no daily quota
SERVICE = "C"
RELAY_IN, RELAY_OUT = "bench/relay/in", "bench/relay/out"
TIMEOUT_S = 5
# Tickets issued per kiosk device: within the service's per-device burst
# (antrean.ratelimit.BURST), so that setting up the day is not rate limited.
PER_KIOSK = BURST - 10
# One call per round, paced under the per-device rate (antrean.ratelimit), so
# that counter-4 is never refused, and each round starts with an idle service.
PACE_S = 1.2 / RATE_PER_S
GAP_S = PACE_S / 3  # idle before each of a round's three measurements


class Latch:
    """Timestamps the next message on one topic of a LatchProcess (one outstanding at a time)."""

    def __init__(self) -> None:
        self._got = threading.Event()
        self.at = 0.0
        self.payload = b""

    def arrived(self, at: float, payload: bytes) -> None:
        self.at, self.payload = at, payload
        self._got.set()

    def arm(self) -> None:
        self._got.clear()

    def wait(self) -> float:
        if not self._got.wait(TIMEOUT_S):
            raise TimeoutError("no message within the timeout")
        return self.at


class InProcessLatch(Latch):
    """A Latch with its own subscriber in this process (bench_web's and bench_bridge's board).

    Those compare an office with and without the web or a bridge, both measured
    this way; the call-latency benchmark itself uses LatchProcess.
    """

    def __init__(self, port: int, topic_filter: str, name: str) -> None:
        super().__init__()
        self.mqtt = MqttClient(f"bench-{name}-{os.getpid()}", broker_config(port))
        self.mqtt.subscribe(
            topic_filter, lambda _t, payload: self.arrived(time.perf_counter(), payload)
        )

    def start(self) -> InProcessLatch:
        self.mqtt.start()
        if not self.mqtt.wait_connected(10):
            raise RuntimeError("latch: cannot reach the broker")
        time.sleep(0.2)  # the SUBACK
        return self

    def stop(self) -> None:
        self.mqtt.stop()


class LatchProcess:
    """bench/latch.py: the board's and the relay sink's subscriber, a process of its own.

    It stamps each message as it arrives; a thread here reads its lines and
    hands them to the topic's Latch.
    """

    def __init__(self, port: int, topics: list[str]) -> None:
        self.latches = {t: Latch() for t in topics}
        argv = [PYTHON, str(Path(__file__).with_name("latch.py")), "--port", str(port), *topics]
        self._proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._read, name="latch-reader", daemon=True)

    def start(self) -> LatchProcess:
        self._reader.start()
        if not self._ready.wait(15):
            raise RuntimeError("latch: the process did not reach the broker")
        time.sleep(0.2)  # the SUBACKs
        return self

    def stop(self) -> None:
        stop_process(self._proc)  # type: ignore[arg-type]

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for raw in self._proc.stdout:
            line = json.loads(raw)
            if line.get("ready"):
                self._ready.set()
                continue
            latch = self.latches.get(line["topic"])
            if latch is not None:
                latch.arrived(line["at"], line["payload"].encode())


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


class DurableCommit:
    """One call's worth of rows committed to a store of the service's schema, timed."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(str(path), isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        # As the service commits: no checkpoint inside COMMIT, one on the side.
        self.db.execute("PRAGMA wal_autocheckpoint=0")
        for script in MIGRATIONS:
            self.db.executescript(script)
        self.checkpointer = WalCheckpointer(path).start()
        self.n = 0

    def close(self) -> None:
        self.checkpointer.stop()
        self.db.close()

    def one(self) -> float:
        """Seconds for BEGIN ... COMMIT of a call: the ticket served, the one called, etc."""
        self.n += 1
        n, at = self.n, "2026-11-26T02:00:00.000+00:00"
        ticket = "INSERT OR REPLACE INTO tickets VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
        rows = [
            (f"2026-11-26/C{i:03d}", "2026-11-26", "C", i, f"C{i:03d}", 0, status, at, i,
             at, at if status == "served" else None, 4, 0, None, None, None, None, None)
            for i, status in ((n, "served"), (n + 1, "called"))
        ]  # fmt: skip
        reply = json.dumps({"id": f"c-{n}", "ok": True, "result": {"ticket": rows[1][:5]}})
        db = self.db
        t0 = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        db.executemany(ticket, rows)
        db.execute("INSERT OR REPLACE INTO counters VALUES (?,?,?,?,?)", (4, 1, rows[1][0], 1, 0))
        db.execute("INSERT OR REPLACE INTO services VALUES (?,?,?)", ("C", 1, ""))
        db.executemany("INSERT OR REPLACE INTO meta VALUES (?,?)", [("seq", str(n)), ("day", "d")])
        db.execute(
            "INSERT OR IGNORE INTO commands VALUES (?,?,?,?)", ("counter-4", f"c-{n}", at, reply)
        )
        db.execute("COMMIT")
        return time.perf_counter() - t0


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
    """Issues `count` tickets, from as many kiosks as the per-device rate limit needs."""
    t, ok, errors = time.perf_counter(), 0, []
    for n in range(kiosks_for(count)):
        share = min(PER_KIOSK, count - n * PER_KIOSK)
        kiosk = Pipeline(port, f"kiosk-{n + 1}", window=64).start()
        try:
            kiosk.run("issue", {"service": SERVICE}, share)
        finally:
            kiosk.stop()
        ok, errors = ok + kiosk.ok, errors + kiosk.errors
    print(f"issued {ok} tickets for service {SERVICE} in {time.perf_counter() - t:.1f} s")
    if ok != count:
        raise RuntimeError(f"issuing failed: {errors[:3]}")


def kiosks_for(count: int) -> int:
    return -(-count // PER_KIOSK)


def measure(
    port: int, calls: int, warmup: int, folder: Path
) -> tuple[list[float], list[float], list[float], list[float]]:
    """Alternates a service call, a relay message and two commits; returns the four (s).

    A round: a gap, the relay, a gap, the call (its commit) and a commit at
    once ("right after an fsync"), a gap, the floor's commit. The service's
    commit and the floor's each come a gap after the previous fsync.
    """
    counter = QueueClient(OFFICE, COUNTER_DEVICE, broker_config(port)).start()
    called = topic("event", "called")
    latches = LatchProcess(port, [called, RELAY_OUT]).start()
    board, sink = latches.latches[called], latches.latches[RELAY_OUT]
    sender = MqttClient(f"bench-relay-sender-{os.getpid()}", broker_config(port))
    sender.start()
    office = OfficeSeq(port).start()
    body = {"id": "counter-4-0000000000-1", "action": "call_next", "args": {"counter": 4}}
    payload = json.dumps(body).encode()  # what the relay forwards: a call_next command
    commit = DurableCommit(folder / "commit-probe.db")
    service_s: list[float] = []
    relay_s: list[float] = []
    commit_s: list[float] = []
    after_fsync_s: list[float] = []
    try:
        wait_relay(sender, sink)
        for i in range(warmup + calls):
            # Each measurement starts after the same idle gap: the first thing
            # after an idle pause is slower (the machine's cores wake, caches are
            # cold), so whichever came first would pay for both.
            time.sleep(GAP_S)
            r = one_relay(sender, sink, payload)
            time.sleep(GAP_S)
            s = one_call(counter, board, office)
            a = commit.one()
            time.sleep(GAP_S)
            c = commit.one()
            if i >= warmup:
                service_s.append(s)
                relay_s.append(r)
                commit_s.append(c)
                after_fsync_s.append(a)
    finally:
        commit.close()
        for client in (counter, latches, sender, office):
            client.stop()
    return service_s, relay_s, commit_s, after_fsync_s


def run(quick: bool) -> Result:
    calls, warmup = (200, 20) if quick else (1000, 50)
    with tempfile.TemporaryDirectory(prefix="antrean-bench-") as tmp, DevBroker() as broker:
        folder, port = Path(tmp), broker.port
        config = write_config(folder, port, kiosks=kiosks_for(calls + warmup + 1))
        service = spawn(antrean_command(config), folder / "queue.log")
        relay = spawn(
            [PYTHON, str(Path(__file__).with_name("relay.py")), "--port", str(port)],
            folder / "relay.log",
        )
        try:
            wait_service_online(port)
            issue_tickets(port, calls + warmup + 1)
            service_s, relay_s, commit_s, after_s = measure(port, calls, warmup, folder)
        finally:
            stop_process(relay)
            stop_process(service)

    svc, base, disk = summary_ms(service_s), summary_ms(relay_s), summary_ms(commit_s)
    after = summary_ms(after_s)
    print(format_ms("call_next -> event/called", svc))
    print(format_ms("relay baseline (2 hops)", base))
    print(format_ms("durable commit (1 fsync)", disk))
    print(format_ms("commit right after an fsync", after))
    ratio99, ratio50 = svc["p99"] / base["p99"], svc["p50"] / base["p50"]
    print(f"ratio service/relay: p50 {ratio50:.2f}x  p99 {ratio99:.2f}x")
    floor99 = base["p99"] + disk["p99"]
    floor_ratio = svc["p99"] / floor99
    print(
        f"service p50 {svc['p50']:.2f} p99 {svc['p99']:.2f} ms; relay p99 {base['p99']:.2f}, "
        f"commit p99 {disk['p99']:.2f}, floor {floor99:.2f} ms; "
        f"service/floor at p99 {floor_ratio:.2f}x; load average {os.getloadavg()[0]:.2f}"
    )
    result = Result("call_latency")
    result.figures = {
        "calls": calls,
        "service_ms": svc,
        "relay_ms": base,
        "commit_ms": disk,
        "commit_after_fsync_ms": after,
        "floor_p99_ms": floor99,
        "ratio_p50": ratio50,
        "ratio_p99": ratio99,
        "floor_ratio_p99": floor_ratio,
        "load_average": os.getloadavg()[0],
    }
    result.check("call latency p99", svc["p99"], "ms", "<= 15", svc["p99"] <= 15)
    result.check("call p99 / relay p99", ratio99, "x", "<= 3", ratio99 <= 3)
    result.check("call p99 / (relay + commit) p99", floor_ratio, "x", "<= 1.5", floor_ratio <= 1.5)
    return result


if __name__ == "__main__":
    main(__doc__, run)
