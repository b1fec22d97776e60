"""Kiosk: a tap to the ticket bytes handed to the printer driver, and cold start to the first frame.

Tap latency: the queue service runs as its own process (`antrean queue`) on a
private Mosquitto; the benchmark process holds the kiosk's real DeviceLink
(kiosk-1) and TicketController with the simulated printer (previews off, so
the driver's hand-off is what is timed). The time runs from
`controller.take("C")` (what a button's release calls) to the moment the
simulator's `print_ticket` is entered with the bytes: printer status query,
`issue` over MQTT to the committed reply, ticket layout and ESC/POS encoding.
Baseline, alternating tap by tap in the same process: the bare `issue`
request/reply through the same DeviceLink (`link.request`). 30 warm-up taps,
then 500 measured (`--quick`: 10 + 100).

Cold start: `antrean kiosk --config X` (the real command, full screen,
simulated printer) on its own 1280x800 Xvfb, from Popen until the app logs its
first Window flip; peak RSS (VmHWM) read from /proc then. Baseline in the same
run: a bare full-screen Kivy app with one Label, timed the same way. 5
launches of each, alternating (`--quick`: 2); medians are reported. The
queue service and broker are up before each launch.

Targets (issue): tap p99 <= 100 ms; cold start <= 2 s.
"""

from __future__ import annotations

import os
import select
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import (
    PYTHON,
    ROOT,
    KioskTaps,
    Result,
    antrean_command,
    format_ms,
    kiosk_link,
    main,
    spawn,
    stop_process,
    summary_ms,
    wait_service_online,
    write_config,
)

from antrean.config import load_config
from antrean_testing.devbroker import DevBroker
from antrean_testing.xvfb import VirtualScreen
from kiosk.printer.sim import SimPrinter

BARE_KIVY = """
from kivy.config import Config
Config.set("graphics", "fullscreen", "auto")  # like the kiosk
from kivy.app import App
from kivy.core.window import Window
from kivy.uix.label import Label
class Bare(App):
    def build(self):
        Window.bind(on_flip=self.first)
        return Label(text="Ambil tiket")
    def first(self, *_):
        Window.unbind(on_flip=self.first)
        print("bare: first frame", flush=True)
Bare().run()
"""


def tap_latency(config_path: Path, quick: bool) -> tuple[list[float], list[float], list[float]]:
    """(tap to bytes, tap to outcome, bare issue round trip) in seconds."""
    config = load_config(config_path)
    link = kiosk_link(config)
    printer = SimPrinter(80, None)
    kiosk = KioskTaps(link, config, printer)
    warm, measured = (10, 100) if quick else (30, 500)
    to_bytes: list[float] = []
    to_outcome: list[float] = []
    bare: list[float] = []
    try:
        for i in range(warm + measured):
            started = time.perf_counter()
            kiosk.tap("C")
            finished = time.perf_counter()
            handed = printer.jobs[-1].handed_at
            t0 = time.perf_counter()
            reply = link.request("issue", {"service": "C"})
            t1 = time.perf_counter()
            if not reply.ok:
                raise RuntimeError(f"baseline issue refused: {reply}")
            if i >= warm:
                to_bytes.append(handed - started)
                to_outcome.append(finished - started)
                bare.append(t1 - t0)
    finally:
        kiosk.close()
        link.stop()
    return to_bytes, to_outcome, bare


def launch(argv: list[str], marker: str, env: dict[str, str], log: Path) -> tuple[float, float]:
    """Seconds from Popen to `marker` on the child's output, and its peak RSS (MiB) then."""
    started = time.perf_counter()
    with log.open("ab") as out:
        proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=ROOT
        )
        assert proc.stdout is not None
        buffered = b""
        try:
            while marker.encode() not in buffered:
                ready, _, _ = select.select([proc.stdout], [], [], 30)
                chunk = os.read(proc.stdout.fileno(), 65536) if ready else b""
                if not chunk:
                    raise RuntimeError(f"{argv[0]} ended or hung before {marker!r}; see {log}")
                buffered += chunk
                out.write(chunk)
            elapsed = time.perf_counter() - started
            peak = peak_rss_mib(proc.pid)
        finally:
            stop_process(proc)  # type: ignore[arg-type]
    return elapsed, peak


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cold_start(config_path: Path, folder: Path, quick: bool) -> dict[str, list[float]]:
    runs = 2 if quick else 5
    found: dict[str, list[float]] = {"kiosk_s": [], "kiosk_mib": [], "bare_s": [], "bare_mib": []}
    with VirtualScreen(1280, 800) as screen:  # the 10-inch kiosk screen
        env = dict(
            os.environ,
            DISPLAY=screen.display,
            KIVY_NO_ARGS="1",
            KIVY_NO_FILELOG="1",
            KIVY_LOG_MODE="PYTHON",
            SDL_AUDIODRIVER="dummy",
            KIVY_HOME=tempfile.mkdtemp(dir=folder),
        )
        env.pop("WAYLAND_DISPLAY", None)
        kiosk = [*antrean_command(config_path)[:-3], "kiosk", "--config", str(config_path)]
        bare_app = folder / "bare_kivy.py"  # Kivy looks for a .kv beside the App's source
        bare_app.write_text(BARE_KIVY, encoding="utf-8")
        for _ in range(runs):
            s, mib = launch(kiosk, "kiosk: first frame", env, folder / "kiosk.log")
            found["kiosk_s"].append(s)
            found["kiosk_mib"].append(mib)
            s, mib = launch([PYTHON, str(bare_app)], "bare: first frame", env, folder / "bare.log")
            found["bare_s"].append(s)
            found["bare_mib"].append(mib)
    return found


def run(quick: bool) -> Result:
    result = Result("bench_kiosk")
    folder = Path(tempfile.mkdtemp(prefix="antrean-bench-kiosk-"))
    with DevBroker() as broker:
        config_path = write_config(folder, broker.port)
        queue = spawn(antrean_command(config_path), folder / "queue.log")
        try:
            wait_service_online(broker.port)
            to_bytes, to_outcome, bare = tap_latency(config_path, quick)
            starts = cold_start(config_path, folder, quick)
        finally:
            stop_process(queue)
    tb, to, base = summary_ms(to_bytes), summary_ms(to_outcome), summary_ms(bare)
    print(format_ms("tap -> bytes to driver", tb))
    print(format_ms("tap -> Done (outcome)", to))
    print(format_ms("baseline: bare issue", base))
    print(f"tap p99 / bare issue p99: {tb['p99'] / base['p99']:.2f}x")
    ks, bs = statistics.median(starts["kiosk_s"]), statistics.median(starts["bare_s"])
    km, bm = statistics.median(starts["kiosk_mib"]), statistics.median(starts["bare_mib"])
    print(
        f"cold start to first frame: kiosk {ks:.2f} s ({km:.0f} MiB peak RSS), "
        f"bare Kivy {bs:.2f} s ({bm:.0f} MiB); runs {starts}"
    )
    result.figures = {
        "tap_to_bytes_ms": tb,
        "tap_to_done_ms": to,
        "bare_issue_ms": base,
        "cold_start_s": ks,
        "cold_start_peak_rss_mib": km,
        "bare_kivy_start_s": bs,
        "bare_kivy_peak_rss_mib": bm,
    }
    result.check("tap -> bytes p99", tb["p99"], "ms", "<= 100", tb["p99"] <= 100)
    result.check("cold start to first frame", ks, "s", "<= 2", ks <= 2)
    return result


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main(__doc__, run)
