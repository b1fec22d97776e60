"""Five offices, one offline a whole business day, complete at the centre the next.

Real PostgreSQL, a real central Mosquitto, five offices each with its own
secured Mosquitto bridged (as `antrean broker bridge` writes it) through a
proxy, and its own queue service (test_central_e2e's BridgedOffice). Day one:
every office runs a short busy day, but one office's bridge is down the whole
day. At night that office's hub loses power (its Mosquitto is SIGKILLed and
started again), so the bridge's queue of the day, not yet autosaved, is gone:
only the office's own store still has day one. Day two: the link is back and
every office runs another day. At the end every office's events of both days
are in PostgreSQL exactly once, and the central counts per day equal each
office's own report: the offline day came back through the replay.
"""

from __future__ import annotations

import signal
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import psycopg
import pytest

from antrean_testing.devpostgres import DevPostgres
from antrean_tools.figures import period_figures
from central.figures import service_counts
from tests.central.test_central_e2e import (
    BridgedOffice,
    Central,
    assert_stored_once,
    central_events,
    offices_seen,
    open_world,
)
from tests.support.broker_world import wait_for

OFFICES = ("gajahmungkur", "tembalang", "banyumanik", "candisari", "pedurungan")
OFFLINE = OFFICES[1]
TICKETS = 24  # per office and day: short, so that five offices fit in the time box
DAY_TWO = datetime(2026, 11, 27, 1, 30, tzinfo=UTC)  # Friday 08:30 WIB


@pytest.fixture
def world() -> Iterator[dict[str, Any]]:
    with open_world(OFFICES) as w:
        yield w


def run_day(offices: list[BridgedOffice], part: int) -> None:
    def one(o: BridgedOffice) -> None:
        o.busy_day(TICKETS, seed=hash((o.office, part)) & 0xFFFF)

    threads = [threading.Thread(target=one, args=(o,)) for o in offices]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)


def own_counts(o: BridgedOffice, day: date) -> dict[str, tuple[int, int]]:
    """The office's own report of one business day: issued and served per service."""
    uri = f"{o.config.store_path.resolve().as_uri()}?mode=ro"
    db = sqlite3.connect(uri, uri=True)
    try:
        groups = period_figures(db, day, day, o.config.office.timezone).groups["service"]
    finally:
        db.close()
    return {k: (g.issued, g.served) for k, g in groups.items() if g.issued or g.served}


def power_cut(o: BridgedOffice) -> None:
    """The hub's Mosquitto dies without saving (SIGKILL) and comes back, as after a power cut."""
    proc = o.hub._proc  # the broker process itself, to kill it unclean
    assert proc is not None
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    o.hub.start()
    assert o.runner.mqtt.wait_connected(10)


def test_an_office_offline_a_whole_day_is_complete_the_next(world: dict[str, Any]) -> None:
    pg: DevPostgres = world["pg"]
    offices: list[BridgedOffice] = world["offices"]
    central: Central = world["central"]
    offline = next(o for o in offices if o.office == OFFLINE)
    central.start()
    wait_for(lambda: central_events(pg, OFFICES[0]) is not None, 30, "the central schema")
    wait_for(lambda: offices_seen(pg) == set(OFFICES), 30, "the offices' retained state")
    day_one = offline.runner.service.engine.day

    offline.cut()  # down before the day's first ticket, up again the next morning
    run_day(offices, 1)
    assert central_events(pg, OFFLINE) == {}  # nothing of its day reached the centre
    power_cut(offline)  # the night: the bridge's queue of the day is lost
    for o in offices:
        o.clock.set(DAY_TWO)
        wait_for(lambda o=o: o.runner.service.engine.day != day_one, 10, f"{o.office}: day two")
    offline.restore()
    run_day(offices, 2)
    day_two = offline.runner.service.engine.day

    for o in offices:
        want = assert_stored_once(pg, o, 60)
        assert {d for d, _ in want.values()} == {day_one.isoformat(), day_two.isoformat()}
        with psycopg.connect(pg.dsn) as conn:
            for day in (day_one, day_two):
                assert service_counts(conn, o.office, day) == own_counts(o, day), (o.office, day)
    assert central.stop() == 0
    assert f"office {OFFLINE}: asked for the events after" in central.log.read_text()
