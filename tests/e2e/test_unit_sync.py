"""A mobile unit comes home: its visit reaches the office store exactly once (issue 13).

Two real queue services, each with its own real Mosquitto: the office hub
and a unit. The unit serves 300 residents offline through its real kiosk
controller (on the simulated printer) and its real counter agent (a scripted
input source pressing Berikutnya, Panggil ulang, Tidak hadir, Selesai), then
its sync process (`antrean sync run`, a real child process) reaches the
office broker through a TCP proxy the test controls. During the sync the
link is cut and restored several times while chunks are in flight, the sync
process is SIGKILLed, and the office service is restarted. At the end the
office store holds exactly the unit's tickets, calls and recordings of the
visit, once each, and its figures for the visit (counts, waits and service
times) are the test's own book.
"""

from __future__ import annotations

import contextlib
import math
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from antrean.config import Config, parse_config
from antrean.device import DeviceLink
from antrean_testing.devbroker import DevBroker
from antrean_tools.doctor import Doctor
from antrean_tools.figures import period_figures
from antrean_tools.sync_cli import status
from counter.settings import counter_inputs
from counter.station import CounterStation
from kiosk.controller import IssueResult, Printed, TicketController
from kiosk.printer.sim import SimPrinter
from kiosk.settings import kiosk_settings
from tests.service.test_visits import MELATI, MOBILE, office_text
from tests.support.counter_helpers import ScriptedButtons
from tests.support.helpers import ROOT, FakeClock, Office
from tests.support.stall_proxy import StallProxy

RESIDENTS = 300  # about 5 outbox items each: some 1,600 items, four windows of the sync client
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


@dataclass(slots=True)
class Book:
    """The test's own account of the visit, kept as the residents are served."""

    codes: list[str] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)  # issue to first call, seconds
    services: list[float] = field(default_factory=list)  # last call or recall to Selesai
    recalls: int = 0
    no_shows: int = 0


def serve(config: Config, clock: FakeClock, residents: int) -> Book:
    """Residents through the unit's real kiosk controller and counter agent, offline.

    The kiosk is the controller the kiosk app drives (printer first, issue,
    print) on the simulated printer; the counter is the agent of `antrean
    counter` with a scripted input source pressing its buttons. Recalls and
    no-shows among them.
    """
    book = Book()
    printer = SimPrinter(80)
    printed: queue.Queue[IssueResult] = queue.Queue()
    settings = kiosk_settings(config, "kiosk-1")
    link = DeviceLink(config, "kiosk-1", "kiosk").start()
    kiosk = TicketController(
        link, printer, config.office.name, config.office.timezone,
        {s.code: s.name for s in config.services}, printed.put,
        timeout_s=settings.issue_timeout_s, attempts=settings.issue_attempts, now=clock,
    )  # fmt: skip
    buttons = ScriptedButtons()
    station = CounterStation(config, counter_inputs(config, 1), "counter-1", sources=[buttons])
    station.start()
    try:
        wait_until(lambda: link.queue_online and station.agent.online, 10, "the unit's service")
        issued_at = []
        for _ in range(residents):
            assert kiosk.take("A")
            outcome = printed.get(timeout=10)
            assert isinstance(outcome, Printed), outcome
            book.codes.append(outcome.ticket.code)
            issued_at.append(clock())
            clock.advance(seconds=15)
        for i, code in enumerate(book.codes):
            called = buttons.tap("next")  # Berikutnya
            assert (called.ok, called.ticket) == (True, code), called
            book.waits.append((clock() - issued_at[i]).total_seconds())
            since = clock()
            clock.advance(seconds=20)
            if i % 7 == 3:
                assert buttons.tap("recall").ok  # Panggil ulang
                book.recalls += 1
                since = clock()
                clock.advance(seconds=15)
            if i % 10 == 5:
                assert buttons.tap("no_show").ok  # Tidak hadir
                book.no_shows += 1
                continue
            clock.advance(seconds=50)
            assert buttons.tap("complete").ok  # Selesai
            book.services.append((clock() - since).total_seconds())
    finally:
        station.stop()
        kiosk.close()
        link.stop()
    jobs = printer.complete_jobs()
    assert len(jobs) == residents
    assert all(code.encode() in job.data for code, job in zip(book.codes, jobs, strict=True))
    return book


