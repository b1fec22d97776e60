"""Board: a counter's call until the TV shows it and the voice starts; cold start; memory.

The queue service runs as its own process (`antrean queue`); the board runs in
this process under a private Xvfb, as the real BoardApp with its real Kivy
loop, clip library (espeak-ng) and the aplay player writing to ALSA's null
device (a real aplay child per announcement; the null device does not pace,
so announcements never queue up behind each other here).

For each call the clock starts just before counter-4 publishes call_next:
- baseline: a plain MQTT subscriber in this process receives event/called;
- screen: the first frame (Window on_flip) after the board put the call in
  its big panel;
- audio: the announcement is assembled and handed to the player (aplay spawned).
Cold start: `antrean board` as a child process, spawn to "office state on
screen" (its log line) and to its retained `online` status. Memory: the
board child's peak RSS (VmHWM) after 30 calls, against a bare Kivy app with
one label on the same screen.

Target (issue): call to screen and to audio started p99 <= 300 ms.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from common import (
    OFFICE,
    PYTHON,
    ROOT,
    Observer,
    Pipeline,
    Result,
    antrean_command,
    broker_config,
    format_ms,
    is_online,
    main,
    spawn,
    stop_process,
    summary_ms,
    topic,
    wait_service_online,
    write_config,
)

from antrean.config import load_config
from antrean_testing.client import QueueClient
from antrean_testing.devbroker import DevBroker
from antrean_testing.xvfb import VirtualScreen
from display_board.settings import BoardSettings, voice_settings
from display_board.voice.clips import ClipLibrary, VoiceSettings, build_clips
from display_board.voice.registry import open_player

TIMEOUT_S = 10
SIZES = ((1920, 1080), (1366, 768))
BARE_KIVY = (
    "from kivy.app import App\nfrom kivy.uix.label import Label\nfrom kivy.clock import Clock\n"
    "class Bare(App):\n    def build(self):\n        Clock.schedule_once(lambda dt: print("
    "'ready', flush=True), 1)\n        return Label(text='Nomor antrean A012')\nBare().run()\n"
)


def kivy_env(display: str, home: Path) -> dict[str, str]:
    env = dict(os.environ, DISPLAY=display, KIVY_NO_ARGS="1", KIVY_NO_FILELOG="1")
    env.update(KIVY_HOME=str(home), SDL_AUDIODRIVER="dummy")
    env.pop("WAYLAND_DISPLAY", None)
    return env


def board_config(folder: Path, port: int, clips: Path) -> Path:
    path = write_config(folder, port)
    text = path.read_text(encoding="utf-8")
    for old, new in (
        ('clips = "var/voice"', f"clips = {json.dumps(str(clips))}"),
        ('alsa_device = ""', 'alsa_device = "null"'),
    ):
        if old not in text:
            raise RuntimeError(f"antrean.example.toml changed: {old!r} is gone")
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return path


# ---- call latency, board in this process ------------------------------------------


class Timings:
    """Timestamps set from the board's threads for the call being measured."""

    def __init__(self) -> None:
        self.screen = threading.Event()
        self.audio = threading.Event()
        self.screen_at = self.audio_at = 0.0
        self.link_at = self.main_at = self.applied_at = 0.0  # where the time goes
        self.shown: str | None = None
        self.spoken: str | None = None
        self._want_flip = False
        self.swaps: list[float] = []  # seconds inside each buffer swap

    def arm(self) -> None:
        self.screen.clear()
        self.audio.clear()
        self.shown = self.spoken = None

    def shown_call(self, call: Any) -> None:  # main thread, after the widgets changed
        self.shown = call.code
        self._want_flip = True

    def wrap_flip(self, window: Any) -> None:
        """Times the buffer swap itself; the frame is on screen when it returns."""
        swap = window.flip

        def flip() -> None:
            started = time.perf_counter()
            swap()
            self.swaps.append(time.perf_counter() - started)
            self.flipped()

        window.flip = flip

    def flipped(self) -> None:  # main thread, the frame is on screen
        if self._want_flip:
            self._want_flip = False
            self.screen_at = time.perf_counter()
            self.screen.set()


