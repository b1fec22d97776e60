"""The day's figures and `antrean report`, on a real store written by the engine.

The timeline below is played through the real Engine with a FakeClock and
each step committed to a real SQLite store, the way the queue service does;
the expected figures are worked out by hand in the comments.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from antrean.engine import Changes, Engine
from antrean.store import Store, StoreReader
from antrean_tools.cli import main
from antrean_tools.report import CounterFigures, DayFigures, Figures, day_figures
from tests.support.helpers import OPEN_MORNING, FakeClock, example_config, example_text

DAY = date(2026, 11, 26)
SERVICES = ["A", "B", "C", "D"]
COUNTERS = [1, 2, 3, 4]


@dataclass
class Day:
    engine: Engine
    store: Store
    clock: FakeClock

    def commit(self, outcome: Changes) -> None:
        """Commits what the engine did (the clock was set before the engine ran)."""
        self.store.commit(
            tickets=outcome.tickets.values(),
            counters=[],
            services=[],
            meta={"day": self.engine.day.isoformat(), "seq": str(self.engine.seq)},
            replies=[],
            now=self.clock(),
            calls=outcome.calls,
            stock=outcome.stock,
            progress=outcome.progress,
        )

    def step(self, seconds: int) -> Engine:
        self.clock.set(OPEN_MORNING + timedelta(seconds=seconds))
        return self.engine


@pytest.fixture
def day(tmp_path: Path) -> Iterator[Day]:
    config = example_config(tmp_path)
    clock = FakeClock()
    store = Store(config.store_path)
    d = Day(Engine(config, clock), store, clock)
    yield d
    store.close()


def play(d: Day) -> None:
    """A small morning; times are seconds after 09:00 WIB."""

    def do(seconds: int, action: str, *args: object) -> None:
        engine = d.step(seconds)
        d.commit(getattr(engine, action)(*args))

    do(0, "issue", "A")  # A001
    do(60, "issue", "A", True)  # A002, priority
    do(120, "issue", "B")  # B001
    do(180, "issue", "C")  # C001
    do(240, "issue", "A")  # A003
    do(300, "call_next", 1)  # A002 (priority first): wait 240
    do(360, "call_next", 2)  # A001: wait 360 (but see the requeue below)
    do(420, "recall", 1)  # A002 again; its wait still ends at 300
    do(480, "call_next", 1)  # A002 served (180 s); A003 called: wait 240
    do(540, "no_show", 2)  # A001 skipped
    do(600, "call_next", 2)  # B001: wait 480
    do(660, "call_next", 4)  # C001: wait 480 ...
    do(720, "transfer", 4, "D")  # ... moved to D: its call is forgotten
    do(780, "issue", "D")  # D001
    do(840, "cancel", "D001")
    do(900, "call_next", 4)  # C001 (now in D): wait 720
    do(1200, "complete", 4)  # C001 served by counter 4: 300 s
    do(1260, "complete", 2)  # B001 served by counter 2: 660 s
    do(1300, "issue", "B")  # B002
    do(1310, "requeue", "A001")  # A001 waits again; its no-show is forgotten
    do(1320, "call_next", 2)  # A001 (oldest): wait 1320, its latest call
    do(1400, "complete", 2)  # A001 served by counter 2: 80 s
    do(1500, "call_next", 3)  # B002: wait 200
    do(1560, "no_show", 3)  # B002 skipped
    # At the end A003 is still called at counter 1.


def test_the_figures_of_a_small_morning_worked_out_by_hand(day: Day) -> None:
    play(day)
    figures = day_figures(day.store, DAY, SERVICES, COUNTERS)
    assert figures.day == DAY
    assert list(figures.services) == SERVICES
    # A: A001 (served, wait 1320, 80 s), A002 (priority, served, wait 240, 180 s),
    # A003 (called, wait 240).
    assert figures.services["A"] == Figures(
        issued=3,
        priority_issued=1,
        served=2,
        called=1,
        waits=3,
        mean_wait_s=600.0,
        median_wait_s=240.0,
        max_wait_s=1320.0,
        mean_service_s=130.0,
    )
    # B: B001 (served, wait 480, 660 s), B002 (no-show, wait 200).
    assert figures.services["B"] == Figures(
        issued=2,
        served=1,
        no_shows=1,
        waits=2,
        mean_wait_s=340.0,
        median_wait_s=340.0,
        max_wait_s=480.0,
        mean_service_s=660.0,
    )
    # C: C001 was issued for C, but it ended in D: C has an issue and no outcome.
    assert figures.services["C"] == Figures(issued=1)
    # D: D001 (cancelled), C001 (served in D, wait 720, 300 s).
    assert figures.services["D"] == Figures(
        issued=1,
        served=1,
        cancelled=1,
        waits=1,
        mean_wait_s=720.0,
        median_wait_s=720.0,
        max_wait_s=720.0,
        mean_service_s=300.0,
    )
    # Waits 1320, 240, 240, 480, 200, 720: mean 3200 / 6, median (240 + 480) / 2.
    # Service times 80, 180, 660, 300: mean 1220 / 4.
    assert figures.total == Figures(
        issued=7,
        priority_issued=1,
        served=4,
        no_shows=1,
        cancelled=1,
        called=1,
        waits=6,
        mean_wait_s=3200 / 6,
        median_wait_s=360.0,
        max_wait_s=1320.0,
        mean_service_s=305.0,
    )
    # Counter 2: B001 (660 s) and A001 (80 s); A001's no-show there was undone by the requeue.
    assert figures.counters == {
        1: CounterFigures(served=1, mean_service_s=180.0),
        2: CounterFigures(served=2, mean_service_s=370.0),
        3: CounterFigures(no_shows=1),
        4: CounterFigures(served=1, mean_service_s=300.0),
    }


def test_after_the_rollover_what_was_left_is_expired_and_keeps_its_wait(day: Day) -> None:
    play(day)
    day.clock.set(OPEN_MORNING + timedelta(days=1))
    day.commit(day.engine.tick())
    figures = day_figures(day.store, DAY, SERVICES, COUNTERS)
    # A003 was called at the rollover: expired now, and its wait (240) still counts.
    assert (figures.total.expired, figures.total.called, figures.total.waiting) == (1, 0, 0)
    assert (figures.services["A"].expired, figures.services["A"].waits) == (1, 3)
    assert figures.total.mean_wait_s == 3200 / 6
    next_day = day_figures(day.store, DAY + timedelta(days=1), SERVICES, COUNTERS)
    assert next_day.total == Figures()
    assert next_day.counters == {n: CounterFigures() for n in COUNTERS}


def test_services_and_counters_missing_from_the_config_are_still_counted(day: Day) -> None:
    play(day)
    figures = day_figures(day.store, DAY, ["A"], [1])
    assert list(figures.services) == ["A", "B", "C", "D"]  # the config's first
    assert list(figures.counters) == [1, 2, 4, 3]  # then in the order the tickets name them
    assert figures.total.issued == 7


def test_the_reader_is_read_only_and_not_blocked_by_the_writer(day: Day) -> None:
    play(day)
    path = day.store.path
    before = path.read_bytes()
    reader = StoreReader(path)
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader.db.execute("DELETE FROM tickets")
        # The service is in the middle of a batch: the report reads the last commit.
        day.store.db.execute("BEGIN IMMEDIATE")
        day.store.db.execute("UPDATE tickets SET status = 'served' WHERE code = 'A003'")
        figures = day_figures(reader, DAY, SERVICES, COUNTERS)
        day.store.db.execute("ROLLBACK")
    finally:
        reader.close()
    assert figures.total.called == 1
    assert figures == day_figures(day.store, DAY, SERVICES, COUNTERS)
    assert path.read_bytes() == before


def test_no_store_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="has the queue service run here"):
        StoreReader(tmp_path / "var" / "antrean.db")
    assert not (tmp_path / "var").exists()  # and nothing was created


def test_a_store_of_another_schema_version_is_refused(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "new.db")
    db.execute("PRAGMA user_version = 99")
    db.close()
    with pytest.raises(RuntimeError, match="schema version 99"):
        StoreReader(tmp_path / "new.db")


# ---- the command ------------------------------------------------------------------


def office_file(tmp_path: Path) -> Path:
    path = tmp_path / "antrean.toml"  # its store is var/antrean.db next to it
    path.write_text(example_text(), encoding="utf-8")
    return path


def test_antrean_report_json_measures_from_the_calls(
    day: Day, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    play(day)
    config = office_file(tmp_path)
    assert main(["report", "--config", str(config), "--day", "2026-11-26", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    total = printed["groups"]["total"][""]
    # Waits to the FIRST call: A001 360 (not 1320: its requeue is not a new wait), A002 240,
    # A003 240, B001 480, C001 480 (its call before the transfer), B002 200.
    # Sorted 200 240 240 360 480 480: median rank ceil(3) = 240, p90 rank ceil(5.4) = 480.
    assert total["wait"] == {"n": 6, "median": 240.0, "p90": 480.0, "mean": 2000 / 6, "max": 480.0}
    # Service from the last call or recall: A002 480 - 420 (its recall) = 60, C001 1200 - 900,
    # B001 660, A001 1400 - 1320 = 80. Sorted 60 80 300 660: median rank 2, p90 rank 4.
    assert total["service"] == {"n": 4, "median": 80.0, "p90": 660.0, "mean": 275.0, "max": 660.0}
    counts = {k: v for k, v in total.items() if k not in ("wait", "service")}
    assert counts == {
        "issued": 7,
        "priority": 1,
        "served": 4,
        "no_shows": 1,  # B002; A001's no-show was undone by the requeue
        "cancelled": 1,
        "expired": 0,
        "open": 1,  # A003 at counter 1
        "calls": 8,  # A001 and C001 were called twice
        "recalls": 1,
        "no_show_marks": 2,
        "no_shows_undone": 1,
        "requeues": 1,
        "transfers": 1,
    }
    # C001 was issued for C and ended in D: C counts the issue, D the rest.
    assert printed["groups"]["service"]["C"]["issued"] == 1
    assert printed["groups"]["service"]["C"]["wait"]["n"] == 0
    assert printed["groups"]["service"]["D"]["wait"]["median"] == 480.0
    assert printed["groups"]["counter"]["2"]["service"]["n"] == 2
    assert printed["groups"]["hour"]["9"]["issued"] == 7  # all issued 09.00-09.59 WIB


def test_antrean_report_table(day: Day, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    play(day)
    config = office_file(tmp_path)
    assert main(["report", "--config", str(config), "--day", "2026-11-26"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Kecamatan Gajahmungkur: 2026-11-26 (Asia/Jakarta)"
    rows = {line.split("  ")[0]: line.split()[-11:] for line in lines[3:] if line}
    # issued served no-show cancel open recall undone | wait median p90 | service median p90
    assert " ".join(rows["A Perekaman KTP-el"]) == "3 2 0 0 1 1 1 4:00 6:00 1:00 1:20"
    assert " ".join(rows["total"]) == "7 4 1 1 1 1 1 4:00 8:00 1:20 11:00"


def test_antrean_report_csv_and_html(
    day: Day, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    play(day)
    config = office_file(tmp_path)
    assert main(["report", "--config", str(config), "--day", "2026-11-26", "--csv"]) == 0
    rows = capsys.readouterr().out.splitlines()
    header = rows[0].split(",")
    total = dict(
        zip(header, next(r for r in rows if r.startswith("total,")).split(","), strict=True)
    )
    assert (total["issued"], total["wait_median"], total["wait_p90"]) == ("7", "240.0", "480.0")
    assert main(["report", "--config", str(config), "--day", "2026-11-26", "--html"]) == 0
    page = capsys.readouterr().out
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<svg") >= 2
    assert "http" not in page  # nothing fetched: it opens offline


def test_antrean_report_without_a_store_or_with_a_bad_day(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = office_file(tmp_path)
    assert main(["report", "--config", str(config)]) == 1
    assert "no store at" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["report", "--config", str(config), "--day", "26-11-2026"])
    assert exit_.value.code == 2
    assert "not a date YYYY-MM-DD: '26-11-2026'" in capsys.readouterr().err


def test_the_json_of_an_empty_day(tmp_path: Path) -> None:
    figures = DayFigures(DAY, {"A": Figures()}, Figures(), {1: CounterFigures()})
    assert figures.as_dict()["services"]["A"]["mean_wait_s"] is None
