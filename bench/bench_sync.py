"""A unit's day of 500 tickets, and five such days, sync home (issue 13); the office meanwhile.

Two real queue services, each with its own Mosquitto. The unit serves 500
residents of one visit through its real service (kiosk issues, counter
calls and completes; the clock moves in seconds of fake time), then its sync
client (antrean.unitsync) replays the outbox to the office. The office's
counter calls the next of its own residents all along: call round trips
(call_next, send to reply) without a sync, then while the sync runs.
Then again with a unit away five days, a visit of 500 each day, synced at
once on its return. Prints the sync times and throughputs and the office's
call p50/p99 both ways (measured around the one-day sync).
"""

from __future__ import annotations

import sqlite3
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from antrean.config import Config, parse_config
from antrean.runner import QueueServiceRunner
from antrean.unitsync import UnitSync
from antrean_testing.client import QueueClient
from antrean_testing.devbroker import DevBroker
from bench.common import EXAMPLE, Result, format_ms, main, summary_ms

VISIT = "posyandu-melati"
PLAN = {"unit": "keliling-1", "day": "2026-11-26", "start": "08:00", "end": "16:00",
        "place": "Melati", "kind": "posyandu", "kelurahan": "Bendan Ngisor",
        "id": VISIT}  # fmt: skip
START = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)  # 08:00 WIB


class Clock:
    def __init__(self) -> None:
        self.now, self.lock = START, threading.Lock()

    def __call__(self) -> datetime:
        with self.lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.now += timedelta(seconds=seconds)


def config(port: int, folder: Path, extra: str) -> Config:
    text = EXAMPLE.read_text(encoding="utf-8").replace("port = 1883", f"port = {port}")
    text = text.replace("[queue]\n", "[queue]\ndevice_rate_per_s = 100000\ndevice_burst = 100000\n")
    text = text.replace("uses_card = true", "uses_card = false")
    text = text.replace('mon-thu = "08:00-15:00"\nfri = "08:00-11:00"\n', "")
    text = text.replace("[office.hours]\n", "")
    text = text.replace("daily_quota = 120", "").replace("daily_quota = 80", "")
    return parse_config(text + extra, "bench.toml", folder)


def ok(client: QueueClient, action: str, **args: object) -> dict[str, object]:
    reply = client.request(action, dict(args), timeout=10)
    assert reply["ok"], reply
    return reply["result"]  # type: ignore[no-any-return]


def calls(client: QueueClient, until: threading.Event | None, count: int) -> list[float]:
    """call_next round trips at the office counter (and complete, untimed)."""
    out: list[float] = []
    while len(out) < count and not (until is not None and until.is_set()):
        t0 = time.perf_counter()
        ok(client, "call_next")
        out.append(time.perf_counter() - t0)
        ok(client, "complete")
    return out


def serve_unit(u: dict[str, QueueClient], clock: Clock, residents: int) -> float:
    """The visit's residents through the unit's service; seconds it took."""
    t0 = time.perf_counter()
    for _ in range(residents):
        ok(u["kiosk-1"], "issue", service="A")
        ok(u["counter-1"], "call_next")
        clock.advance(50)  # 500 residents in 7 hours: one business day
        ok(u["counter-1"], "complete")
    return time.perf_counter() - t0


def plan(day: date) -> dict[str, str]:
    """The day's visit of the unit (the first day's is PLAN)."""
    if day == START.date():
        return PLAN
    return {**PLAN, "day": day.isoformat(), "id": f"{VISIT}-{day.isoformat()}"}


