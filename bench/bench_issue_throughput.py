"""Durable issue throughput: 40 kiosks issuing at once, each with a window of requests.

The queue service runs as its own process (`antrean queue`). 40 kiosk devices
(kiosk-1..40) issue tickets for service C (no quota; the office is always open),
each keeping up to WINDOW commands unanswered. Each sends at most 100, the
burst the service's per-device rate limit allows (antrean/ratelimit.py), so
the figure is the service's, not the limit's. A reply means the ticket is
committed (synchronous=FULL). At the end the store is opened read-only and
its tickets are counted against the acknowledged replies.

Target (issue): >= 500 issues/s.
"""

from __future__ import annotations

import sqlite3
import tempfile
import threading
import time
from pathlib import Path

from common import (
    Pipeline,
    Result,
    antrean_command,
    format_ms,
    main,
    spawn,
    stop_process,
    summary_ms,
    wait_service_online,
    write_config,
)

from antrean_testing.devbroker import DevBroker

KIOSKS = 40
WINDOW = 4  # unanswered commands per kiosk: 160 in all
SERVICE = "C"


def count_tickets(store: Path) -> tuple[int, int]:
    """(tickets, distinct codes) in the store, opened read-only."""
    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        row = db.execute("SELECT count(*), count(DISTINCT day || code) FROM tickets").fetchone()
        return int(row[0]), int(row[1])
    finally:
        db.close()


def rates_by_part(answered_at: list[float], start: float, parts: int = 4) -> list[float]:
    """Issues/s over each successive part of the run (a falling rate: cost grows with the day)."""
    ordered = sorted(answered_at)
    size = len(ordered) // parts
    rates, previous = [], start
    for n in range(parts):
        end = ordered[(n + 1) * size - 1]
        rates.append(size / (end - previous))
        previous = end
    return rates


def issue_all(port: int, total: int) -> tuple[float, float, list[Pipeline]]:
    """Runs the kiosks concurrently; returns the start time, the wall time and the kiosks."""
    kiosks = [Pipeline(port, f"kiosk-{n}", WINDOW).start() for n in range(1, KIOSKS + 1)]
    go = threading.Barrier(KIOSKS + 1)
    failures: list[BaseException] = []

    def work(kiosk: Pipeline, count: int) -> None:
        go.wait()
        try:
            kiosk.run("issue", {"service": SERVICE}, count, timeout=120)
        except BaseException as exc:
            failures.append(exc)

    share = [total // KIOSKS + (1 if n < total % KIOSKS else 0) for n in range(KIOSKS)]
    threads = [
        threading.Thread(target=work, args=(k, n), name=k.device)
        for k, n in zip(kiosks, share, strict=True)
    ]
    for t in threads:
        t.start()
    go.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    for k in kiosks:
        k.stop()
    if failures:
        raise failures[0]
    return start, wall, kiosks


def run(quick: bool) -> Result:
    total = 1000 if quick else 4000
    result = Result("issue_throughput")
    with tempfile.TemporaryDirectory(prefix="antrean-bench-") as tmp, DevBroker() as broker:
        folder = Path(tmp)
        config = write_config(folder, broker.port, kiosks=KIOSKS)
        service = spawn(antrean_command(config), folder / "queue.log")
        try:
            wait_service_online(broker.port)
            start, wall, kiosks = issue_all(broker.port, total)
        finally:
            stop_process(service)
        tickets, codes = count_tickets(folder / "antrean.db")

    acked = sum(k.ok for k in kiosks)
    errors = [e for k in kiosks for e in k.errors]
    rate = acked / wall
    latency = summary_ms([s for k in kiosks for s in k.latencies])
    print(
        f"{acked} issues acknowledged ({len(errors)} refused) by {KIOSKS} kiosks, "
        f"window {WINDOW} each, in {wall:.2f} s: {rate:.0f} issues/s"
    )
    print(format_ms("issue reply latency", latency))
    parts = rates_by_part([t for k in kiosks for t in k.answered_at], start)
    print("issues/s by quarter of the run: " + ", ".join(f"{r:.0f}" for r in parts))
    print(f"store: {tickets} tickets, {codes} distinct codes; acknowledged {acked}")
    if errors:
        print(f"first refusal: {errors[0]}")
    result.figures = {
        "issues_per_s": rate,
        "acked": acked,
        "refused": len(errors),
        "wall_s": wall,
        "latency_ms": latency,
        "rate_by_quarter": parts,
        "tickets_in_store": tickets,
    }
    result.check("issue throughput", rate, "/s", ">= 500", rate >= 500)
    consistent = tickets == acked == codes == total
    result.check("tickets in store == acknowledged", tickets, "", f"== {acked}", consistent)
    return result


if __name__ == "__main__":
    main(__doc__, run)
