"""A mobile unit comes home: its visit reaches the office store exactly once (issue 13).

Two real queue services, each with its own real Mosquitto: the office hub
and a unit. The unit serves residents offline (its kiosk and counter devices
through the real QueueClient), then its sync process (`antrean sync run`, a
real child process) reaches the office broker through a TCP proxy the test
controls. During the sync the link is cut and restored several times while
chunks are in flight, the sync process is SIGKILLed, and the office service
is restarted. At the end the office store holds exactly the unit's tickets,
calls and recordings of the visit, once each.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from antrean.config import Config, parse_config
from antrean_testing.devbroker import DevBroker
from antrean_tools.doctor import Doctor
from antrean_tools.sync_cli import status
from tests.service.test_visits import MELATI, MOBILE, office_text
from tests.support.helpers import ROOT, FakeClock, Office
from tests.support.stall_proxy import StallProxy

RESIDENTS = 120  # 5-6 outbox items each: about 700 items, two windows of the sync client
UNIT_ID = "keliling-1"
VISIT = "posyandu-melati"
TICKET_COLUMNS = (
    "id, day, service, number, code, priority, status, issued_at, ord, called_at, finished_at,"
    " counter, recalls, recalled_at, visit"
)


@pytest.fixture
def unit_broker() -> Iterator[DevBroker]:
    with DevBroker() as b:
        yield b


@pytest.fixture
def proxy(broker: DevBroker) -> Iterator[StallProxy]:
    """The unit's link to the office broker, which the test slows, cuts and restores."""
    with contextlib.closing(StallProxy(broker.port)) as link:
        yield link


@pytest.fixture
def config(tmp_path: Path, broker: DevBroker) -> Config:
    """The office, which knows the unit."""
    return parse_config(office_text(broker.port, MOBILE), "office.toml", tmp_path / "office")


def unit_toml(
    tmp_path: Path, unit_port: int, home_port: int, unit: str = UNIT_ID, prefix: str = "K"
) -> Path:
    """A unit's config: the example office with a [unit] whose home is `home_port`."""
    text = office_text(unit_port, "") + (
        f'\n[unit]\nid = "{unit}"\nprefix = "{prefix}"\nhome_host = "127.0.0.1"\n'
        f"home_port = {home_port}\n"
    )
    path = tmp_path / unit / "unit.toml"
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    return path


def serve(unit: Office, clock: FakeClock, residents: int) -> None:
    """Residents through the unit's kiosk and counter: recalls and no-shows among them."""
    for _ in range(residents):
        unit.ok("kiosk-1", "issue", service="A")
        clock.advance(seconds=20)
    for i in range(residents):
        assert unit.ok("counter-1", "call_next")["ticket"] is not None
        clock.advance(seconds=30)
        if i % 7 == 3:
            unit.ok("counter-1", "recall")
            clock.advance(seconds=20)
        if i % 10 == 5:
            unit.ok("counter-1", "no_show")
        else:
            clock.advance(minutes=2)
            unit.ok("counter-1", "complete")