def spread(values: list[float]) -> tuple[int, float, float, float]:
    """n, nearest-rank median and p90, max: as docs/figures.md defines them."""
    ranked = sorted(values)
    n = len(ranked)
    return n, ranked[math.ceil(0.5 * n) - 1], ranked[math.ceil(0.9 * n) - 1], ranked[-1]


def visit_group(db: Path, tz: Any, day: date) -> dict[str, Any]:
    with contextlib.closing(sqlite3.connect(db)) as c:
        return asdict(period_figures(c, day, day, tz).groups["visit"][VISIT])


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
    # A big posyandu: the unit takes RESIDENTS recordings (the example office's quota is 120).
    text = unit_path.read_text()
    unit_path.write_text(text.replace("daily_quota = 120", f"daily_quota = {RESIDENTS}", 1))
    unit_config = parse_config(unit_path.read_text(), str(unit_path), unit_path.parent)
    unit_clock = FakeClock(clock())
    day = str(clock().date())
    plan = {**MELATI, "day": day, "start": "08:00", "end": "16:00", "id": VISIT}
    office.ok("admin", "visit_plan", **plan)
    unit = Office(unit_config, unit_clock).start()
    try:
        unit.ok("admin", "visit_plan", **plan)  # the unit knows it (it opens by itself now)
        book = serve(unit_config, unit_clock, RESIDENTS)
    finally:
        unit.close()  # served and shut: the sync reads the store, not the unit's service
    head = rows(unit_config.store_path, "SELECT MAX(seq) FROM outbox WHERE visit = ?", VISIT)[0][0]
    assert head > 1500

    log = tmp_path / "sync.log"
    seen_mid_sync: list[int] = []

    def when_moving() -> None:
        """Waits for the office to apply more of the visit: the sync is under way."""
        before = office_acked(office.config)
        wait_until(lambda: office_acked(office.config) > before, 30, "the sync made no progress")
        seen_mid_sync.append(office_acked(office.config))

    proxy.up_bytes_per_s = 80_000  # a poor link: the sync takes seconds, not milliseconds
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
    assert len(unit_calls) == RESIDENTS + book.recalls + book.no_shows
    assert [t[4] for t in office_tickets] == book.codes  # the codes the kiosk printed
    recordings = "SELECT ticket, kelurahan, source FROM progress WHERE ticket LIKE '%/K%'"
    recordings += " ORDER BY ticket"
    assert rows(office.config.store_path, recordings) == rows(unit_config.store_path, recordings)
    # The office's own day is untouched: its queue does not hold the unit's tickets.
    assert office.ok("admin", "snapshot")["services"][0]["waiting"] == 0
    assert office.ok("kiosk-1", "issue", service="A")["ticket"]["code"] == "A001"
    visit = office.ok("admin", "snapshot")["visits"]["visits"][0]
    assert (visit["id"], visit["status"]) == (VISIT, "open")
    # The office's figures for the visit are the test's own book.
    got = visit_group(
        office.config.store_path, office.config.office.timezone, date.fromisoformat(day)
    )
    assert (got["issued"], got["served"], got["no_shows"], got["recalls"]) == (
        RESIDENTS, RESIDENTS - book.no_shows, book.no_shows, book.recalls,
    )  # fmt: skip
    for name, values in (("wait", book.waits), ("service", book.services)):
        figures = got[name]
        assert (figures["n"], figures["median"], figures["p90"], figures["max"]) == spread(values)
        assert figures["mean"] == pytest.approx(sum(values) / len(values))
