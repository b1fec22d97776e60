"""A month of a busy office reports in under 2 s (issue 14): `antrean report --month`.

Builds a store the way the queue service does (the real Engine, batches
committed to a real SQLite store): the 21 business days of 2026-11, 572
tickets a day over the four services (12,000 tickets), each called, a share
recalled, a share skipped, requeued and called again, served (about 30,000
calls), and some served recordings attributed to a kelurahan; 40 bookings a
day, four in five redeemed (bench/month_extras.py); and a mobile unit's
posyandu visit of 150 residents synced into the office's store. Then times the
report's SQL over the whole month through the read-only reader (the figures
for every service, counter, hour and day, the busiest-hours table, cards,
the drive), and the HTML page, best of three runs.
"""

from __future__ import annotations

import random
import re
import sqlite3
import tempfile
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from antrean import wire
from antrean.config import Config, parse_config
from antrean.engine import Changes, Engine
from antrean.store import Store, StoreReader
from antrean_tools.figures import period_figures
from antrean_tools.report_html import render_html
from bench.common import Result, commit_changes, config_text, main
from bench.month_extras import EXTRA_TOML, PLAN, Bookings, visit_home

COUNTER_OF = {"A": 1, "B": 2, "C": 3, "D": 4}
KELURAHAN = ["Bendan Duwur", "Bendan Ngisor", "Petompon", "Sampangan", "Karangrejo"]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def business_days(month: int = 11) -> list[date]:
    days = [date(2026, month, d) for d in range(1, 31)]
    return [d for d in days if d.weekday() < 5][:22]


def build(folder: Path, tickets_per_day: int, rng: random.Random) -> tuple[Config, int, int]:
    text = re.sub(r"daily_quota = \d+[^\n]*\n", "", config_text(1883, folder / "antrean.db"))
    text += EXTRA_TOML
    config = parse_config(text, source="bench.toml", base_dir=folder)
    clock = Clock()
    store = Store(config.store_path)
    engine = Engine(config, clock)
    pending = Changes()
    ops = 0

    def do(out: Changes) -> None:
        nonlocal pending, ops
        pending.absorb(out)
        ops += 1
        if ops % 500 == 0:
            flush()

    def flush() -> None:
        nonlocal pending
        commit_changes(store, engine, pending, clock())
        pending = Changes()

    do(engine.stock_receive(20000, "SJ-bench"))
    do(engine.visit_plan(**PLAN))
    booked = Bookings(engine, rng)
    tickets = 0
    step = 23400 // tickets_per_day  # the day's issues spread over 6.5 hours
    for day in business_days():
        t = datetime(day.year, day.month, day.day, 1, 0, tzinfo=UTC)  # 08:00 WIB
        clock.now = t - timedelta(hours=1)
        do(booked.import_day(day, 40))
        clock.now = t
        do(engine.tick())
        backlog: deque[str] = deque()
        for _ in range(tickets_per_day):
            t += timedelta(seconds=step)
            clock.now = t
            redeemed = booked.redeem_due(t, do)
            backlog.extend(redeemed)
            tickets += len(redeemed)
            out = engine.issue(rng.choice("AABBCCD"), rng.random() < 0.1)
            backlog.append(wire.result(out.result)["ticket"]["code"])
            do(out)
            tickets += 1
            # 0, 1 or 2 served per issue (one on average): the backlog, so the waits, vary.
            served = min(rng.choice((0, 1, 1, 2)), len(backlog))
            for k in range(served):
                slot = step // served
                serve(engine, do, clock, t + timedelta(seconds=k * slot), slot, backlog, rng)
    flush()
    visit_home(folder, text, config, store, engine, 150)
    calls = int(store.db.execute("SELECT COUNT(*) FROM calls").fetchone()[0])
    store.close()
    return config, tickets, calls


def serve(
    engine: Engine,
    do: Callable[[Changes], None],
    clock: Clock,
    t: datetime,
    slot: int,
    backlog: deque[str],
    rng: random.Random,
) -> None:
    """One resident at a counter within `slot` seconds: call, maybe recall or skip, complete."""
    code = backlog.popleft()
    counter = COUNTER_OF[code[0]]

    def at(share: float) -> None:
        clock.now = t + timedelta(seconds=int(slot * share))

    at(0)
    do(engine.call_ticket(counter, code))
    if rng.random() < 0.75:
        at(0.1)
        do(engine.recall(counter))
    if rng.random() < 0.3:
        at(0.2)
        do(engine.no_show(counter))
        if rng.random() < 0.15:
            return  # never came back
        at(0.25)
        do(engine.requeue(code))
        at(0.3)
        do(engine.call_ticket(counter, code))
    at(rng.uniform(0.4, 0.95))
    kelurahan = rng.choice(KELURAHAN) if code[0] == "A" and rng.random() < 0.7 else None
    do(engine.complete(counter, kelurahan))


def run(quick: bool) -> Result:
    result = Result("bench_report")
    rng = random.Random(14)
    with tempfile.TemporaryDirectory(prefix="antrean-bench-report-") as tmp:
        started = time.perf_counter()
        config, tickets, calls = build(Path(tmp), 100 if quick else 572, rng)
        print(
            f"built a month: {tickets} tickets, {calls} calls"
            f" in {time.perf_counter() - started:.1f} s"
        )
        best_sql = best_html = best_cpu = float("inf")
        for _ in range(3):
            reader = StoreReader(config.store_path)
            try:
                t0, c0 = time.perf_counter(), time.process_time()
                period = period_figures(
                    reader.db,
                    date(2026, 11, 1),
                    date(2026, 11, 30),
                    config.office.timezone,
                    [s.code for s in config.services],
                    [c.number for c in config.counters],
                    config.drive,
                )
                t1, cpu = time.perf_counter(), time.process_time() - c0
                render_html(period, config)
                t2 = time.perf_counter()
            finally:
                reader.close()
            best_sql, best_html = min(best_sql, t1 - t0), min(best_html, t2 - t1)
            best_cpu = min(best_cpu, cpu)
        total = period.groups["total"][""]
        print(
            f"report --month 2026-11: {best_sql * 1000:.0f} ms (SQL;"
            f" {best_cpu * 1000:.0f} ms of CPU),"
            f" html {best_html * 1000:.0f} ms;"
            f" issued {total.issued}, calls {total.calls}, wait median {total.wait.median} s,"
            f" p90 {total.wait.p90} s (sqlite {sqlite3.sqlite_version})"
        )
        result.figures.update(
            tickets=tickets,
            calls=calls,
            report_ms=best_sql * 1000,
            report_cpu_ms=best_cpu * 1000,
            html_ms=best_html * 1000,
        )
        result.check(
            "month report (SQL + html)", best_sql + best_html, "s", "< 2", best_sql + best_html < 2
        )
    return result


if __name__ == "__main__":
    main(__doc__, run)
