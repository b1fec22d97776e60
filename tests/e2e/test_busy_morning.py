"""A busy day at the example office through the real parts, checked against a book of it.

A real Mosquitto and queue service (the `office` fixture), the kiosk's real
TicketController (what a service button's release calls) with the simulated
printer, and four counter stations (counters 1-4) whose GPIO buttons are
gpiozero MockFactory pins. 300 tickets are issued over the four services
(A 100, B 70, C 70, D 60; 27 of them priority) at seeded random times from
09:00 to 14:30 WIB on Thursday 2026-11-26, which keeps them inside the
example office's hours (08:00-15:00) and quotas (A 120, B 80), so the
example config is used as it is (only its counter inputs are GPIO buttons
here). Interleaved with the issuing, each counter's staff press next,
recall, no-show and complete in a seeded random pattern: some residents come
at the first call, some after one or two recalls, some never (a no-show
after one to three recalls, sometimes with a fourth that the limit refuses);
staff press complete before the next call a quarter of the time, else just
next, and press next again a minute or two later when nobody waits. Half an hour after the last
ticket the day is looked at, with some residents still waiting and some at
a counter.

Time is the FakeClock's, set before every step, so every time in the store
is a time the test chose: the book keeps each issue, call, recall, no-show
and completion with its time, and at the end:

- the figures of antrean_tools.report (read from the store, read-only, while the
  service runs), and `antrean report --json`, equal the figures worked out
  from the book, waits included;
- every ticket in the store equals the book's (status, counter, times, recalls);
- the retained state/service/* and state/counter/* agree with the store and
  the book (waiting, issued, last issued, current tickets);
- every ticket came out of the printer whole, with its code, its time, its
  priority mark and its id in the QR code; no number was issued twice and
  none was skipped;
- after midnight WIB (the service's own rollover) those left waiting or at
  a counter are expired, and the figures are still the book's.

No real sleeps: each press waits for its own outcome (the agent's feedback),
each tap for the kiosk's outcome. The buttons' debounce runs on its own
clock that moves one second per edge, as if staff pressed seconds apart.
"""

from __future__ import annotations

import itertools
import json
import math
import queue
import random
import statistics
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory

from antrean.config import Config
from antrean.device import DeviceLink
from antrean.store import StoreReader
from antrean_testing.devbroker import DevBroker
from antrean_tools.cli import main
from antrean_tools.report import CounterFigures, DayFigures, Figures, day_figures
from counter.agent import PressResult
from counter.inputs.gpio import GpioButtons
from counter.settings import counter_inputs
from counter.station import CounterStation
from kiosk.controller import IssueResult, Printed, TicketController
from kiosk.printer.escpos_decode import decode
from kiosk.printer.sim import SimPrinter
from tests.support.counter_helpers import counter_config, wait
from tests.support.helpers import OPEN_MORNING, FakeClock, Office
from tests.support.mqtt_watch import Watcher

SEED = 20261126
DAY = date(2026, 11, 26)
TICKETS = {"A": 100, "B": 70, "C": 70, "D": 60}
PRIORITY = {"A": 10, "B": 7, "C": 6, "D": 4}
ISSUING_S = (0, 5 * 3600 + 1800)  # 09:00 to 14:30 WIB
PINS = {"next": 17, "recall": 27, "no_show": 22, "complete": 23}
# Every counter has its own Pi, so the same pins on each (and a MockFactory each).
# No call guard: the staff's presses are minutes apart on the day's clock but
# milliseconds apart in real time, which the guard (real time) would refuse.
INPUTS = "".join(
    f"\n[counter_inputs.{n}]\nreply_timeout_s = 10\ncall_guard_s = 0\n"
    f"[counter_inputs.{n}.gpio]\nbounce_ms = 50\n"
    + "".join(f"{button} = {pin}\n" for button, pin in PINS.items())
    for n in (1, 2, 3, 4)
)


@pytest.fixture
def config(tmp_path: Path, broker: DevBroker) -> Config:
    # A day's taps in seconds of real time: the test office's devices have no
    # practical rate limit (tests/support/helpers.example_text).
    return counter_config(tmp_path, broker.port, INPUTS)


