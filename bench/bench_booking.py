"""Pre-registration: importing a kelurahan list of 10,000 rows, and a code's cost at the kiosk.

In process, on the real engine and a real store file: the import is the
CLI's own `read_list` (CSV, NIK checks, HMAC of each NIK) and the engine's
`booking_import` in the CLI's chunks, then one commit of the bookings, as the
queue service commits a batch. The broker's hops are left out on purpose:
bench_call_latency measures those; this measures what a booking adds.

Code entry -> ticket: `redeem` of a booked code against `issue` of a walk-in
number, alternating, on the same engine and clock (the baseline in the same
run). Target: the code check adds at most a few ms to a ticket (the tap's
target is 100 ms).
"""

from __future__ import annotations

import random
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from common import Result, commit_changes, config_text, format_ms, main, summary_ms

from antrean import wire
from antrean.booking import office_secret
from antrean.bookings import Booking
from antrean.config import parse_config
from antrean.engine import Changes, Engine
from antrean.store import Store
from antrean_tools.booking_cli import chunks, read_list

ROWS = 10_000
EXTRA = (
    '\n[booking]\nsecret_file = "booking.secret"\ncapacity = { A = 120, B = 120 }\n'
    "horizon_days = 60\nwalk_in_percent = 20\n"
)
KELURAHAN = ("Bendan Ngisor", "Bendan Duwur", "Petompon", "Sampangan", "Lempongsari")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 29, 23, 0, tzinfo=UTC)  # Monday 30th, 06:00 WIB

    def __call__(self) -> datetime:
        return self.now


def nik(n: int) -> str:
    """A possible NIK: Kota Semarang, born on a day 01-28 of a month, serial n."""
    return f"337401{n % 28 + 1:02d}{n % 12 + 1:02d}9{n // 10_000 % 10}{n % 10_000:04d}"


def listing(path: Path, rows: int) -> None:
    lines = ["nama;nik;no_hp;kelurahan;layanan;tanggal"]
    lines += [f"Warga {n};{nik(n)};;{KELURAHAN[n % 5]};{'AB'[n % 2]};" for n in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def refusals(engine: Engine, first: dict[str, Any]) -> Counter[str]:
    """Why rows were refused, over every page of the import's results."""
    reasons: Counter[str] = Counter()
    page = first
    while True:
        reasons.update(r[2].split(" (")[0] for r in page["results"] if r[1] == "refused")
        if not page["more"]:
            return reasons
        offset = page["offset"] + len(page["results"])
        page = wire.result(engine.booking_import_result("bench", offset).result)


def code_vs_walk_in(
    engine: Engine, store: Store, clock: Clock, booked: list[Booking], rounds: int
) -> tuple[list[float], list[float]]:
    """Tomorrow's bookings redeemed from their slot's start, each against a walk-in (s)."""
    day = "2026-12-01"
    tomorrow = sorted((b.slot, b.code) for b in booked if str(b.day) == day)
    commit_changes(store, engine, engine.stock_receive(5000, "SJ-bench"), clock())  # B prints cards
    clock.now = datetime.fromisoformat(f"{day}T{tomorrow[0][0]}:00+07:00").astimezone(UTC)
    engine.tick()  # the new business day
    rng = random.Random(12)
    redeem_s, issue_s = [], []
    for slot, code in tomorrow[:rounds]:
        start = datetime.fromisoformat(f"{day}T{slot}:00+07:00").astimezone(UTC)
        # A resident a little after the slot starts (the bench's office has no hours).
        clock.now = max(clock.now, start + timedelta(seconds=rng.randint(1, 300)))
        a = time.perf_counter()
        engine.redeem(code)
        b = time.perf_counter()
        engine.issue("C")
        c = time.perf_counter()
        redeem_s.append(b - a)
        issue_s.append(c - b)
    return redeem_s, issue_s


def run(quick: bool) -> Result:
    rows, rounds = (2_000, 200) if quick else (ROWS, 1_000)
    with tempfile.TemporaryDirectory(prefix="antrean-bench-") as tmp:
        folder = Path(tmp)
        text = config_text(1883, folder / "antrean.db") + EXTRA
        config = parse_config(text, source="bench.toml", base_dir=folder)
        clock = Clock()
        store = Store(config.store_path)
        engine = Engine(config, clock)
        csv_file = folder / "list.csv"
        listing(csv_file, rows)

        t0 = time.perf_counter()
        checked, _lines = read_list(config, office_secret(config.booking.secret_file), csv_file)
        t1 = time.perf_counter()
        parts = chunks(checked)
        out, final = Changes(), Changes()
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            final = engine.booking_import("bench", part, len(checked) if last else None)
            out.absorb(final)
        t2 = time.perf_counter()
        commit_changes(store, engine, out, clock())
        t3 = time.perf_counter()
        booked = list(out.bookings.values())
        summary = wire.result(final.result)  # its first page of results; the counts are whole
        reasons = refusals(engine, summary)

        redeem_s, issue_s = code_vs_walk_in(engine, store, clock, booked, rounds)
        store.close()

    read_s, import_s, commit_s = t1 - t0, t2 - t1, t3 - t2
    total = t3 - t0
    print(f"import of {rows} rows: {len(booked)} booked in {len(parts)} chunks; refused: "
          f"{dict(reasons) or 'none'}")  # fmt: skip
    print(f"  read_list (CSV, NIK checks, HMAC) {read_s:.2f} s; engine {import_s:.2f} s; "
          f"commit {commit_s:.2f} s; total {total:.2f} s = {rows / total:,.0f} rows/s")  # fmt: skip
    red, iss = summary_ms(redeem_s), summary_ms(issue_s)
    print(format_ms("redeem (code -> ticket)", red))
    print(format_ms("issue (walk-in baseline)", iss))
    extra99 = red["p99"] - iss["p99"]
    print(f"the code check adds {red['p50'] - iss['p50']:.3f} ms at p50, {extra99:.3f} ms at p99")
    result = Result("booking")
    result.figures = {
        "rows": rows, "booked": len(booked), "import_s": total, "rows_per_s": rows / total,
        "redeem_ms": red, "issue_ms": iss, "redeems": len(redeem_s),
    }  # fmt: skip
    result.check("import of the rows", total, "s", "< 60", total < 60)
    result.check("redeem p99 - issue p99", extra99, "ms", "<= 5", extra99 <= 5)
    return result


if __name__ == "__main__":
    main(__doc__, run)
