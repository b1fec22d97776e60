"""A unit's large chunk does not hold up the office's counters (issue 13).

Two real queue services with their own Mosquitto. The unit numbers a
visit's tickets offline; one chunk of all its outbox items (far more than a
slice) is published on the office's `sync/{unit}/up` while the office's
counter calls its own residents without pause. The office applies the chunk
a slice at a time, each slice with its ack, and serves the calls between
slices: in the order the office published them, a call's event lies between
the chunk's first ack and its last. Exactly once holds: every item once, a
resend of the whole chunk changes nothing.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest

from antrean import protocol
from antrean.config import Config, parse_config
from antrean.mqtt import MqttClient
from antrean.store import StoreReader, outbox_after
from antrean.sync import SLICE_ITEMS
from antrean_testing.devbroker import DevBroker
from tests.service.test_visits import MELATI, MOBILE, UNIT, office_text
from tests.support.helpers import FakeClock, Office
from tests.support.mqtt_watch import Watcher

UNIT_TICKETS = 300  # 301 items with the visit's opening: 16 slices of one chunk


@pytest.fixture
def unit_broker() -> Iterator[DevBroker]:
    with DevBroker() as b:
        yield b


def unlimited(port: int, extra: str) -> str:
    """The example office without its daily quotas: hundreds of tickets of one service."""
    return office_text(port, extra).replace("daily_quota = 120", "").replace("daily_quota = 80", "")


def chunk_of(config: Config, visit: str) -> tuple[bytes, int]:
    """Every outbox item of the visit as one chunk (docs/protocol.md), and its last seq."""
    reader = StoreReader(config.store_path)
    try:
        items = outbox_after(reader.db, visit, 0, 10_000)
    finally:
        reader.close()
    body = {
        "office": config.office.id, "unit": "keliling-1", "prefix": "K", "visit": visit,
        "items": [{"seq": i.seq, "kind": i.kind, "body": json.loads(i.body)} for i in items],
    }  # fmt: skip
    return json.dumps(body, separators=(",", ":")).encode(), items[-1].seq


def test_the_office_calls_between_the_slices_of_a_large_chunk(
    tmp_path: Path, broker: DevBroker, unit_broker: DevBroker, clock: FakeClock
) -> None:
    office_cfg = parse_config(unlimited(broker.port, MOBILE), "o.toml", tmp_path / "o")
    unit_cfg = parse_config(unlimited(unit_broker.port, UNIT), "u.toml", tmp_path / "u")
    plan = {**MELATI, "day": str(clock().date()), "end": "16:00", "id": "melati"}
    office = Office(office_cfg, clock).start()
    unit = Office(unit_cfg, FakeClock(clock())).start()
    root = f"{protocol.ROOT}/{office_cfg.office.id}"
    watch = Watcher(office_cfg.broker, f"{root}/#", "order").start()
    sender = MqttClient("test-unit-sender", office_cfg.broker)
    sender.start()
    try:
        office.ok("admin", "visit_plan", **plan)
        unit.ok("admin", "visit_plan", **plan)
        for _ in range(UNIT_TICKETS):
            unit.ok("kiosk-1", "issue", service="A")
        payload, last = chunk_of(unit_cfg, "melati")
        assert last > 10 * SLICE_ITEMS
        for _ in range(400):
            office.ok("kiosk-1", "issue", service="A")
        assert sender.wait_connected(10)

        done = threading.Event()
        answered: list[str] = []

        def counter() -> None:  # the office's counter, calling all along
            while not done.is_set():
                answered.append(office.ok("counter-1", "call_next")["ticket"]["code"])
                office.ok("counter-1", "complete")

        caller = threading.Thread(target=counter)
        caller.start()
        ack_topic = protocol.sync_topic(office_cfg.office.id, "keliling-1", "ack")
        try:
            office.ok("counter-1", "snapshot")
            sender.publish(protocol.sync_topic(office_cfg.office.id, "keliling-1", "up"), payload)
            watch.wait_for(lambda t, p: t == ack_topic and p["acked"].get("melati") == last, 20)
        finally:
            done.set()
            caller.join(10)
        assert answered

        # In the office's own order of publishing: acks of slices, calls between them.
        # (The office's start published an ack of nothing: that is not the chunk's.)
        order = [(t, p) for t, p in watch.messages if t.endswith("event/called")
                 or (t == ack_topic and p["acked"].get("melati"))]  # fmt: skip
        acked = [p["acked"]["melati"] for t, p in order if t == ack_topic]
        assert acked[0] <= SLICE_ITEMS, acked  # the first ack is of one slice, not the chunk
        assert all(0 < b - a <= SLICE_ITEMS for a, b in pairwise(acked))
        first = next(i for i, (t, _p) in enumerate(order) if t == ack_topic)
        final = next(i for i, (t, p) in enumerate(order) if t == ack_topic
                     and p["acked"].get("melati") == last)  # fmt: skip
        between = [p for t, p in order[first:final] if t.endswith("event/called")]
        assert between, "no call was answered while the chunk was applied"

        # Exactly once: the whole chunk again changes nothing.
        sender.publish(protocol.sync_topic(office_cfg.office.id, "keliling-1", "up"), payload)
        office.ok("admin", "snapshot")  # the chunk is queued behind any command: wait for it
        watch.wait_for(lambda t, p: t == ack_topic and p is not order[final][1]
                       and p["acked"].get("melati") == last, 10)  # fmt: skip
    finally:
        sender.stop()
        watch.stop()
        unit.close()
        office.close()
    with sqlite3.connect(office_cfg.store_path) as db:
        codes = [r[0] for r in db.execute("SELECT code FROM tickets WHERE origin = 'keliling-1'")]
        assert sorted(codes) == [f"KA{n:03d}" for n in range(1, UNIT_TICKETS + 1)]
        assert db.execute("SELECT acked FROM sync_acks").fetchall() == [(last,)]