# ---- the book -------------------------------------------------------------------


@dataclass
class Entry:
    """One ticket as the test saw it happen."""

    code: str
    service: str
    priority: bool
    issued_at: datetime
    status: str = "waiting"
    called_at: datetime | None = None
    finished_at: datetime | None = None
    counter: int | None = None
    recalls: int = 0
    last_call: datetime | None = None  # the last call or recall


@dataclass
class Book:
    entries: dict[str, Entry] = field(default_factory=dict)  # in issue order
    printed: list[str] = field(default_factory=list)
    presses: int = 0

    def waiting(self, services: tuple[str, ...]) -> list[Entry]:
        return [e for e in self.entries.values() if e.status == "waiting" and e.service in services]


def expected_figures(book: Book, counters: list[int]) -> DayFigures:
    """The day's figures worked out from the book alone (definitions: antrean_tools/report.py)."""

    def figures(entries: list[Entry]) -> Figures:
        waits = sorted(span_s(e.issued_at, e.called_at) for e in entries if e.called_at)
        service = [span_s(e.called_at, e.finished_at) for e in entries if e.status == "served"]
        count = [e.status for e in entries].count
        return Figures(
            issued=len(entries),
            priority_issued=sum(e.priority for e in entries),
            served=count("served"),
            no_shows=count("no_show"),
            expired=count("expired"),
            waiting=count("waiting"),
            called=count("called"),
            waits=len(waits),
            mean_wait_s=sum(waits) / len(waits) if waits else None,
            median_wait_s=statistics.median(waits) if waits else None,
            max_wait_s=waits[-1] if waits else None,
            mean_service_s=sum(service) / len(service) if service else None,
        )

    def at_counter(number: int) -> CounterFigures:
        mine = [e for e in book.entries.values() if e.counter == number]
        served = [e for e in mine if e.status == "served"]
        times = [span_s(e.called_at, e.finished_at) for e in served]
        return CounterFigures(
            served=len(served),
            no_shows=sum(e.status == "no_show" for e in mine),
            mean_service_s=sum(times) / len(times) if times else None,
        )

    entries = list(book.entries.values())
    return DayFigures(
        day=DAY,
        services={s: figures([e for e in entries if e.service == s]) for s in TICKETS},
        total=figures(entries),
        counters={n: at_counter(n) for n in counters},
    )


def span_s(start: datetime | None, end: datetime | None) -> float:
    assert start is not None
    assert end is not None
    return (end - start).total_seconds()


# ---- the people -----------------------------------------------------------------


class Desk:
    """One counter: its station with mock GPIO buttons, and its staff's plan of presses."""

    def __init__(self, office: Office, number: int) -> None:
        config = office.config
        settings = counter_inputs(config, number)
        self.number = number
        self.services = next(c.services for c in config.counters if c.number == number)
        self.factory = MockFactory()
        edges = itertools.count(0.0, 1.0)  # the debounce clock: one second per edge
        buttons = GpioButtons(settings.inputs["gpio"], self.factory, clock=lambda: next(edges))
        self.station = CounterStation(config, settings, f"counter-{number}", [buttons])
        self.outcomes: queue.Queue[PressResult] = queue.Queue()
        self.station.agent.feedback.append(self)
        self.plan: deque[tuple[int, str]] = deque()  # (seconds after 09:00, button)
        self.current: str | None = None

    def online(self) -> bool:
        return self.station.agent.online

    def show(self, outcome: PressResult) -> None:  # a feedback sink, beside the journal
        self.outcomes.put(outcome)

    def press(self, button: str) -> PressResult:
        pin = self.factory.pin(PINS[button])
        pin.drive_low()
        pin.drive_high()
        outcome = self.outcomes.get(timeout=15)
        assert outcome.source == "gpio", outcome
        assert self.outcomes.empty(), "one press, one outcome"
        return outcome


