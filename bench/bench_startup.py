"""Start-up: launching `antrean queue` until its retained state is out, with a year of history.

Each run gets a fresh Mosquitto (no retained messages from an earlier run) and a
fresh copy of the store. An observer subscribes to the office's topics before
the launch; the service counts as up when the observer has state/office and
device/queue/status online. Empty and history runs alternate. The RSS of the
service is read from /proc once it is up. The log's "running" line splits the
time into process start-up (interpreter, imports, config, store load) and
connecting plus publishing.

Targets (issue): <= 1 s with history, and history no more than 20% slower than empty.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import tempfile
import time
from datetime import datetime
from pathlib import Path

from common import (
    PYTHON,
    Observer,
    Result,
    antrean_command,
    is_online,
    main,
    rss_mib,
    spawn,
    stop_process,
    topic,
    write_config,
)
from history import build_empty, build_history

from antrean_testing.devbroker import DevBroker

STATUS = topic("device", "queue", "status")
OFFICE_STATE = topic("state", "office")


def running_logged_at(log: Path) -> float | None:
    """Wall-clock time of the service's "running" log line (millisecond resolution)."""
    for line in log.read_text(errors="replace").splitlines():
        if " running; store " in line:
            stamp = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")
            return stamp.timestamp()
    return None


def start_once(store: Path, folder: Path) -> dict[str, float]:
    """One launch on a fresh broker and store copy: seconds to ready, split, and RSS."""
    with DevBroker() as broker:
        work = Path(tempfile.mkdtemp(dir=folder))
        shutil.copyfile(store, work / "antrean.db")
        config = write_config(work, broker.port)
        observer = Observer(broker.port, topic("#"), "startup").start(probe=topic("bench", "p"))
        try:
            wall0, t0 = time.time(), time.perf_counter()
            proc = spawn(antrean_command(config), work / "queue.log")
            try:
                got_office = observer.wait_for(lambda t, _p: t == OFFICE_STATE, 30)[0]
                got_online = observer.wait_for(lambda t, p: t == STATUS and is_online(t, p), 30)[0]
                rss = rss_mib(proc.pid)
            finally:
                stop_process(proc)
        finally:
            observer.stop()
        ready = max(got_office, got_online) - t0
        running = running_logged_at(work / "queue.log")
        shutil.rmtree(work)
    return {
        "ready_s": ready,
        "process_s": (running - wall0) if running else float("nan"),
        "rss_mib": rss,
    }


def interpreter_s(repeats: int) -> float:
    """Median time of `python -c "import antrean_tools.cli"`: the floor of any launch."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        subprocess.run([PYTHON, "-c", "import antrean_tools.cli"], check=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def median_of(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def run(quick: bool) -> Result:
    repeats = 2 if quick else 5
    result = Result("startup")
    with tempfile.TemporaryDirectory(prefix="antrean-bench-") as tmp:
        folder = Path(tmp)
        stores = {"empty": folder / "empty.db", "history": folder / "history.db"}
        build_empty(stores["empty"])
        t = time.perf_counter()
        tickets = build_history(stores["history"])
        size = stores["history"].stat().st_size / 2**20
        print(
            f"history store: {tickets} tickets, {size:.0f} MiB, "
            f"built in {time.perf_counter() - t:.1f} s"
        )
        runs: dict[str, list[dict[str, float]]] = {"empty": [], "history": []}
        for _ in range(repeats):
            for name, store in stores.items():
                runs[name].append(start_once(store, folder))
        floor = interpreter_s(repeats)

    print(
        f"{'store':<8} {'ready (median)':>15} {'min':>8} {'max':>8} "
        f"{'process part':>13} {'RSS':>10}"
    )
    for name, rs in runs.items():
        ready = [r["ready_s"] * 1000 for r in rs]
        print(
            f"{name:<8} {statistics.median(ready):12.0f} ms {min(ready):5.0f} ms "
            f"{max(ready):5.0f} ms {median_of(rs, 'process_s') * 1000:10.0f} ms "
            f"{median_of(rs, 'rss_mib'):6.1f} MiB"
        )
    print(f"python -c 'import antrean_tools.cli' alone: {floor * 1000:.0f} ms (median)")
    empty, history = median_of(runs["empty"], "ready_s"), median_of(runs["history"], "ready_s")
    slower = history / empty - 1
    print(f"history vs empty: {slower * 100:+.1f}%")
    result.figures = {
        "tickets": tickets,
        "repeats": repeats,
        "empty": runs["empty"],
        "history": runs["history"],
        "empty_ready_ms": empty * 1000,
        "history_ready_ms": history * 1000,
        "history_slower_pct": slower * 100,
        "import_floor_ms": floor * 1000,
        "rss_empty_mib": median_of(runs["empty"], "rss_mib"),
        "rss_history_mib": median_of(runs["history"], "rss_mib"),
    }
    result.check("start-up with history (median)", history * 1000, "ms", "<= 1000", history <= 1)
    result.check("history slower than empty", slower * 100, "%", "<= 20", slower <= 0.2)
    return result


if __name__ == "__main__":
    main(__doc__, run)
