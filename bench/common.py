"""Shared helpers of the benchmarks: config, processes, observers, statistics, results."""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from antrean.config import BrokerConfig, Config
from antrean.device import DeviceLink
from antrean.engine import Changes, Engine
from antrean.mqtt import MqttClient
from antrean.store import Store
from kiosk.controller import IssueResult, Printed, TicketController
from kiosk.printer import Printer

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "antrean.example.toml"
BENCH = Path(__file__).resolve().parent
PYTHON = sys.executable
OFFICE = "gajahmungkur"  # the example office's id
_HOURS = '[office.hours]\nmon-thu = "08:00-15:00"\nfri = "08:00-11:00"\n'


# ---- config -------------------------------------------------------------------


def config_text(port: int, store: Path, kiosks: int = 1) -> str:
    """The example office: broker on `port`, store at `store`, always open, more kiosks."""
    text = EXAMPLE.read_text(encoding="utf-8")
    for old, new in (
        ("port = 1883", f"port = {port}"),
        (_HOURS, ""),
        ('path = "var/antrean.db"', f"path = {json.dumps(str(store))}"),
    ):
        if old not in text:
            raise RuntimeError(f"{EXAMPLE.name} changed: {old!r} is gone; update bench/common.py")
        text = text.replace(old, new)
    for n in range(2, kiosks + 1):
        text += f'\n[[device]]\nid = "kiosk-{n}"\nrole = "kiosk"\n'
    return text


def write_config(folder: Path, port: int, kiosks: int = 1) -> Path:
    """Writes the bench config (and the store beside it) into folder."""
    path = folder / "antrean.toml"
    path.write_text(config_text(port, folder / "antrean.db", kiosks), encoding="utf-8")
    return path


def broker_config(port: int) -> BrokerConfig:
    return BrokerConfig(host="127.0.0.1", port=port)


def topic(*parts: str) -> str:
    return "/".join(["antrean/v1", OFFICE, *parts])


# ---- processes ------------------------------------------------------------------


def antrean_command(config: Path) -> list[str]:
    """`antrean queue --config X`, from the venv's script when it is installed."""
    script = Path(PYTHON).parent / "antrean"
    if script.exists():
        return [str(script), "queue", "--config", str(config)]
    return [PYTHON, "-m", "antrean_tools.cli", "queue", "--config", str(config)]


