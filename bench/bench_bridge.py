"""The office's call latency with its bridge to the central broker up and down.

Two offices on this machine, each its own Mosquitto and its own queue service
(`antrean queue`, a process), the same example office, calls measured one at
a time as in bench_call_latency.py: counter-4's call_next until a board-side
subscriber on the office's broker has event/called. The baseline office has
no bridge configured. The bridged office's Mosquitto carries the section
`antrean broker bridge` writes (antrean_tools.broker.bridge.render_bridge,
the production reconnect back-off) to a central Mosquitto with TLS and
per-office logins (tests/support/broker_world.CentralBroker). Calls alternate
between the two offices round by round, so both see the same machine state.

Phase "up": the central broker runs and a subscriber there (the dashboard
login) receives the bridged office's events; the bench checks that every
measured call crossed the bridge. Phase "down": the central broker is
stopped; the bridge keeps retrying (the hub's log counts the attempts) and
queues what the office publishes. Printed: p50/p99 per office and phase, and
the bridged office's ratios to the baseline measured in the same phase.
Target: the bridge must not slow the office, p99 ratio <= 1.5 in both phases.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import common
from bench_call_latency import (
    COUNTER_DEVICE,
    InProcessLatch,
    OfficeSeq,
    issue_tickets,
    kiosks_for,
    one_call,
)
from common import OFFICE, Observer, Result, topic

from antrean.ratelimit import RATE_PER_S
from antrean_testing.client import QueueClient
from antrean_testing.devbroker import DevBroker
from antrean_tools.broker.bridge import Bridge, render_bridge
from antrean_tools.broker.files import broker_owner, chown

# Both offices paced together under the per-device rate (antrean.ratelimit).
PACE_S = 1.2 / RATE_PER_S
PHASES = ("up", "down")


class Hub(DevBroker):
    """An office's Mosquitto on loopback, optionally with the bridge section appended."""

    def __init__(self, bridge: str = "") -> None:
        super().__init__(persistence=True)  # as on a hub: the bridge's queue is saved
        self.bridge = bridge
        self.log = self._dir / "mosquitto.log"

    def config_text(self) -> str:
        return super().config_text() + self.bridge

    def start(self, timeout: float = 10) -> Hub:
        # Run as root, Mosquitto drops to its own user: let it write its log and database.
        self._dir.chmod(0o755)
        self.log.touch()
        chown(self.log, broker_owner())
        chown(self._dir, broker_owner())
        super().start(timeout)
        return self

    def bridge_attempts(self) -> int:
        """How many times the bridge has tried to connect (Mosquitto logs each attempt)."""
        return self.log.read_text(errors="replace").count("Connecting bridge (step 1)")


class Office:
    """A hub, its queue service and the bench's counter, board and state watcher on it."""

    def __init__(self, name: str, hub: Hub, folder: Path, tickets: int) -> None:
        self.name, self.hub = name, hub
        folder.mkdir()
        config = common.write_config(folder, hub.port, kiosks=kiosks_for(tickets))
        self.service = common.spawn(common.antrean_command(config), folder / "queue.log")
        self.clients: list[Any] = []
        common.wait_service_online(hub.port)
        issue_tickets(hub.port, tickets)
        self.counter = QueueClient(OFFICE, COUNTER_DEVICE, common.broker_config(hub.port)).start()
        self.board = InProcessLatch(hub.port, topic("event", "called"), f"board-{name}").start()
        self.office = OfficeSeq(hub.port).start()

    def call(self) -> float:
        return one_call(self.counter, self.board, self.office)

    def close(self) -> None:
        for client in (self.counter, self.board, self.office):
            client.stop()
        common.stop_process(self.service)


def measure(offices: list[Office], calls: int, warmup: int) -> dict[str, list[float]]:
    """Alternates one call at each office (the order swapped every round); seconds."""
    out: dict[str, list[float]] = {o.name: [] for o in offices}
    for i in range(warmup + calls):
        for o in offices if i % 2 else reversed(offices):
            s = o.call()
            if i >= warmup:
                out[o.name].append(s)
        time.sleep(PACE_S)
    return out


def called_at_centre(centre: Observer) -> int:
    with centre._cond:  # a count of what it has kept so far
        return sum(t.endswith("/event/called") for _at, t, _p in centre.messages)


def run(quick: bool) -> Result:
    sys.path.insert(0, str(common.ROOT))
    from tests.support.broker_world import CentralBroker, wait_for  # noqa: PLC0415

    calls, warmup = (150, 15) if quick else (500, 30)
    tickets = len(PHASES) * (calls + warmup) + 1
    central = CentralBroker(OFFICE)
    central.start()
    link = Bridge(OFFICE, "127.0.0.1", central.port, OFFICE, central.office_password,
                  central.files.ca_cert)  # fmt: skip
    hubs = {"baseline": Hub(), "bridged": Hub(render_bridge(link))}
    centre = Observer(0, f"antrean/v1/{OFFICE}/#", "centre", broker=central.dashboard())
    offices: list[Office] = []
    figures: dict[str, dict[str, dict[str, float]]] = {}
    attempts: dict[str, int] = {}
    so_far = 0  # the bridge's connection attempts when the central broker stops
    with tempfile.TemporaryDirectory(prefix="antrean-bench-bridge-") as tmp:
        try:
            for name, hub in hubs.items():
                hub.start()
                offices.append(Office(name, hub, Path(tmp) / name, tickets))
            centre.start()
            # The bridge is up once the office's retained state has reached the centre.
            centre.wait_for(lambda t, _p: t == topic("state", "office"), 30)
            for phase in PHASES:
                if phase == "down":
                    central.stop()
                    wait_for(lambda n=so_far: hubs["bridged"].bridge_attempts() > n, 60,
                             "the bridge's first retry")  # fmt: skip
                before = (hubs["bridged"].bridge_attempts(), called_at_centre(centre))
                got = measure(offices, calls, warmup)
                figures[phase] = {name: common.summary_ms(s) for name, s in got.items()}
                attempts[phase] = hubs["bridged"].bridge_attempts() - before[0]
                if phase == "up":
                    # Every call of the phase crossed the bridge (it was really up).
                    want = before[1] + calls + warmup
                    wait_for(lambda want=want: called_at_centre(centre) >= want, 10,
                             "every call of the bridged office at the centre")  # fmt: skip
                    so_far = hubs["bridged"].bridge_attempts()
        finally:
            centre.stop()
            for o in offices:
                o.close()
            for hub in hubs.values():
                hub.cleanup()
            central.cleanup()

    load = os.getloadavg()
    result = Result("bridge")
    for phase in PHASES:
        base, bridged = figures[phase]["baseline"], figures[phase]["bridged"]
        print(common.format_ms(f"{phase}: no bridge", base))
        print(common.format_ms(f"{phase}: bridged", bridged))
        r50, r99 = bridged["p50"] / base["p50"], bridged["p99"] / base["p99"]
        print(f"{phase}: bridged/baseline p50 {r50:.2f}x  p99 {r99:.2f}x"
              f"  (bridge connection attempts meanwhile: {attempts[phase]})")  # fmt: skip
        result.figures[phase] = {"baseline_ms": base, "bridged_ms": bridged, "ratio_p50": r50,
                                 "ratio_p99": r99, "bridge_attempts": attempts[phase]}  # fmt: skip
        result.check(f"bridge {phase}: call p99 / baseline p99", r99, "x", "<= 1.5", r99 <= 1.5)
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    result.figures["load_average"] = load[0]
    result.figures["calls_per_phase"] = calls
    return result


if __name__ == "__main__":
    common.main(__doc__, run)
