"""A month at the example office through the real queue service, checked against a book.

A real Mosquitto and queue service (real SQLite store); the kiosk and the
counters are the office's own devices sending commands over MQTT. Sixteen
business days of November 2026, each with seeded random issues, calls,
recalls, no-shows (some requeued and called again), transfers, completions
with a kelurahan (the console) or without one (buttons), and some residents
left waiting at the end of the day (expired at the service's own rollover).
The printing service counts blank cards: a delivery starts the month.
Each Monday the office imports the week's bookings (`antrean booking
import`, the real CLI); most residents redeem their code at the kiosk, some
never come, one a week is cancelled. A mobile unit (its own Mosquitto and
queue service) serves a posyandu on a Saturday and syncs home through the
real sync client (antrean.unitsync) into the office's store.

The book keeps what the test did and when (the FakeClock, whole seconds),
and `antrean report --month 2026-11 --json` must equal the figures worked
out from the book alone: counts, waits to the first call and service times
from the last call or recall, median and p90 (nearest rank) included, per
service, counter, hour, day, booked and walk-in, visit, and visit and
service; the bookings that never came; blank cards; the drive's progress
with where each recording's kelurahan came from (booking, visit, console,
unknown).
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from antrean.config import Config, load_config, parse_config
from antrean.hours import business_day
from antrean.unitsync import UnitSync
from antrean_testing.devbroker import DevBroker
from antrean_tools.cli import main
from antrean_tools.figures import BOOKING_COUNTS
from antrean_tools.report_cli import SOURCES, duration
from tests.support.helpers import FakeClock, Office, example_text

SEED = 202611
WIB = timedelta(hours=7)
DAYS = [date(2026, 11, d) for d in (2, 3, 4, 5, 9, 10, 11, 12, 16, 17, 18, 19, 23, 24, 25, 26)]
KELURAHAN = ["Bendan Duwur", "Bendan Ngisor", "Petompon", "Sampangan"]
DELIVERY = 500
BOOKING = '[booking]\nsecret_file = "booking.secret"\ncapacity = { A = 4, B = 4 }\n\n'
MOBILE = '[mobile]\nunits = { "keliling-1" = "K" }\n\n'
BOOKED_PER_DAY = "AAAB"  # all in the 08:00 slot (4 a slot), redeemed from 08:00
HEADER = "nama;nik;no_hp;kelurahan;layanan;tanggal\n"
VISIT = "posyandu-melati"
VISIT_DAY = date(2026, 11, 21)  # a Saturday: the office is closed, the unit goes out
PLAN = {
    "id": VISIT, "unit": "keliling-1", "day": str(VISIT_DAY), "start": "08:00", "end": "13:00",
    "place": "Melati", "kind": "posyandu", "kelurahan": "Petompon", "expected": 40,
}  # fmt: skip


@pytest.fixture
def config(tmp_path: Path, broker: DevBroker) -> Config:
    edit = {"[kiosk]\n": BOOKING + MOBILE + "[kiosk]\n"}
    path = tmp_path / "antrean.toml"
    path.write_text(example_text(broker.port, edit=edit, cards=True), encoding="utf-8")
    return load_config(path)


@pytest.fixture
def unit_broker() -> Iterator[DevBroker]:
    with DevBroker() as b:
        yield b


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
    booked_for: str | None = None  # a redeemed booking's kelurahan


@dataclass
class Booked:
    """One booking as the test imported it, and what became of it."""

    code: str
    day: date
    service: str
    kelurahan: str
    status: str = "booked"


@dataclass
class Book:
    entries: list[Entry] = field(default_factory=list)
    current: dict[int, Entry] = field(default_factory=dict)  # counter -> its ticket
    # (day, kelurahan, where the kelurahan came from)
    recorded: list[tuple[date, str | None, str]] = field(default_factory=list)
    bookings: list[Booked] = field(default_factory=list)
    cards_used: int = 0
    spoiled: int = 0


def nik(serial: int) -> str:
    """A possible NIK of Kota Semarang (3374), born 12 May 1990."""
    return f"3374011205 90{serial:04d}".replace(" ", "")


class Month:
    """Plays the month through the office's devices, into the book."""

    def __init__(
        self,
        office: Office,
        clock: FakeClock,
        seed: int = SEED,
        visit_kelurahan: str = "",
        services: str = "AABBCD",
    ) -> None:
        self.office, self.clock = office, clock
        self.rng = random.Random(seed)
        self.book = Book()
        self.counters = {c.number: c.services for c in office.config.counters}
        self.visit_kelurahan = visit_kelurahan  # a unit's: every recording counts for its visit
        self.residents = 0
        self.services = services  # drawn from for each walk-in

    def at(self, day: date, seconds: int) -> None:
        local = datetime.combine(day, datetime.min.time()) + timedelta(hours=8, seconds=seconds)
        self.clock.set((local - WIB).replace(tzinfo=UTC))

    def ok(self, device: str, action: str, **args: Any) -> dict[str, Any]:
        return self.office.ok(device, action, **args)

    def run(self) -> None:
        for day in DAYS:
            if day.weekday() == 0:
                self.book_week([d for d in DAYS if d.isocalendar()[1] == day.isocalendar()[1]])
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

    def book_week(self, days: list[date]) -> None:
        """Monday 07:00: the week's bookings through `antrean booking import`; one cancelled."""
        self.at(days[0], -3600)
        rows, plan = [], []
        for day in days:
            for service in BOOKED_PER_DAY:
                self.residents += 1
                kelurahan = self.rng.choice(KELURAHAN)
                name = f"Warga {self.residents}"
                rows.append(f"{name};{nik(self.residents)};;{kelurahan};{service};{day}")
                plan.append((day, service, kelurahan))
        listing = Path(self.office.config.source).with_name(f"booking-{days[0]}.csv")
        listing.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
        codes = listing.with_suffix(".kode.csv")
        args = ["booking", "import", "--config", self.office.config.source, str(listing)]
        assert main([*args, "--codes", str(codes)]) == 0
        lines = codes.read_text(encoding="utf-8").splitlines()[1:]
        assert len(lines) == len(plan)
        for line in lines:
            fields = line.split(",")
            assert fields[-2] == "08:00", line
            day, service, kelurahan = plan[int(fields[0]) - 2]
            self.book.bookings.append(Booked(fields[-1], day, service, kelurahan))
        gone = self.rng.choice([b for b in self.book.bookings if b.day in days])
        self.ok("admin", "cancel_booking", code=gone.code)
        gone.status = "cancelled"

    def play_day(self, day: date) -> int:
        rng, book, now = self.rng, self.book, 0
        self.at(day, now)
        self.ok("admin", "snapshot")  # the rollover to this day
        self.expire_left()
        for b in [b for b in book.bookings if b.day == day and b.status == "booked"]:
            if rng.random() < 0.25:
                continue  # never came
            now += rng.randint(1, 30)
            self.at(day, now)
            t = self.ok("kiosk-1", "redeem", code=b.code)["ticket"]
            assert t["booked"]
            b.status = "redeemed"
            entry = Entry(t["code"], day, b.service, b.service, False, self.clock())
            entry.booked_for = b.kelurahan
            book.entries.append(entry)
        for _ in range(rng.randint(18, 30)):
            now += rng.randint(20, 200)
            self.at(day, now)
            service = rng.choice(self.services)
            priority = rng.random() < 0.1
            t = self.ok("kiosk-1", "issue", service=service, priority=priority)["ticket"]
            book.entries.append(Entry(t["code"], day, service, service, priority, self.clock()))
            for _ in range(rng.randint(0, 3)):
                now += rng.randint(10, 150)
                self.at(day, now)
                self.counter_step(day, rng.choice(list(self.counters)))
        return now

    def work_on(self, day: date, now: int, steps: int) -> None:
        """The counters go on after the last issue (a visit serves who came)."""
        for _ in range(steps):
            now += self.rng.randint(10, 150)
            self.at(day, now)
            self.counter_step(day, self.rng.choice(list(self.counters)))

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
        if e.service == "A":  # booking first, then the visit, then the console (antrean.progress)
            if e.booked_for:
                self.book.recorded.append((e.day, e.booked_for, "booking"))
            elif self.visit_kelurahan:
                self.book.recorded.append((e.day, self.visit_kelurahan, "visit"))
            elif kelurahan:
                self.book.recorded.append((e.day, kelurahan, "console"))
            else:
                self.book.recorded.append((e.day, None, "unknown"))
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