class TimedPlayer:
    """The real aplay player, with the moment it is handed each announcement."""

    def __init__(self, inner: Any, timings: Timings) -> None:
        self.inner, self.timings, self.name = inner, timings, inner.name

    def play(self, sound: Any) -> None:
        self.timings.audio_at = time.perf_counter()
        self.timings.spoken = sound.text
        self.timings.audio.set()
        self.inner.play(sound)

    def stop(self) -> None:
        self.inner.stop()


def drive(app: Any, port: int, timings: Timings, calls: int, out: dict[str, Any]) -> None:
    """The counter and the baseline subscriber, on a thread beside Kivy's loop."""
    from kivy.clock import Clock  # noqa: PLC0415 - after DISPLAY is set
    from kivy.core.window import Window  # noqa: PLC0415

    base = Observer(port, topic("event", "called"), "baseline").start()
    counter = QueueClient(OFFICE, "counter-4", broker_config(port)).start()
    try:
        deadline = time.monotonic() + 20
        while not app.link.queue_online:
            if time.monotonic() > deadline:
                raise RuntimeError("the board never came online")
            time.sleep(0.05)
        for size in SIZES:
            Clock.schedule_once(lambda _dt, size=size: setattr(Window, "size", size))
            time.sleep(1.0)
            timings.swaps.clear()
            out[size] = calls_at(counter, base, timings, calls)
            out[("swaps", size)] = list(timings.swaps)
    except Exception as exc:
        out["error"] = exc
    finally:
        counter.stop()
        base.stop()
        Clock.schedule_once(lambda _dt: app.stop())


def calls_at(
    counter: QueueClient, base: Observer, timings: Timings, calls: int
) -> list[tuple[float, ...]]:
    """`calls` calls, one at a time: (baseline, screen, audio, link, main, applied) in s."""
    rows: list[tuple[float, ...]] = []
    for _ in range(calls):
        timings.arm()
        t0 = time.perf_counter()
        reply = counter.request("call_next", {"counter": 4})
        code = reply["result"]["ticket"]["code"]
        at, _t, _p = base.wait_for(lambda _t, p, c=code: f'"code":"{c}"' in p.decode(), 5)
        if not (timings.screen.wait(TIMEOUT_S) and timings.audio.wait(TIMEOUT_S)):
            raise RuntimeError(f"the board did not show or speak {code}")
        if timings.shown != code:
            raise RuntimeError(f"the board showed {timings.shown}, not {code}")
        marks = (timings.screen_at, timings.audio_at, timings.link_at, timings.main_at)
        rows.append((at - t0, *(m - t0 for m in marks), timings.applied_at - t0))
        time.sleep(0.05)  # let the announcement's aplay finish
    return rows


def measure_calls(config_path: Path, port: int, calls: int) -> dict[Any, list[Any]]:
    from kivy.core.window import Window  # noqa: PLC0415 - after DISPLAY is set

    from display_board.app import BoardApp  # noqa: PLC0415

    config = load_config(config_path)
    voice = voice_settings(config)
    timings = Timings()
    player = TimedPlayer(open_player(voice), timings)
    app = BoardApp(
        config, "board-1", BoardSettings(fullscreen=False), ClipLibrary(voice.clip_dir).load(),
        player,
    )  # fmt: skip
    app.on_screen_update = timings.shown_call
    from_mqtt, applied = app._event_from_mqtt, app._event_applied

    def event_from_mqtt(event: dict[str, Any]) -> None:  # MQTT thread
        if event.get("kind") == "called":
            timings.link_at = time.perf_counter()
        from_mqtt(event)

    def event_applied(call: Any, idle: bool) -> None:  # Kivy's main thread
        timings.main_at = time.perf_counter()
        applied(call, idle)
        timings.applied_at = time.perf_counter()

    app._event_applied = event_applied
    app.link._on_event = event_from_mqtt  # the link was given the original
    Window.size = SIZES[0]
    timings.wrap_flip(Window)
    out: dict[str, Any] = {}
    driver = threading.Thread(target=drive, args=(app, port, timings, calls, out), daemon=True)
    driver.start()
    app.run()
    driver.join(30)
    if "error" in out:
        raise out["error"]
    return out