def rows(db: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as c:
        return c.execute(sql, args).fetchall()


def office_acked(office: Config) -> int:
    got = rows(office.store_path, "SELECT acked FROM sync_acks WHERE visit = ?", VISIT)
    return int(got[0][0]) if got else 0


def start_sync(path: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "antrean_tools.cli", "sync", "run", "--config", str(path)]
    with log.open("ab") as out:
        return subprocess.Popen(cmd, env=env, stdout=out, stderr=out, cwd=ROOT)


def wait_until(predicate: Any, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, what
        time.sleep(0.05)


def test_a_visit_reaches_the_office_exactly_once_through_cuts_kills_and_restarts(
    tmp_path: Path,
    office: Office,
    unit_broker: DevBroker,
    proxy: StallProxy,
    clock: FakeClock,
) -> None:
    unit_path = unit_toml(tmp_path, unit_broker.port, proxy.port)
    unit_config = parse_config(unit_path.read_text(), str(unit_path), unit_path.parent)
    unit_clock = FakeClock(clock())
    day = str(clock().date())
    plan = {**MELATI, "day": day, "start": "08:00", "end": "16:00", "id": VISIT}
    office.ok("admin", "visit_plan", **plan)
    unit = Office(unit_config, unit_clock).start()
    try:
        unit.ok("admin", "visit_plan", **plan)  # the unit knows it (it opens by itself now)
        serve(unit, unit_clock, RESIDENTS)
    finally:
        unit.close()  # served and shut: the sync reads the store, not the unit's service
    head = rows(unit_config.store_path, "SELECT MAX(seq) FROM outbox WHERE visit = ?", VISIT)[0][0]
    assert head > 400

    log = tmp_path / "sync.log"
    seen_mid_sync: list[int] = []

    def when_moving() -> None:
        """Waits for the office to apply more of the visit: the sync is under way."""
        before = office_acked(office.config)
        wait_until(lambda: office_acked(office.config) > before, 30, "the sync made no progress")
        seen_mid_sync.append(office_acked(office.config))

    proxy.up_bytes_per_s = 40_000  # a poor link: the sync takes seconds, not milliseconds
    sync = start_sync(unit_path, log)
    try:
        when_moving()
        sync.send_signal(signal.SIGKILL)  # the unit loses power mid-sync
        sync.wait(10)
        sync = start_sync(unit_path, log)
        for _ in range(3):  # the link drops and comes back, chunks in flight
            when_moving()
            proxy.stall()
            proxy.drop()
            time.sleep(0.5)
            proxy.flow()
        when_moving()
        office.restart()  # the office service restarts mid-sync
        wait_until(lambda: office_acked(office.config) == head, 90, "the sync did not finish")
        wait_until(lambda: status(unit_config)["complete"], 20, "the unit never heard the ack")
    finally:
        sync.send_signal(signal.SIGTERM)
        sync.wait(10)
    doctor = Doctor(config_file=unit_path, config=unit_config).check_sync()
    assert (doctor.status, doctor.detail[:34]) == ("OK", "everything reached the office (las")
    assert all(n < head for n in seen_mid_sync), (seen_mid_sync, head)
    assert len(seen_mid_sync) == 5

    unit_tickets = rows(
        unit_config.store_path, f"SELECT {TICKET_COLUMNS} FROM tickets WHERE visit = ? ORDER BY id",
        VISIT,
    )  # fmt: skip
    office_tickets = rows(
        office.config.store_path,
        f"SELECT {TICKET_COLUMNS} FROM tickets WHERE origin = ? ORDER BY id", UNIT_ID,
    )  # fmt: skip
    assert len(unit_tickets) == RESIDENTS
    assert office_tickets == unit_tickets
    call = "SELECT ticket, day, kind, at, counter, service, visit FROM calls"
    unit_calls = rows(unit_config.store_path, f"{call} WHERE visit = ? ORDER BY id", VISIT)
    office_calls = rows(office.config.store_path, f"{call} WHERE origin = ? ORDER BY id", UNIT_ID)
    assert office_calls == unit_calls  # each call, recall and no-show once, in order
    recalls = sum(1 for i in range(RESIDENTS) if i % 7 == 3)
    assert len(unit_calls) == RESIDENTS + recalls + sum(1 for i in range(RESIDENTS) if i % 10 == 5)
    recordings = "SELECT ticket, kelurahan, source FROM progress WHERE ticket LIKE '%/K%'"
    recordings += " ORDER BY ticket"
    assert rows(office.config.store_path, recordings) == rows(unit_config.store_path, recordings)
    # The office's own day is untouched: its queue does not hold the unit's tickets.
    assert office.ok("admin", "snapshot")["services"][0]["waiting"] == 0
    assert office.ok("kiosk-1", "issue", service="A")["ticket"]["code"] == "A001"
    visit = office.ok("admin", "snapshot")["visits"]["visits"][0]
    assert (visit["id"], visit["status"]) == (VISIT, "open")