def by_service(entries: list[Entry], prefix: str = "") -> dict[str, dict[str, Any]]:
    """Every figure under the service a ticket ended in, `issued` under the one it was for."""
    codes = sorted({e.service for e in entries} | {e.issued_for for e in entries})
    return {
        prefix + s: group(
            [e for e in entries if e.service == s], [e for e in entries if e.issued_for == s]
        )
        for s in codes
    }


def expected_bookings(bookings: list[Booked], today: date) -> dict[str, Any]:
    def tally(bs: list[Booked]) -> dict[str, int]:
        out = dict.fromkeys(BOOKING_COUNTS, 0)
        for b in bs:
            if b.status == "cancelled":
                out["cancelled"] += 1
                continue
            out["booked"] += 1
            gone = "not_came" if b.day < today else "pending"
            out["redeemed" if b.status == "redeemed" else gone] += 1
        return out

    return {
        "total": tally(bookings),
        "service": {s: tally([b for b in bookings if b.service == s]) for s in "AB"},
        "kelurahan": {
            k: tally([b for b in bookings if b.kelurahan == k])
            for k in sorted({b.kelurahan for b in bookings})
        },
    }


def expected_groups(book: Book) -> dict[str, dict[str, Any]]:
    es = book.entries
    hour = {id(e): str((e.issued_at + WIB).hour) for e in es}
    return {
        "booking": {
            "booked": group([e for e in es if e.booked_for]),
            "walk_in": group([e for e in es if not e.booked_for]),
        },
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


def unit_config(tmp_path: Path, unit_port: int, home_port: int) -> Config:
    """The mobile unit: the example office on its own broker, prefix K, syncing home."""
    text = example_text(unit_port, hours=False) + (
        f'\n[unit]\nid = "keliling-1"\nprefix = "K"\nhome_host = "127.0.0.1"\n'
        f"home_port = {home_port}\n"
    )
    folder = tmp_path / "unit"
    folder.mkdir()
    return parse_config(text, str(folder / "unit.toml"), folder)


def go_on_a_visit(office: Office, unit_broker: DevBroker, tmp_path: Path) -> Book:
    """The unit serves the posyandu on its own queue service, then syncs home (the real client)."""
    config = unit_config(tmp_path, unit_broker.port, office.config.broker.port)
    clock = FakeClock(datetime.combine(VISIT_DAY, datetime.min.time(), UTC))  # 07:00 WIB
    unit = Office(config, clock).start()
    try:
        unit.ok("admin", "visit_plan", **PLAN)
        unit.ok("admin", "visit_open", id=VISIT)
        trip = Month(unit, clock, SEED + 2, PLAN["kelurahan"], services="AAAAB")  # mostly recording
        trip.work_on(VISIT_DAY, trip.play_day(VISIT_DAY), 15)  # what is left stays open
    finally:
        unit.close()  # the sync reads the unit's store, not its service
    with sqlite3.connect(config.store_path) as db:
        head = db.execute("SELECT MAX(seq) FROM outbox WHERE visit = ?", (VISIT,)).fetchone()[0]
    sync = UnitSync(config, clock).start()
    try:
        deadline = time.monotonic() + 30
        while office_acked(office.config) < head:
            assert time.monotonic() < deadline, "the visit did not reach the office"
            time.sleep(0.05)
    finally:
        sync.stop()
    return trip.book


def office_acked(config: Config) -> int:
    with sqlite3.connect(config.store_path) as db:
        row = db.execute("SELECT acked FROM sync_acks WHERE visit = ?", (VISIT,)).fetchone()
    return int(row[0]) if row else 0


def test_a_month_of_figures_equals_the_book(
    office: Office,
    clock: FakeClock,
    unit_broker: DevBroker,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    month = Month(office, clock)
    month.at(DAYS[0], -1800)
    month.ok("admin", "stock_receive", count=DELIVERY, note="SJ-2026/11/001", user="Sri")
    month.ok("admin", "visit_plan", **PLAN)
    month.run()
    book = month.book
    trip = go_on_a_visit(office, unit_broker, tmp_path)
    # The month was busy in every way the figures count.
    assert len(book.entries) > 300
    for kind in ("recalls", "no_show_marks", "requeues", "transfers"):
        assert sum(getattr(e, kind) for e in book.entries) > 5, kind
    assert any(e.no_show_marks > e.status.count("no_show") for e in book.entries)
    statuses = Counter(b.status for b in book.bookings)
    assert statuses["redeemed"] > 20
    assert statuses["booked"] > 5
    assert statuses["cancelled"] == 4
    assert len(trip.entries) > 15
    assert {e.status for e in trip.entries} >= {"served", "no_show"}

    capsys.readouterr()
    assert main(["report", "--config", office.config.source, "--month", "2026-11", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["start"], report["end"]) == ("2026-11-01", "2026-11-30")
    expected = expected_groups(book)  # the office's own queue: the unit's tickets stay out
    expected["visit"] = {VISIT: group(trip.entries)}
    expected["visit_service"] = by_service(trip.entries, f"{VISIT}/")
    for dim, groups in expected.items():
        assert list(report["groups"][dim]) == list(groups), dim
        for key, figures in groups.items():
            assert report["groups"][dim][key] == figures, (dim, key)
    assert report["visits"] == {
        VISIT: {
            "day": str(VISIT_DAY), "unit": "keliling-1", "place": "Posyandu Melati",
            "kelurahan": "Petompon", "expected": 40, "status": "open",
        }
    }  # fmt: skip

    # Bookings of the month: redeemed, never came (their day is over), cancelled.
    today = business_day(datetime.now(UTC), office.config.office.timezone)
    assert report["bookings"] == expected_bookings(book.bookings, today)
    redeemed = report["bookings"]["total"]["redeemed"]
    assert redeemed == report["groups"]["booking"]["booked"]["issued"]

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

    # The drive: from the booking, the visit, the console; the rest unknown.
    recorded = book.recorded + trip.recorded
    sources = Counter(source for _d, _k, source in recorded)
    assert all(sources[s] > 3 for s in ("booking", "visit", "console", "unknown")), sources
    drive = report["progress"]
    last = date(2026, 11, 30)  # "today" is the period's last day
    targets = office.config.drive.targets
    for name, target in targets.items():
        mine = [d for d, k, _s in recorded if k == name]
        row = drive["kelurahan"][name]
        assert row["target"] == target
        assert row["since_start"] == row["month"] == row["period"] == len(mine)
        assert row["today"] == sum(d == last for d in mine)
        assert row["remaining"] == max(target - len(mine), 0)
        recent = sum(d > last - timedelta(days=28) for d in mine)
        assert row["per_week"] == round(recent * 7 / 28, 1)
        assert row["period_by_source"] == Counter(s for _d, k, s in recorded if k == name)
    unknown = [d for d, k, _s in recorded if k is None]
    assert drive["kelurahan"]["unknown"]["since_start"] == len(unknown)
    assert drive["kelurahan"]["unknown"]["period_by_source"] == {"unknown": len(unknown)}
    assert drive["kecamatan"]["since_start"] == len(recorded)
    assert drive["kecamatan"]["remaining"] == sum(targets.values()) - len(recorded)
    assert drive["sources"] == drive["kecamatan"]["period_by_source"] == dict(sources)

    same_in_every_format(office.config.source, report, capsys)


def output(config: str, form: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    assert main(["report", "--config", config, "--month", "2026-11", *form]) == 0
    return capsys.readouterr().out


def csv_cell(value: Any) -> str:
    return "" if value is None else str(value)


def same_in_every_format(
    config: str, report: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """The new figures of the JSON again in the CSV, the terminal's table and the HTML page."""
    tables = {
        t.split(",", 1)[0]: list(csv.DictReader(io.StringIO(t)))
        for t in output(config, ["--csv"], capsys).split("\n\n")
    }
    groups = {(r.pop("dimension"), r.pop("key")): r for r in tables["dimension"]}
    for dim in ("booking", "visit", "visit_service"):
        for key, g in report["groups"][dim].items():
            flat = {k: csv_cell(v) for k, v in g.items() if k not in ("wait", "service")}
            for name in ("wait", "service"):
                flat.update({f"{name}_{k}": csv_cell(v) for k, v in g[name].items()})
            assert groups[(dim, key)] == flat, (dim, key)
    bookings = {(r.pop("bookings"), r.pop("key")): r for r in tables["bookings"]}
    assert bookings[("total", "")] == {k: str(v) for k, v in report["bookings"]["total"].items()}
    for scope in ("service", "kelurahan"):
        for key, tally in report["bookings"][scope].items():
            assert bookings[(scope, key)] == {k: str(v) for k, v in tally.items()}
    assert [r["visit"] for r in tables["visit"]] == [VISIT]
    assert tables["visit"][0]["place"] == "Posyandu Melati"
    drive = report["progress"]
    for row in tables["kelurahan"]:
        p = (
            drive["kecamatan"]
            if row["kelurahan"] == "kecamatan"
            else drive["kelurahan"][row["kelurahan"]]
        )
        got = [int(row[f"period_{source}"]) for source in SOURCES]
        assert got == [p["period_by_source"].get(source, 0) for source in SOURCES]

    lines = output(config, [], capsys).splitlines()

    def table_row(label: str, g: dict[str, Any]) -> None:
        row = next(x for x in lines if x[:24].rstrip() == label)
        numbers = [g[k] for k in ("issued", "served", "no_shows", "cancelled", "open", "recalls")]
        times = [g[a][b] for a in ("wait", "service") for b in ("median", "p90")]
        expected = [*map(str, numbers), str(g["no_shows_undone"]), *map(duration, times)]
        assert row[24:].split() == expected, label

    table_row("booked", report["groups"]["booking"]["booked"])
    table_row("walk-in", report["groups"]["booking"]["walk_in"])
    table_row("2026-11-21 Posyandu Mel", report["groups"]["visit"][VISIT])
    table_row("  A Perekaman KTP-el", report["groups"]["visit_service"][f"{VISIT}/A"])
    b = report["bookings"]["total"]
    assert next(x for x in lines if x.startswith("bookings:")) == (
        f"bookings: {b['booked']} booked, {b['redeemed']} came (redeemed), {b['not_came']} did"
        f" not come, {b['pending']} still to come, {b['cancelled']} cancelled"
    )
    sources = drive["sources"]
    assert next(
        x for x in lines if x.startswith("drive, kelurahan")
    ) == "drive, kelurahan from: " + ", ".join(f"{source} {sources[source]}" for source in SOURCES)

    page = output(config, ["--html"], capsys)
    visit = report["groups"]["visit"][VISIT]
    for cells in (
        [
            "booking / booked",
            *(report["groups"]["booking"]["booked"][k] for k in ("issued", "served")),
        ],
        [
            "2026-11-21 Posyandu Melati (Petompon)",
            visit["issued"],
            visit["served"],
            visit["no_shows"],
        ],
        ["semua / all", *report["bookings"]["total"].values()],
    ):
        assert "<tr><td>" + "</td><td>".join(map(str, cells)) + "</td>" in page, cells
