"""Makes the board's documentation pictures and sample call from a real run.

    python -m display_board.screenshots --out docs/screenshots --wav docs/sample-call.wav

For each TV size, a process of its own (Kivy has one window per process)
starts an Xvfb of that size without a window manager, Mosquitto and the
queue service (the example office, clock fixed at Thursday 26 November 2026,
09:41 WIB), runs the board full screen as `antrean board` does on a unit,
issues and calls a morning's worth of tickets, and grabs the X screen itself.
At 1366x768 it also photographs a recall, then the board with the broker gone
(the offline mark). The last call's announcement, as the board assembled it
from the clips, is written as the sample WAV.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PIL import ImageGrab

from antrean.config import Config, load_config
from antrean.runner import QueueServiceRunner
from antrean_testing.client import QueueClient
from antrean_testing.devbroker import DevBroker
from antrean_testing.xvfb import VirtualScreen
from display_board.settings import BoardSettings
from display_board.voice.clips import ClipLibrary, VoiceSettings, build_clips
from display_board.voice.player import RecordingPlayer

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
# Cheap 720p TVs, 1366x768 panels, 1080p TVs and 4K TVs (which a Pi drives).
SIZES = ((1280, 720), (1366, 768), (1920, 1080), (3840, 2160))
DETAIL = (1366, 768)  # the size of the recall and offline pictures
MORNING = datetime(2026, 11, 26, 2, 41, tzinfo=UTC)  # Thursday, 09:41 WIB
# (device, action, args): a busy morning, ending with the call in the pictures.
MORNING_CALLS: list[tuple[str, str, dict[str, Any]]] = [
    ("counter-1", "call_next", {}),
    ("counter-2", "call_next", {}),
    ("counter-4", "call_next", {}),
    ("counter-3", "call_next", {}),
    ("counter-1", "call_next", {}),
    ("counter-4", "call_next", {}),
    ("counter-2", "call_next", {}),
    ("counter-1", "call_next", {}),
    ("counter-2", "recall", {}),
    ("counter-3", "call_next", {}),
    ("counter-2", "call_ticket", {"code": "A012"}),  # a resident who came back
]


def office_config(config: Config, port: int, folder: Path) -> Config:
    """The office with a private broker port and a throwaway store."""
    broker = dataclasses.replace(config.broker, host="127.0.0.1", port=port)
    return dataclasses.replace(config, broker=broker, store_path=folder / "antrean.db")


def morning(config: Config) -> str:
    """Tickets for every service, then the calls of MORNING_CALLS; the last code called."""
    clients = {d: QueueClient(config.office.id, d, config.broker).start() for d in _devices()}
    try:
        # Blank cards for B (Pencetakan, uses_card) before its tickets.
        _ok(clients["admin"].request("stock_receive", {"count": 50, "note": "screenshots"}))
        for service, count in (("A", 14), ("B", 6), ("C", 9), ("D", 3)):
            for _ in range(count):
                _ok(clients["kiosk-1"].request("issue", {"service": service}))
        _ok(clients["admin"].request("service_close", {"service": "B", "reason": "Blanko habis"}))
        last = ""
        for device, action, args in MORNING_CALLS:
            last = _ok(clients[device].request(action, args))["ticket"]["code"]
        return last
    finally:
        for client in clients.values():
            client.stop()


def recall(config: Config, device: str) -> None:
    client = QueueClient(config.office.id, device, config.broker).start()
    try:
        _ok(client.request("recall", {}))
    finally:
        client.stop()


def _devices() -> list[str]:
    return ["kiosk-1", "admin", "counter-1", "counter-2", "counter-3", "counter-4"]


def _ok(reply: dict[str, Any]) -> dict[str, Any]:
    if not reply.get("ok"):
        raise RuntimeError(f"the queue service refused: {reply}")
    result: dict[str, Any] = reply["result"]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(ROOT / "antrean.example.toml"))
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--wav", help="also write the last call's announcement here")
    parser.add_argument("--size", help="only this TV, WIDTHxHEIGHT (one process each)")
    parser.add_argument("--clips", help="voice clips already built (by the parent process)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.size is None:
        with tempfile.TemporaryDirectory(prefix="antrean-clips-") as built:
            build_clips(VoiceSettings(Path(built)))
            for w, h in SIZES:
                one = [sys.executable, "-m", "display_board.screenshots", "--config", args.config,
                       "--out", str(out), "--size", f"{w}x{h}", "--clips", built]  # fmt: skip
                if args.wav and (w, h) == DETAIL:
                    one += ["--wav", args.wav]
                subprocess.run(one, check=True, timeout=600)
        return 0
    width, _, height = args.size.partition("x")
    size = (int(width), int(height))
    with (
        tempfile.TemporaryDirectory(prefix="antrean-shots-") as tmp,
        VirtualScreen(*size) as screen,
        DevBroker() as broker,
    ):
        folder = Path(tmp)
        _kivy_environment(screen.display, folder)
        config = office_config(load_config(args.config), broker.port, folder)
        clips = Path(args.clips) if args.clips else folder / "voice"
        if not args.clips:
            build_clips(VoiceSettings(clips))
        service = QueueServiceRunner(config, clock=lambda: MORNING).start()
        try:
            player = RecordingPlayer(speed=0.0)
            shots = _photograph(config, ClipLibrary(clips).load(), player, broker, out, size)
        finally:
            service.stop()
        if args.wav and player.sounds:
            _write_sample(player, Path(args.wav))
    for shot in shots:
        log.info("wrote %s", shot)
    return 0


def _kivy_environment(display: str, folder: Path) -> None:
    os.environ["DISPLAY"] = display
    os.environ.pop("WAYLAND_DISPLAY", None)
    os.environ.pop("SDL_VIDEODRIVER", None)
    os.environ["KIVY_NO_ARGS"] = "1"
    os.environ["KIVY_NO_FILELOG"] = "1"
    os.environ["KIVY_NO_CONSOLELOG"] = "1"
    os.environ["KIVY_HOME"] = str(folder / "kivy")
    os.environ["SDL_AUDIODRIVER"] = "dummy"
    from display_board.cli import configure_kivy  # noqa: PLC0415 - Kivy after the display

    configure_kivy(fullscreen=True)  # as `antrean board` on a unit


def _photograph(
    config: Config,
    library: ClipLibrary,
    player: RecordingPlayer,
    broker: DevBroker,
    out: Path,
    size: tuple[int, int],
) -> list[Path]:
    from kivy.base import EventLoop  # noqa: PLC0415 - after the X display is chosen

    from display_board.app import BoardApp  # noqa: PLC0415

    display = os.environ["DISPLAY"]

    def pump_until(done: Callable[[], bool], what: str, timeout: float = 15) -> None:
        end = time.monotonic() + timeout
        while not done():
            if time.monotonic() > end:
                raise RuntimeError(f"timed out waiting for {what}")
            EventLoop.idle()
            time.sleep(0.01)

    def shoot(name: str) -> Path:
        """What the X screen shows (not the board's own framebuffer): a cut-off window shows."""
        end = time.monotonic() + 0.5
        pump_until(lambda: time.monotonic() > end, "a pause")
        path = out / f"{name}-{size[0]}x{size[1]}.png"
        ImageGrab.grab(xdisplay=display).convert("RGB").save(path)
        return path

    EventLoop.ensure_window()
    settings = BoardSettings(fullscreen=True, highlight_s=600)
    app = BoardApp(config, "board-1", settings, library, player, clock=lambda: MORNING)
    app._run_prepare()  # App.run() without its blocking loop
    shots: list[Path] = []
    try:
        pump_until(lambda: app.link.queue_online, "the board's link")
        last = morning(config)
        pump_until(lambda: len(player.played) == len(MORNING_CALLS), "every announcement")
        pump_until(lambda: app.screen.call_code == last, f"{last} on screen")
        shots.append(shoot("board"))
        if size == DETAIL:
            sample = len(player.sounds) - 1  # the sample WAV is this call, not the recall
            recall(config, "counter-2")
            pump_until(lambda: app.screen.call_title == "PANGGILAN ULANG", "the recall on screen")
            shots.append(shoot("board-recall"))
            player.sounds[:] = [player.sounds[sample]]
            broker.stop()
            pump_until(lambda: app.screen.offline_text != "", "the offline mark")
            shots.append(shoot("board-offline"))
    finally:
        app.dispatch("on_stop")
    return shots


def _write_sample(player: RecordingPlayer, path: Path) -> None:
    """The last announcement, 16 kHz mono (small enough to keep in git)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    full = path.with_suffix(".22k.wav")
    full.write_bytes(player.sounds[-1].wav_bytes())
    sox = shutil.which("sox")
    if sox:
        subprocess.run([sox, str(full), "-r", "16000", str(path)], check=True, timeout=60)
        full.unlink()
    else:
        full.replace(path)
    log.info("wrote %s", path)


if __name__ == "__main__":
    raise SystemExit(main())