def spawn(argv: list[str], log: Path) -> subprocess.Popen[bytes]:
    """Starts a child with its output in log (the file is kept for a post-mortem)."""
    with log.open("ab") as out:
        return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 10) -> None:
    """SIGTERM (a clean stop), then SIGKILL if it hangs."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def rss_mib(pid: int) -> float:
    """Resident set size of a process, from /proc/PID/status (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return math.nan


# ---- observing MQTT ---------------------------------------------------------------


class Observer:
    """A subscriber that keeps (monotonic time, topic, payload) of every message."""

    def __init__(
        self,
        port: int,
        topic_filter: str,
        name: str = "observer",
        broker: BrokerConfig | None = None,
        username: str | None = None,
    ) -> None:
        """On the plain broker at `port`, or on `broker` as `username` (a secured one)."""
        self.messages: list[tuple[float, str, bytes]] = []
        self._cond = threading.Condition()
        self._filter = topic_filter
        self.mqtt = MqttClient(
            f"bench-{name}-{os.getpid()}", broker or broker_config(port), username=username
        )
        self.mqtt.subscribe(topic_filter, self._on)

    def start(self, probe: str | None = None, timeout: float = 10) -> Observer:
        """Connects; with a probe topic (inside the filter), waits until the subscription works."""
        self.mqtt.start()
        if not self.mqtt.wait_connected(timeout):
            raise RuntimeError("observer: cannot reach the broker")
        if probe:
            deadline = time.monotonic() + timeout
            while not self._seen(probe, 0.1):
                if time.monotonic() > deadline:
                    raise RuntimeError("observer: the subscription never became active")
                self.mqtt.publish(probe, b"probe")
        return self

    def stop(self) -> None:
        self.mqtt.stop()

    def _on(self, topic_: str, payload: bytes) -> None:
        now = time.perf_counter()
        with self._cond:
            self.messages.append((now, topic_, payload))
            self._cond.notify_all()

    def _seen(self, topic_: str, timeout: float) -> bool:
        try:
            self.wait_for(lambda t, _p: t == topic_, timeout)
        except TimeoutError:
            return False
        return True

    def wait_for(
        self, predicate: Callable[[str, bytes], bool], timeout: float = 10
    ) -> tuple[float, str, bytes]:
        """The first message (time, topic, payload) that satisfies predicate."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for message in self.messages:
                    if predicate(message[1], message[2]):
                        return message
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no matching message on {self._filter} in {timeout} s")
                self._cond.wait(left)


def is_online(_topic: str, payload: bytes) -> bool:
    try:
        return bool(json.loads(payload).get("online"))
    except (ValueError, AttributeError):
        return False


def wait_service_online(port: int, timeout: float = 20) -> None:
    """Blocks until the queue service has published its retained `online` status."""
    status = topic("device", "queue", "status")
    observer = Observer(port, status, "online").start()
    try:
        observer.wait_for(lambda t, p: t == status and is_online(t, p), timeout)
    finally:
        observer.stop()


# ---- the kiosk ----------------------------------------------------------------------


def kiosk_link(config: Config, device: str = "kiosk-1", timeout: float = 20) -> DeviceLink:
    """The kiosk's real DeviceLink, started, once it sees the queue service online."""
    link = DeviceLink(config, device, "kiosk").start()
    deadline = time.monotonic() + timeout
    while not link.queue_online:
        if time.monotonic() > deadline:
            link.stop()
            raise RuntimeError("the kiosk's link never saw the queue service online")
        time.sleep(0.01)
    return link


class KioskTaps:
    """The kiosk's real TicketController on `link` and `printer`, tapped one ticket at a time."""

    def __init__(self, link: DeviceLink, config: Config, printer: Printer) -> None:
        self.outcomes: list[IssueResult] = []
        self._done = threading.Event()
        self.controller = TicketController(
            link,
            printer,
            config.office.name,
            config.office.timezone,
            {s.code: s.name for s in config.services},
            self._keep,
        )

    def _keep(self, outcome: IssueResult) -> None:
        self.outcomes.append(outcome)
        self._done.set()

    def tap(self, service: str, timeout: float = 10) -> Printed:
        """Takes one ticket (what a button's release calls); returns when it is printed."""
        self._done.clear()
        if not self.controller.take(service):
            raise RuntimeError("the controller was still busy")
        if not self._done.wait(timeout) or not isinstance(self.outcomes[-1], Printed):
            raise RuntimeError(f"a tap on {service} did not print: {self.outcomes[-1:]}")
        return self.outcomes[-1]

    def close(self) -> None:
        self.controller.close()


# ---- statistics -------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100), linear between closest ranks (numpy's default)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50/p90/p99/max/mean of durations given in seconds, in milliseconds."""
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50": percentile(ms, 50),
        "p90": percentile(ms, 90),
        "p99": percentile(ms, 99),
        "max": max(ms),
        "mean": statistics.fmean(ms),
    }


def format_ms(name: str, s: dict[str, float]) -> str:
    return (
        f"{name:<28} n={int(s['n']):>5}  p50 {s['p50']:7.2f}  p90 {s['p90']:7.2f}  "
        f"p99 {s['p99']:7.2f}  max {s['max']:7.2f}  mean {s['mean']:7.2f} ms"
    )


# ---- results ------------------------------------------------------------------------


@dataclass(slots=True)
class Check:
    """One target of the issue and whether this run met it."""

    name: str
    value: float
    unit: str
    target: str
    ok: bool


