"""A month at the example office through the real queue service, checked against a book.

A real Mosquitto and queue service (real SQLite store); the kiosk and the
counters are the office's own devices sending commands over MQTT. Sixteen
business days of November 2026, each with seeded random issues, calls,
recalls, no-shows (some requeued and called again), transfers, completions
with a kelurahan (the console) or without one (buttons), and some residents
left waiting at the end of the day (expired at the service's own rollover).
The printing service counts blank cards: a delivery starts the month.

The book keeps what the test did and when (the FakeClock, whole seconds),
and `antrean report --month 2026-11 --json` must equal the figures worked
out from the book alone: counts, waits to the first call and service times
from the last call or recall, median and p90 (nearest rank) included, per
service, counter, hour and day; blank cards; the drive's progress.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from antrean.config import Config
from antrean_testing.devbroker import DevBroker
from antrean_tools.cli import main
from tests.support.helpers import FakeClock, Office, example_config

SEED = 202611
WIB = timedelta(hours=7)
DAYS = [date(2026, 11, d) for d in (2, 3, 4, 5, 9, 10, 11, 12, 16, 17, 18, 19, 23, 24, 25, 26)]
KELURAHAN = ["Bendan Duwur", "Bendan Ngisor", "Petompon", "Sampangan"]
DELIVERY = 500


@pytest.fixture
def config(tmp_path: Path, broker: DevBroker) -> Config:
    return example_config(tmp_path, broker.port, cards=True)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 2, 0, 30, tzinfo=UTC))  # 07:30 WIB, the first day


@dataclass
class Entry:
    """One ticket as the test made it happen."""

    code: str
    day: date
    issued_for: str
    service: str
    priority: bool
    issued_at: datetime
    status: str = "waiting"
    counter: int | None = None
    first_call: datetime | None = None
    last_call: datetime | None = None  # the last call or recall
    finished_at: datetime | None = None
    calls: int = 0
    recalls: int = 0
    no_show_marks: int = 0
    requeues: int = 0
    transfers: int = 0
    recalls_now: int = 0  # since the latest call (the recall limit)


@dataclass
class Book:
    entries: list[Entry] = field(default_factory=list)
    current: dict[int, Entry] = field(default_factory=dict)  # counter -> its ticket
    recorded: list[tuple[date, str | None]] = field(default_factory=list)  # (day, kelurahan)
    cards_used: int = 0
    spoiled: int = 0


class Month:
    """Plays the month through the office's devices, into the book."""

    def __init__(self, office: Office, clock: FakeClock) -> None:
        self.office, self.clock = office, clock
        self.rng = random.Random(SEED)
        self.book = Book()
        self.counters = {c.number: c.services for c in office.config.counters}

    def at(self, day: date, seconds: int) -> None:
        local = datetime.combine(day, datetime.min.time()) + timedelta(hours=8, seconds=seconds)
        self.clock.set((local - WIB).replace(tzinfo=UTC))

    def ok(self, device: str, action: str, **args: Any) -> dict[str, Any]:
        return self.office.ok(device, action, **args)

    def run(self) -> None:
        for day in DAYS:
            self.play_day(day)
        # The day after the last one: the service's rollover expires what was left.
        self.at(DAYS[-1] + timedelta(days=1), 0)
        self.ok("admin", "snapshot")
        self.expire_left()

    def expire_left(self) -> None:
        for e in self.book.entries:
            if e.status in ("waiting", "called"):
                e.status = "expired"
        self.book.current.clear()

    def play_day(self, day: date) -> None:
        rng, book, now = self.rng, self.book, 0
        self.at(day, now)
        self.ok("admin", "snapshot")  # the rollover to this day
        self.expire_left()
        for _ in range(rng.randint(18, 30)):
            now += rng.randint(20, 200)
            self.at(day, now)
            service = rng.choice("AABBCD")
            priority = rng.random() < 0.1
            t = self.ok("kiosk-1", "issue", service=service, priority=priority)["ticket"]
            book.entries.append(Entry(t["code"], day, service, service, priority, self.clock()))
            for _ in range(rng.randint(0, 3)):
                now += rng.randint(10, 150)
                self.at(day, now)
                self.counter_step(day, rng.choice(list(self.counters)))

    def counter_step(self, day: date, number: int) -> None:
        rng, book, now = self.rng, self.book, self.clock()
        device = f"counter-{number}"
        current = book.current.get(number)
        if current is None:
            if rng.random() < 0.1:
                self.requeue_one(day)
            return self.call_next(device, number)
        roll = rng.random()
        if roll < 0.15 and current.recalls_now < 3:
            self.ok(device, "recall")
            current.recalls += 1
            current.recalls_now += 1
            current.last_call = now
        elif roll < 0.27:
            self.ok(device, "no_show")
            current.status, current.finished_at = "no_show", now
            current.no_show_marks += 1
            del book.current[number]
        elif roll < 0.33:
            others = [s for s in "ABCD" if s != current.service]
            target = rng.choice(others)
            self.ok(device, "transfer", service=target)
            current.service, current.status, current.counter = target, "waiting", None
            current.transfers += 1
            del book.current[number]
        elif roll < 0.63:
            args: dict[str, Any] = {}
            if current.service == "A" and rng.random() < 0.7:
                args["kelurahan"] = rng.choice(KELURAHAN)
            self.ok(device, "complete", **args)
            self.served(current, now, args.get("kelurahan"))
            del book.current[number]
        else:
            self.call_next(device, number)
        return None

    def served(self, e: Entry, now: datetime, kelurahan: str | None) -> None:
        e.status, e.finished_at = "served", now
        if e.service == "A":
            self.book.recorded.append((e.day, kelurahan))
        if e.service == "B":
            self.book.cards_used += 1

    def call_next(self, device: str, number: int) -> None:
        book, now = self.book, self.clock()
        result = self.ok(device, "call_next")
        if (done := book.current.pop(number, None)) is not None:
            assert result["finished"]["code"] == done.code
            self.served(done, now, None)
        if result["ticket"] is None:
            return
        e = next(
            x for x in book.entries if x.day == now_day(now) and x.code == result["ticket"]["code"]
        )
        assert e.status == "waiting"
        e.status, e.counter, e.calls, e.recalls_now = "called", number, e.calls + 1, 0
        e.first_call = e.first_call or now
        e.last_call = now
        book.current[number] = e

    def requeue_one(self, day: date) -> None:
        skipped = [e for e in self.book.entries if e.day == day and e.status == "no_show"]
        if skipped:
            e = self.rng.choice(skipped)
            self.ok("admin", "requeue", code=e.code)
            e.status, e.counter, e.finished_at, e.requeues = "waiting", None, None, e.requeues + 1