def run(quick: bool) -> Result:
    residents = 100 if quick else 500
    result = Result("bench_sync")
    one = sync_days(residents, 1, office_calls=True)
    five = sync_days(residents, 5, office_calls=False)
    q, d = summary_ms(one.quiet), summary_ms(one.during)
    for n, r in ((1, one), (5, five)):
        print(f"{n} day(s): unit served {residents * n} residents in {r.served_s:.1f} s;"
              f" outbox {r.items} items")  # fmt: skip
        print(f"  sync: {r.sync_s:.2f} s, {r.items / r.sync_s:.0f} items/s,"
              f" {residents * n / r.sync_s:.0f} tickets/s")  # fmt: skip
    print(format_ms("office call_next, no sync", q))
    print(format_ms("office call_next, sync on", d))
    result.figures.update(sync_s=one.sync_s, items=one.items, quiet=q, during=d,
                          five_days_sync_s=five.sync_s, five_days_items=five.items)  # fmt: skip
    result.check("sync of one day (500 tickets)", one.sync_s, "s", "< 60", one.sync_s < 60)
    result.check("sync of five days (2,500 tickets)", five.sync_s, "s", "< 300",
                 five.sync_s < 300)  # fmt: skip
    result.check("office call p99 during sync", d["p99"], "ms", f"<= 2x {q['p99']:.1f}",
                 d["p99"] <= 2 * q["p99"])  # fmt: skip
    return result


@dataclass
class Synced:
    served_s: float
    items: int
    sync_s: float
    quiet: list[float]
    during: list[float]


def sync_days(residents: int, days: int, office_calls: bool) -> Synced:
    """A unit away `days` days with a visit of `residents` a day, then its sync home."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    with DevBroker() as office_broker, DevBroker() as unit_broker:
        mobile = '\n[mobile]\nunits = { "keliling-1" = "K" }\n'
        office_cfg = config(office_broker.port, tmp / "office", mobile)
        unit_extra = (
            '\n[unit]\nid = "keliling-1"\nprefix = "K"\nhome_host = "127.0.0.1"\n'
            f"home_port = {office_broker.port}\n"
        )
        unit_cfg = config(unit_broker.port, tmp / "unit", unit_extra)
        clock = Clock()
        office = QueueServiceRunner(office_cfg, clock).start()
        unit = QueueServiceRunner(unit_cfg, clock).start()
        o_admin = QueueClient(office_cfg.office.id, "admin", office_cfg.broker).start()
        o_kiosk = QueueClient(office_cfg.office.id, "kiosk-1", office_cfg.broker).start()
        o_counter = QueueClient(office_cfg.office.id, "counter-1", office_cfg.broker).start()
        u = {d: QueueClient(unit_cfg.office.id, d, unit_cfg.broker).start()
             for d in ("admin", "kiosk-1", "counter-1")}  # fmt: skip
        visit_days = [START.date() + timedelta(days=n) for n in range(days)]
        for day in visit_days:  # planned at the office, known to the unit before it leaves
            ok(o_admin, "visit_plan", **plan(day))
            ok(u["admin"], "visit_plan", **plan(day))
        served_s = 0.0
        for n, _day in enumerate(visit_days):
            if n:  # the next morning, 08:00 WIB: the unit rolls over to that day
                with clock.lock:
                    clock.now = START + timedelta(days=n)
            served_s += serve_unit(u, clock, residents)
        with sqlite3.connect(unit_cfg.store_path) as db:
            items = db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
        quiet: list[float] = []
        during: list[float] = []
        done = threading.Event()
        caller = None
        if office_calls:
            for _ in range(1200):
                ok(o_kiosk, "issue", service="A")
            quiet = calls(o_counter, None, 300)
            caller = threading.Thread(target=lambda: during.extend(calls(o_counter, done, 900)))
            caller.start()
        t0 = time.perf_counter()
        sync = UnitSync(unit_cfg).start()
        while sync.waiting() or not sync.acked:
            time.sleep(0.01)
        sync_s = time.perf_counter() - t0
        done.set()
        if caller is not None:
            caller.join()
        sync.stop()
        with sqlite3.connect(office_cfg.store_path) as db:
            synced = db.execute("SELECT COUNT(*) FROM tickets WHERE code LIKE 'K%'").fetchone()[0]
        assert synced == residents * days, (synced, residents * days)
        for c in (o_admin, o_kiosk, o_counter, *u.values()):
            c.stop()
        unit.stop()
        office.stop()
    return Synced(served_s, items, sync_s, quiet, during)


if __name__ == "__main__":
    main(__doc__, run)