@dataclass(slots=True)
class Result:
    """What a benchmark hands to run_all: headline figures and target checks."""

    bench: str
    figures: dict[str, Any] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)

    def check(self, name: str, value: float, unit: str, target: str, ok: bool) -> None:
        self.checks.append(Check(name, value, unit, target, ok))

    def print_checks(self) -> None:
        print(f"\n{self.bench}: targets")
        for c in self.checks:
            verdict = "met" if c.ok else "MISSED"
            print(f"  {c.name:<40} {c.value:10.2f} {c.unit:<5} target {c.target:<14} {verdict}")

    def save(self, path: str | None) -> None:
        if path:
            Path(path).write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")


def parse_args(description: str, argv: list[str] | None = None) -> argparse.Namespace:
    """--quick (a shorter run) and --json PATH (where run_all collects the result)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="a shorter run, for a smoke test")
    parser.add_argument("--json", metavar="PATH", help="also write the result as JSON here")
    return parser.parse_args(argv)


def main(doc: str, run: Callable[[bool], Result]) -> None:
    """A benchmark script's entry point: parse the flags, run, print, save."""
    args = parse_args(doc.splitlines()[0])
    result = run(args.quick)
    result.print_checks()
    result.save(args.json)


# ---- clients ------------------------------------------------------------------------


class Pipeline:
    """One device sending commands with up to `window` unanswered, timing every reply."""

    def __init__(self, port: int, device: str, window: int = 32) -> None:
        self.device = device
        self.latencies: list[float] = []  # seconds, send to reply
        self.answered_at: list[float] = []  # perf_counter() of each reply
        self.ok = 0
        self.errors: list[dict[str, Any]] = []
        self._sent: dict[str, float] = {}
        self._slots = threading.Semaphore(window)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._prefix = f"bench-{device}-{os.getpid()}"
        self._count = 0
        self.mqtt = MqttClient(self._prefix, broker_config(port))
        self.mqtt.subscribe(topic("reply", device), self._on_reply)

    def start(self, timeout: float = 10) -> Pipeline:
        self.mqtt.start()
        if not self.mqtt.wait_connected(timeout):
            raise RuntimeError(f"{self.device}: cannot reach the broker")
        time.sleep(0.2)  # let the SUBACK of the reply topic arrive before the first command
        return self

    def stop(self) -> None:
        self.mqtt.stop()

    def send(self, action: str, args: dict[str, Any]) -> str:
        """Publishes one command once a slot in the window is free; returns its id."""
        self._slots.acquire()
        self._count += 1
        cmd_id = f"{self._prefix}-{self._count}"
        body = json.dumps({"id": cmd_id, "action": action, "args": args}).encode()
        with self._lock:
            self._sent[cmd_id] = time.perf_counter()
        self.mqtt.publish(topic("cmd", self.device), body)
        return cmd_id

    def run(self, action: str, args: dict[str, Any], count: int, timeout: float = 60) -> None:
        """Sends `count` commands, pipelined, and waits for every reply."""
        for _ in range(count):
            self.send(action, args)
        self.drain(timeout)

    def drain(self, timeout: float = 60) -> None:
        with self._idle:
            if not self._idle.wait_for(lambda: not self._sent, timeout):
                raise TimeoutError(f"{self.device}: {len(self._sent)} commands unanswered")

    def _on_reply(self, _topic: str, payload: bytes) -> None:
        now = time.perf_counter()
        reply = json.loads(payload)
        with self._lock:
            sent = self._sent.pop(reply.get("id"), None)
            if sent is None:
                return  # not ours, or a duplicate
            self.latencies.append(now - sent)
            self.answered_at.append(now)
            if reply.get("ok"):
                self.ok += 1
            else:
                self.errors.append(reply)
            if not self._sent:
                self._idle.notify_all()
        self._slots.release()


def commit_changes(store: Store, engine: Engine, out: Changes, now: datetime) -> None:
    """Writes an engine's Changes as the queue service's commit does (for in-process benches)."""
    store.commit(
        tickets=out.tickets.values(),
        counters=[engine.counters[n] for n in out.counters],
        services=[engine.services[s] for s in out.services],
        meta={"seq": str(engine.seq), "day": str(engine.day)},
        replies=[],
        now=now,
        calls=out.calls,
        stock=out.stock,
        progress=out.progress,
        bookings=out.bookings.values(),
        visits=out.visits.values(),
    )