class Day:
    """Plays the day: the kiosk's taps and the counters' presses in time order, into the book."""

    def __init__(self, office: Office, clock: FakeClock, kiosk: Kiosk) -> None:
        self.office = office
        self.clock = clock
        self.kiosk = kiosk.controller
        self.kiosk_outcomes = kiosk.outcomes
        self.rng = random.Random(SEED)
        self.book = Book()
        self.desks = [Desk(office, n) for n in (1, 2, 3, 4)]
        self.numbers = dict.fromkeys(TICKETS, 0)
        self.now_s = 0

    def start(self) -> None:
        for desk in self.desks:
            desk.station.start()
            wait(desk.online, 10, f"counter {desk.number} online")
            desk.plan.append((self.rng.randint(60, 300), "next"))

    def stop(self) -> None:
        for desk in self.desks:
            desk.station.stop()

    def issues(self) -> deque[tuple[int, str, bool]]:
        """When each of the 300 residents taps the kiosk, for which service, in which lane."""
        people = [
            (service, i < PRIORITY[service]) for service, n in TICKETS.items() for i in range(n)
        ]
        self.rng.shuffle(people)
        times = sorted(self.rng.randint(*ISSUING_S) for _ in people)
        return deque((t, s, p) for t, (s, p) in zip(times, people, strict=True))

    def run(self) -> None:
        taps = self.issues()
        end = taps[-1][0] + 1800
        while True:
            next_tap = taps[0][0] if taps else end + 1
            desk = min(self.desks, key=lambda d: d.plan[0][0])
            at = min(next_tap, desk.plan[0][0])
            if at > end:
                return
            self.now_s = at
            self.clock.set(OPEN_MORNING + timedelta(seconds=at))
            if next_tap == at:
                _, service, priority = taps.popleft()
                self.tap(service, priority)
            else:
                _, button = desk.plan.popleft()
                self.press(desk, button)

    @property
    def now(self) -> datetime:
        return self.clock()

    # ---- the kiosk ------------------------------------------------------------------

    def tap(self, service: str, priority: bool) -> None:
        assert self.kiosk.take(service, priority)
        outcome = self.kiosk_outcomes.get(timeout=30)
        assert isinstance(outcome, Printed), outcome
        self.numbers[service] += 1
        code = f"{service}{self.numbers[service]:03d}"  # the next number, none skipped
        assert outcome.ticket.code == code
        assert outcome.ticket.issued_at == self.now
        self.book.entries[code] = Entry(code, service, priority, self.now)
        self.book.printed.append(code)

    # ---- the counters ---------------------------------------------------------------

    def press(self, desk: Desk, button: str) -> None:
        book, now = self.book, self.now
        outcome = desk.press(button)
        book.presses += 1
        current = book.entries[desk.current] if desk.current else None
        if button == "recall" and current and current.recalls == 3:
            assert (outcome.ok, outcome.code) == (False, "recall_limit"), outcome
            return
        assert outcome.ok, outcome
        if button == "recall":
            assert current is not None
            assert outcome.ticket == current.code
            current.recalls += 1
            current.last_call = now
            return
        if current:  # next, complete (served) or no_show: the current ticket is done
            current.status = "no_show" if button == "no_show" else "served"
            current.finished_at = now
            finished = outcome.result["finished"] if button == "next" else outcome.result["ticket"]
            assert finished["code"] == current.code
            desk.current = None
        if button != "next":
            desk.plan.append((self.now_s + self.rng.randint(20, 90), "next"))
            return
        called = outcome.result["ticket"]
        if called is None:
            assert not book.waiting(desk.services), "call_next found nobody while some waited"
            desk.plan.append((self.now_s + self.rng.randint(60, 180), "next"))
            return
        entry = book.entries[called["code"]]
        assert entry in book.waiting(desk.services), f"{entry.code} was not waiting for {desk}"
        entry.status, entry.called_at, entry.counter = "called", now, desk.number
        entry.last_call = now
        desk.current = entry.code
        self.plan_resident(desk)

    def plan_resident(self, desk: Desk) -> None:
        """What the called resident does, and so what the staff press, and when."""
        rng, t = self.rng, self.now_s
        if rng.random() < 0.12:  # never comes
            recalls = rng.randint(1, 3)
            for _ in range(recalls):
                t += rng.randint(40, 90)
                desk.plan.append((t, "recall"))
            if recalls == 3 and rng.random() < 0.5:  # one recall too many: refused
                t += rng.randint(20, 40)
                desk.plan.append((t, "recall"))
            desk.plan.append((t + rng.randint(30, 60), "no_show"))
            return
        for _ in range(rng.choices((0, 1, 2), (70, 20, 10))[0]):
            t += rng.randint(30, 60)
            desk.plan.append((t, "recall"))
        finish = "complete" if rng.random() < 0.25 else "next"
        desk.plan.append((t + rng.randint(90, 420), finish))


