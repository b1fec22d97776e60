"""The office broker's rules for mobile units' sync (issue 13), against a real secured Mosquitto.

A unit's sync login may write only its own `sync/{unit}/up` and read only its
own `sync/{unit}/ack` (and write its `status`, its outbox heads, which only the
office web reads), and read the office's schedule (`state/visits`, which
it follows before a trip) but not write it; the queue service reads every unit's items and writes
the acks; no device writes a unit's topics.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from antrean_tools.broker.local import SecuredBroker
from tests.support.broker_world import wait_for
from tests.support.helpers import example_config
from tests.support.mqtt5_probe import NO_MATCHING_SUBSCRIBERS, NOT_AUTHORIZED, SUCCESS, Probe

R = "antrean/v1/gajahmungkur/sync"
K1, K2 = "antrean-sync-keliling-1", "antrean-sync-keliling-2"
QUEUE = "antrean-queue-gajahmungkur"
V = "antrean/v1/gajahmungkur/state/visits"
OFFICE = "antrean/v1/gajahmungkur/state/office"  # which office the hub serves: units check
S1, S2 = f"{R}/keliling-1/status", f"{R}/keliling-2/status"  # the units' outbox heads
B1, B2 = f"{R}/keliling-1/bookings", f"{R}/keliling-2/bookings"  # their visits' bookings
TOPICS = [
    f"{R}/keliling-1/up", f"{R}/keliling-1/ack", f"{R}/keliling-2/up", f"{R}/keliling-2/ack", V,
    S1, S2, OFFICE, B1, B2,
]  # fmt: skip
MAY_WRITE = {
    K1: {f"{R}/keliling-1/up", S1},
    K2: {f"{R}/keliling-2/up", S2},
    QUEUE: {f"{R}/keliling-1/ack", f"{R}/keliling-2/ack", V, OFFICE, B1, B2},
    "kiosk-1": set(),
    "admin": set(),
    "web": set(),
}
MAY_READ = {
    K1: {f"{R}/keliling-1/ack", V, OFFICE, B1},
    K2: {f"{R}/keliling-2/ack", V, OFFICE, B2},
    QUEUE: set(TOPICS),  # a unit's status names the office it is set up for
    "kiosk-1": {V, OFFICE},  # every device reads the office's state
    "admin": {V, OFFICE},
    "web": {V, OFFICE, f"{R}/keliling-1/ack", f"{R}/keliling-2/ack", S1, S2},  # each unit's page
}


@pytest.fixture(scope="module")
def hub() -> Iterator[SecuredBroker]:
    mobile = '\n[mobile]\nunits = { "keliling-1" = "K", "keliling-2" = "L" }\n'
    tmp = Path(tempfile.mkdtemp(prefix="antrean-test-"))
    config = example_config(tmp, edit={"[stock]\n": mobile + "[stock]\n"})
    h = SecuredBroker(config)
    h.start()
    yield h
    h.cleanup()


def test_a_unit_writes_only_its_own_items_and_reads_only_its_own_acks(hub: SecuredBroker) -> None:
    probes = {u: Probe(hub.lan(u), u) for u in MAY_WRITE}
    try:
        for p in probes.values():
            assert p.connect() == SUCCESS
            assert p.subscribe(f"{R}/#") == 0x01
            assert p.subscribe(V) == 0x01
            assert p.subscribe("antrean/v1/+/state/office") == 0x01  # as antrean.unitsync does
        wrong, sent = [], []
        for user, p in probes.items():
            for topic in TOPICS:
                code = p.publish(topic, user.encode())
                ok = code in (SUCCESS, NO_MATCHING_SUBSCRIBERS)
                assert ok or code == NOT_AUTHORIZED, (user, topic, hex(code))
                if ok != (topic in MAY_WRITE[user]):
                    wrong.append((user, topic))
                if ok:
                    sent.append((topic, user.encode()))
        assert not wrong, wrong
        want = {u: sorted(m for m in sent if m[0] in MAY_READ[u]) for u in probes}
        for user, p in probes.items():
            n = len(want[user])
            wait_for(lambda p=p, n=n: len(p.messages()) >= n, 10, f"{user} reads")
        time.sleep(0.3)
        for user, p in probes.items():
            assert sorted(p.messages()) == want[user], user
    finally:
        for p in probes.values():
            p.close()
