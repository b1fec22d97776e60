"""Power-cut behaviour: SIGKILL the queue service under load, restart, lose nothing.

The service runs as a real process (`python -m antrean_tools.cli queue`) against a
real Mosquitto. Commands that were not answered before the kill are sent
again with the same id after the restart, as a kiosk or counter would.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from antrean.config import Config, load_config
from antrean.device import NoAnswer
from antrean.store import Store
from antrean_testing.client import QueueClient
from antrean_testing.devbroker import DevBroker
from tests.support.helpers import ROOT, example_text
from tests.support.mqtt_watch import Watcher

ROUNDS = int(os.environ.get("ANTREAN_CRASH_ROUNDS", "12"))
IN_FLIGHT = 8
# Commands per service life: each start gives a device a full rate-limit bucket
# (antrean.ratelimit.BURST, 100); five devices with a fifth each stay under it
# (the kill comes first in most lives), so none is refused.
KIOSKS = ("kiosk-1", "kiosk-2", "kiosk-3", "kiosk-4")
PER_LIFE = 400


class ServiceProcess:
    def __init__(self, config_path: Path) -> None:
        self.config_path = config_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "antrean_tools.cli", "queue", "--config", str(self.config_path)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()  # SIGKILL: no clean-up, like a power cut for this process
        self.proc.wait()

    def terminate(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def wait_ready(client: QueueClient) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            client.request("snapshot", timeout=1)
            return
        except NoAnswer:
            continue
    raise AssertionError("the queue service did not come up")


def command_for(n: int) -> tuple[str, str, dict[str, Any]]:
    """A deterministic mix: mostly issues on C and D, and calls at counter 4."""
    if n % 5 == 4:
        return "counter-4", "call_next", {}
    kiosk = KIOSKS[n % 5]
    return kiosk, "issue", {"service": "CD"[n % 2], "priority": n % 7 == 0}


@pytest.mark.timeout(600)
def test_sigkill_under_load_loses_no_acknowledged_ticket(tmp_path: Path, broker: DevBroker) -> None:
    config_path = tmp_path / "antrean.toml"
    more = "".join(f'\n[[device]]\nid = "{k}"\nrole = "kiosk"\n' for k in KIOSKS[1:])
    config_path.write_text(example_text(broker.port, hours=False) + more)
    config: Config = load_config(config_path)
    rng = random.Random(os.environ.get("ANTREAN_CRASH_SEED", "antrean"))
    clients = {
        d: QueueClient(config.office.id, d, config.broker).start() for d in (*KIOSKS, "counter-4")
    }
    presence = Watcher(config.broker, "antrean/v1/gajahmungkur/device/queue/status").start()
    service = ServiceProcess(config_path)
    answers: dict[str, list[dict[str, Any]]] = defaultdict(list)
    pending: dict[str, tuple[str, str, dict[str, Any]]] = {}  # id -> command, unanswered
    sent = 0
    try:
        for _ in range(ROUNDS):
            service.start()
            wait_ready(clients["kiosk-1"])
            life = len(pending)  # sent again below, in this life
            # Commands unanswered before the last kill are retried with their ids.
            for cmd_id, (device, action, args) in list(pending.items()):
                answers[cmd_id].append(clients[device].request(action, args, cmd_id, timeout=5))
                del pending[cmd_id]
            killer = threading.Timer(rng.uniform(0.05, 0.6), service.kill)
            killer.start()
            while killer.is_alive() or service.proc.poll() is None:  # type: ignore[union-attr]
                if life + IN_FLIGHT > PER_LIFE:
                    killer.join()  # the kill comes while the last window is unanswered
                    break
                life += IN_FLIGHT
                window = []
                for _ in range(IN_FLIGHT):
                    device, action, args = command_for(sent)
                    cmd_id = f"cmd-{sent}"
                    sent += 1
                    pending[cmd_id] = (device, action, args)
                    window.append((device, clients[device].send(action, args, cmd_id)))
                try:
                    for device, cmd_id in window:
                        answers[cmd_id].append(clients[device].wait(cmd_id, timeout=1.5))
                        del pending[cmd_id]
                except NoAnswer:
                    break
            killer.join()
            presence.wait_for(lambda t, p: p["online"] is False, timeout=5)
            presence.messages.clear()
        service.start()
        wait_ready(clients["kiosk-1"])
        for cmd_id, (device, action, args) in list(pending.items()):
            answers[cmd_id].append(clients[device].request(action, args, cmd_id, timeout=5))
            del pending[cmd_id]
    finally:
        service.terminate()
        presence.stop()
        for c in clients.values():
            c.stop()

    assert sent > ROUNDS * IN_FLIGHT
    # A repeated command got the very same answer as the first time.
    for cmd_id, replies in answers.items():
        assert all(r == replies[0] for r in replies), cmd_id
        assert replies[0]["ok"], replies[0]
    issued = {
        cmd_id: r[0]["result"]["ticket"] for cmd_id, r in answers.items() if cmd_id_is_issue(cmd_id)
    }
    codes = [t["code"] for t in issued.values()]
    assert len(codes) == len(set(codes)), "a number was issued twice"
    store = Store(config.store_path)
    try:
        day = date.fromisoformat(next(iter(issued.values()))["id"][:10])
        stored = {t.id: t for t in store.tickets_of_day(day)}
    finally:
        store.close()
    # Every acknowledged ticket exists, and no ticket exists that nobody was given.
    assert {t["id"] for t in issued.values()} == set(stored)
    for ticket in issued.values():
        assert stored[ticket["id"]].code == ticket["code"]
    for letter in "CD":
        numbers = sorted(t.number for t in stored.values() if t.code[0] == letter)
        assert numbers == list(range(1, len(numbers) + 1))


def cmd_id_is_issue(cmd_id: str) -> bool:
    return command_for(int(cmd_id.split("-")[1]))[1] == "issue"