# ---- cold start and memory, board as a child process ------------------------------


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def cold_start(config_path: Path, port: int, env: dict[str, str], log: Path) -> dict[str, float]:
    status = topic("device", "board-1", "status")
    watch = Observer(port, status, "board-status").start()
    argv = [str(Path(PYTHON).parent / "antrean"), "board", "--config", str(config_path)]
    started_wall, started = time.time(), time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen([*argv, "--windowed"], stdout=out, stderr=subprocess.STDOUT,
                                env=env, cwd=ROOT)  # fmt: skip
    try:
        at, _t, _p = watch.wait_for(lambda t, p: t == status and is_online(t, p), 30)
        online_s = at - started
        ready_s = float("nan")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            found = re.search(r"board ready: office state on screen at ([\d.]+)", log.read_text())
            if found:
                ready_s = float(found.group(1)) - started_wall
                break
            time.sleep(0.05)
        counter = QueueClient(OFFICE, "counter-4", broker_config(port)).start()
        for _ in range(30):
            counter.request("call_next", {"counter": 4})
        counter.stop()
        time.sleep(2)
        rss = peak_rss_mib(proc.pid)
        spoken = log.read_text().count("announcing: ")
    finally:
        stop_process(proc)
        watch.stop()
    return {"online_s": online_s, "ready_s": ready_s, "peak_rss_mib": rss, "spoken": spoken}


def bare_kivy_rss(env: dict[str, str], folder: Path) -> float:
    script = folder / "bare_kivy.py"  # a file: Kivy's App looks up its source
    script.write_text(BARE_KIVY, encoding="utf-8")
    proc = subprocess.Popen([PYTHON, str(script)], stdout=subprocess.PIPE, env=env, text=True)
    try:
        assert proc.stdout is not None
        proc.stdout.readline()  # "ready", a second after the first frame
        return peak_rss_mib(proc.pid)
    finally:
        stop_process(proc)


def run(quick: bool) -> Result:
    calls = 60 if quick else 300
    result = Result("bench_board")
    with (
        tempfile.TemporaryDirectory(prefix="antrean-bench-board-") as tmp,
        DevBroker() as broker,
        VirtualScreen() as screen,
    ):
        folder, port = Path(tmp), broker.port
        env = kivy_env(screen.display, folder / "kivy")
        os.environ.update(env)  # this process's Kivy too, before it is imported
        clips = folder / "voice"
        build_clips(VoiceSettings(clips))
        config_path = board_config(folder, port, clips)
        service = spawn(antrean_command(config_path), folder / "queue.log")
        try:
            wait_service_online(port)
            kiosk = Pipeline(port, "kiosk-1").start()
            kiosk.run("issue", {"service": "C"}, len(SIZES) * calls + 40)
            kiosk.stop()
            cold = cold_start(config_path, port, env, folder / "board.log")
            bare = bare_kivy_rss(env, folder)
            measured = measure_calls(config_path, port, calls)
        finally:
            stop_process(service)
    print(f"cold start: online {cold['online_s']:.2f} s, office on screen {cold['ready_s']:.2f} s")
    print(f"peak RSS: board {cold['peak_rss_mib']:.1f} MiB after {cold['spoken']:.0f} "
          f"announcements; bare Kivy app {bare:.1f} MiB")  # fmt: skip
    result.figures = {"cold": cold, "bare_kivy_rss_mib": bare}
    for size in SIZES:
        rows = measured[size]
        names = ("baseline", "screen", "audio", "link", "main_thread", "applied")
        figures = {name: summary_ms([r[i] for r in rows]) for i, name in enumerate(names)}
        figures["swap"] = summary_ms(measured[("swaps", size)])
        label = f"{size[0]}x{size[1]}"
        print(f"\n{label}:")
        print(format_ms("baseline: event at subscriber", figures["baseline"]))
        print(format_ms("board: call on screen", figures["screen"]))
        print(format_ms("board: audio started", figures["audio"]))
        print(format_ms("  event at the board's link", figures["link"]))
        print(format_ms("  on Kivy's main thread", figures["main_thread"]))
        print(format_ms("  frame swap (every frame)", figures["swap"]))
        result.figures[label] = figures
        for what in ("screen", "audio"):
            p99 = figures[what]["p99"]
            result.check(f"{label} call to {what} p99", p99, "ms", "<= 300", p99 <= 300)
    result.check("cold start to office on screen", cold["ready_s"], "s", "(figure)", True)
    result.check("board peak RSS / bare Kivy", cold["peak_rss_mib"] / bare, "x", "(figure)", True)
    return result


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main(__doc__, run)