# ---- the test ------------------------------------------------------------------


@dataclass
class Kiosk:
    controller: TicketController
    printer: SimPrinter
    outcomes: queue.Queue[IssueResult]  # what the screen would show, one per tap


@pytest.fixture
def kiosk(office: Office, clock: FakeClock) -> Iterator[Kiosk]:
    config = office.config
    link = DeviceLink(config, "kiosk-1", "kiosk").start()
    wait(lambda: link.queue_online, 10, "the kiosk online")
    printer = SimPrinter(80)  # no previews: the bytes are kept in printer.jobs
    outcomes: queue.Queue[IssueResult] = queue.Queue()
    controller = TicketController(
        link,
        printer,
        config.office.name,
        config.office.timezone,
        {s.code: s.name for s in config.services},
        outcomes.put,
        timeout_s=10,
        now=clock,
    )
    yield Kiosk(controller, printer, outcomes)
    controller.close()
    link.stop()


def test_a_busy_morning_adds_up(
    office: Office,
    clock: FakeClock,
    kiosk: Kiosk,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    day = Day(office, clock, kiosk)
    day.start()
    try:
        day.run()
    finally:
        day.stop()
    book = day.book
    config = office.config
    assert len(book.entries) == 300

    # The day really was busy: every kind of press happened, and it ended mid-way.
    statuses = [e.status for e in book.entries.values()]
    assert {"served", "no_show", "called", "waiting"} <= set(statuses), statuses
    assert any(e.recalls for e in book.entries.values())

    # The figures from the store, read while the service runs, are the book's.
    reader = StoreReader(config.store_path)
    try:
        stored = {t.code: t for t in reader.tickets_of_day(DAY)}
        figures = day_figures(reader, DAY, list(TICKETS), [1, 2, 3, 4])
    finally:
        reader.close()
    assert figures == expected_figures(book, [1, 2, 3, 4])
    assert figures.total.issued == 300
    assert figures.total.priority_issued == sum(PRIORITY.values())
    # And `antrean report` prints the same, also while the service runs.
    office_file = tmp_path / "antrean.toml"  # its store is var/antrean.db beside it
    office_file.write_text(config.text, encoding="utf-8")
    capsys.readouterr()
    assert main(["report", "--config", str(office_file), "--day", str(DAY), "--json"]) == 0
    check_report(json.loads(capsys.readouterr().out), book)

    # Every ticket in the store is the book's, and in the same issue order.
    assert list(stored) == list(book.entries)
    for code, entry in book.entries.items():
        t = stored[code]
        seen = (t.service, t.priority, t.status.value, t.issued_at, t.called_at, t.finished_at)
        assert seen == (
            entry.service,
            entry.priority,
            entry.status,
            entry.issued_at,
            entry.called_at,
            entry.finished_at,
        ), code
        assert (t.counter, t.recalls) == (entry.counter, entry.recalls), code

    # No number issued twice, none skipped, each printed once in the order issued.
    for service, n in TICKETS.items():
        codes = [c for c in book.entries if c.startswith(service)]
        assert codes == [f"{service}{i:03d}" for i in range(1, n + 1)]
    assert book.printed == list(book.entries)
    check_printed_tickets(kiosk.printer, book, config)

    # The retained state agrees with the store and the book.
    check_retained_state(office, book, stored)

    # At midnight WIB whoever is left expires; the day's waits stay as they were.
    left = figures.total.waiting + figures.total.called
    watch = Watcher(config.broker, f"antrean/v1/{config.office.id}/state/office", "night")
    watch.start()
    try:
        clock.set(datetime(2026, 11, 26, 17, 0, 1, tzinfo=UTC))
        watch.wait_for(lambda _t, body: body["day"] == "2026-11-27", 10)
    finally:
        watch.stop()
    for entry in book.entries.values():
        if entry.status in ("waiting", "called"):
            entry.status = "expired"
    reader = StoreReader(config.store_path)
    try:
        after = day_figures(reader, DAY, list(TICKETS), [1, 2, 3, 4])
    finally:
        reader.close()
    assert after == expected_figures(book, [1, 2, 3, 4])
    assert (after.total.expired, after.total.waiting, after.total.called) == (left, 0, 0)
    assert after.total.mean_wait_s == figures.total.mean_wait_s


def nearest_rank(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[max(math.ceil(p / 100 * len(ordered)), 1) - 1]


def check_report(report: dict[str, Any], book: Book) -> None:
    """`antrean report --json` against the book: waits to the first call (every ticket
    here is called once), service from the last call or recall; nearest-rank percentiles."""
    for service in (*TICKETS, ""):
        mine = [e for e in book.entries.values() if e.service == service or not service]
        figures = report["groups"]["service" if service else "total"][service]
        waits = [span_s(e.issued_at, e.called_at) for e in mine if e.called_at]
        served = [span_s(e.last_call, e.finished_at) for e in mine if e.status == "served"]
        assert figures["issued"] == len(mine)
        assert figures["recalls"] == sum(e.recalls for e in mine)
        assert figures["no_shows"] == sum(e.status == "no_show" for e in mine)
        for name, values in (("wait", waits), ("service", served)):
            got = figures[name]
            assert got["n"] == len(values), (service, name)
            assert got["median"] == nearest_rank(values, 50), (service, name)
            assert got["p90"] == nearest_rank(values, 90), (service, name)
            assert got["max"] == max(values), (service, name)


def check_printed_tickets(printer: SimPrinter, book: Book, config: Config) -> None:
    jobs = printer.jobs
    assert len(jobs) == 300
    assert all(job.complete for job in jobs)
    for job, code in zip(jobs, book.printed, strict=True):
        entry = book.entries[code]
        printed = decode(job.data)
        local = entry.issued_at.astimezone(config.office.timezone)
        assert code in printed.lines, printed.lines
        assert f"Pukul {local:%H.%M} WIB" in printed.lines
        assert (" PRIORITAS " in printed.lines) == entry.priority
        assert printed.qr_codes == [f"{DAY}/{code}"]
        assert printed.cut
        assert not printed.unknown


def check_retained_state(office: Office, book: Book, stored: dict[str, Any]) -> None:
    root = f"antrean/v1/{office.config.office.id}"
    seq = office.ok("admin", "snapshot")["office"]["seq"]
    watch = Watcher(office.config.broker, f"{root}/state/#", "busy-day").start()
    try:
        # state/office goes out last in a batch: once it has the last seq, the rest is there.
        watch.wait_for(lambda t, body: t == f"{root}/state/office" and body["seq"] == seq, 10)
        for service, issued in TICKETS.items():
            state = watch.latest(f"{root}/state/service/{service}")
            assert state is not None
            mine = [t for t in stored.values() if t.service == service]
            waiting = [t for t in mine if t.status.value == "waiting"]
            assert state["waiting"] == len(waiting) == len(book.waiting((service,)))
            assert state["waiting_priority"] == sum(t.priority for t in waiting)
            assert state["issued"] == len(mine) == issued
            assert state["last_issued"] == f"{service}{issued:03d}"
        for desk_number in (1, 2, 3, 4):
            state = watch.latest(f"{root}/state/counter/{desk_number}")
            assert state is not None
            at_desk = [
                t.code
                for t in stored.values()
                if t.status.value == "called" and t.counter == desk_number
            ]
            booked = [
                e.code
                for e in book.entries.values()
                if e.status == "called" and e.counter == desk_number
            ]
            current = [state["current"]["code"]] if state["current"] else []
            assert current == at_desk == booked
    finally:
        watch.stop()
