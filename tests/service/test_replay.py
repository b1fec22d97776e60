"""The office's event log and `replay` (issue 16), over a real Mosquitto and SQLite."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from antrean.config import Config, ConfigError
from antrean.store import Store
from antrean_testing.devbroker import DevBroker
from tests.support.helpers import Office, example_config
from tests.support.mqtt_watch import Watcher

ROOT = "antrean/v1/gajahmungkur"
CENTRAL = '[[device]]\nid = "central"\nrole = "central"\n\n[[device]]\nid = "kiosk-1"'


@pytest.fixture
def config(tmp_path: Path, broker: DevBroker) -> Config:
    return example_config(tmp_path, broker.port, edit={'[[device]]\nid = "kiosk-1"': CENTRAL})


@pytest.fixture
def watcher(config: Config) -> Iterator[Watcher]:
    w = Watcher(config.broker, f"{ROOT}/event/#").start()
    yield w
    w.stop()


def test_replay_returns_the_events_as_they_were_published(office: Office, watcher: Watcher) -> None:
    for service in "ABCD":
        office.ok("kiosk-1", "issue", service=service)
    office.ok("counter-1", "call_next")
    office.ok("counter-1", "complete")
    watcher.wait_for(lambda t, p: p["seq"] == 7)
    published = watcher.events()
    assert [e["seq"] for e in published] == list(range(1, 8))

    first = office.ok("central", "replay", after=0, limit=3)
    assert first["events"] == published[:3]
    assert (first["oldest"], first["last"]) == (1, 7)
    rest = office.ok("central", "replay", after=3)
    assert rest["events"] == published[3:]

    # Logged in the batch's transaction: a restarted service still has them all.
    office.restart()
    again = office.ok("central", "replay", after=0)
    assert again["events"] == published
    assert office.ok("central", "replay", after=7)["events"] == []


def test_only_the_central_role_may_replay(office: Office) -> None:
    assert office.error("kiosk-1", "replay", after=0)["code"] == "forbidden"
    assert office.error("admin", "replay", after=0)["code"] == "forbidden"
    assert office.error("central", "issue", service="A")["code"] == "forbidden"
    assert office.error("central", "replay", after=-1)["code"] == "bad_request"
    assert office.ok("central", "status")["office"] == "gajahmungkur"


def test_the_central_role_belongs_to_the_device_central_only(tmp_path: Path) -> None:
    wrong = '[[device]]\nid = "pusat"\nrole = "central"\n\n[[device]]\nid = "kiosk-1"'
    with pytest.raises(ConfigError, match="central"):
        example_config(tmp_path, edit={'[[device]]\nid = "kiosk-1"': wrong})


def test_old_events_are_pruned_by_business_day(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    db: sqlite3.Connection = store.db
    rows = [(1, "2026-10-01", "{}"), (2, "2026-10-02", "{}"), (3, "2026-11-26", "{}")]
    db.executemany("INSERT INTO events VALUES (?,?,?)", rows)
    assert store.prune_events(date(2026, 10, 2)) == 1
    assert store.oldest_event() == 2
    assert [json.loads(b) for b in store.events_after(0, 10)] == [{}, {}]
    store.close()