def now_day(now: datetime) -> date:
    return (now + WIB).date()


# ---- the figures from the book alone -----------------------------------------------


def nearest_rank(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[max(math.ceil(p / 100 * len(ordered)), 1) - 1]


def spread(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0, "median": None, "p90": None, "mean": None, "max": None}
    return {
        "n": len(values),
        "median": nearest_rank(values, 50),
        "p90": nearest_rank(values, 90),
        "mean": pytest.approx(sum(values) / len(values)),
        "max": max(values),
    }


def group(entries: list[Entry], issued: list[Entry] | None = None) -> dict[str, Any]:
    issued = entries if issued is None else issued
    count = [e.status for e in entries].count
    waits = [(e.first_call - e.issued_at).total_seconds() for e in entries if e.first_call]
    services = [
        (e.finished_at - e.last_call).total_seconds()
        for e in entries
        if e.status == "served" and e.finished_at and e.last_call
    ]
    return {
        "issued": len(issued),
        "priority": sum(e.priority for e in issued),
        "served": count("served"),
        "no_shows": count("no_show"),
        "cancelled": 0,
        "expired": count("expired"),
        "open": count("waiting") + count("called"),
        "calls": sum(e.calls for e in entries),
        "recalls": sum(e.recalls for e in entries),
        "no_show_marks": sum(e.no_show_marks for e in entries),
        "no_shows_undone": sum(e.no_show_marks - (e.status == "no_show") for e in entries),
        "requeues": sum(e.requeues for e in entries),
        "transfers": sum(e.transfers for e in entries),
        "wait": spread(waits),
        "service": spread(services),
    }


def expected_groups(book: Book) -> dict[str, dict[str, Any]]:
    es = book.entries
    hour = {id(e): str((e.issued_at + WIB).hour) for e in es}
    return {
        "total": {"": group(es)},
        "service": {
            s: group([e for e in es if e.service == s], [e for e in es if e.issued_for == s])
            for s in "ABCD"
        },
        "counter": {str(n): group([e for e in es if e.counter == n]) for n in (1, 2, 3, 4)},
        "hour": {
            h: group([e for e in es if hour[id(e)] == h])
            for h in sorted(set(hour.values()), key=int)
        },
        "day": {str(d): group([e for e in es if e.day == d]) for d in DAYS},
    }


def test_a_month_of_figures_equals_the_book(
    office: Office, clock: FakeClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    month = Month(office, clock)
    month.at(DAYS[0], -1800)
    month.ok("admin", "stock_receive", count=DELIVERY, note="SJ-2026/11/001", user="Sri")
    month.run()
    book = month.book
    # The month was busy in every way the figures count.
    assert len(book.entries) > 300
    for kind in ("recalls", "no_show_marks", "requeues", "transfers"):
        assert sum(getattr(e, kind) for e in book.entries) > 5, kind
    assert any(e.no_show_marks > e.status.count("no_show") for e in book.entries)

    office_file = tmp_path / "antrean.toml"
    office_file.write_text(office.config.text, encoding="utf-8")
    capsys.readouterr()
    assert main(["report", "--config", str(office_file), "--month", "2026-11", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["start"], report["end"]) == ("2026-11-01", "2026-11-30")
    expected = expected_groups(book)
    for dim, groups in expected.items():
        assert list(report["groups"][dim]) == list(groups), dim
        for key, figures in groups.items():
            assert report["groups"][dim][key] == figures, (dim, key)

    # Busiest hours: tickets issued per day and office-local hour.
    table: dict[str, dict[str, int]] = {}
    for e in book.entries:
        row = table.setdefault(str(e.day), {})
        row[str((e.issued_at + WIB).hour)] = row.get(str((e.issued_at + WIB).hour), 0) + 1
    assert report["day_hour"] == table

    # Blank cards: the delivery, one card per served printing ticket.
    stock = report["stock"]
    assert (stock["received"], stock["used"], stock["spoiled"]) == (DELIVERY, book.cards_used, 0)
    assert stock["balance_end"] == DELIVERY - book.cards_used
    assert stock["entries"] == [
        {
            "day": "2026-11-02",
            "kind": "delivery",
            "count": DELIVERY,
            "note": "SJ-2026/11/001",
            "who": "admin/Sri",
        }
    ]

    # The drive: recordings per kelurahan as chosen on the console; the rest unknown.
    drive = report["progress"]
    last = date(2026, 11, 30)  # "today" is the period's last day
    targets = office.config.drive.targets
    for name, target in targets.items():
        mine = [d for d, k in book.recorded if k == name]
        row = drive["kelurahan"][name]
        assert row["target"] == target
        assert row["since_start"] == row["month"] == row["period"] == len(mine)
        assert row["today"] == sum(d == last for d in mine)
        assert row["remaining"] == max(target - len(mine), 0)
        recent = sum(d > last - timedelta(days=28) for d in mine)
        assert row["per_week"] == round(recent * 7 / 28, 1)
    unknown = [d for d, k in book.recorded if k is None]
    assert drive["kelurahan"]["unknown"]["since_start"] == len(unknown)
    assert drive["kecamatan"]["since_start"] == len(book.recorded)
    assert drive["kecamatan"]["remaining"] == sum(targets.values()) - len(book.recorded)
    assert drive["sources"] == {
        "console": len(book.recorded) - len(unknown),
        "unknown": len(unknown),
    }
