"""Screenshots of the kiosk for docs/screenshots: `python -m kiosk.screenshots --out DIR`.

Runs the real app against a real Mosquitto and queue service, on its own
Xvfb, with the simulated printer: Home, Done, Trouble and the question before
a second ticket at 800x480, 1280x800 and 1080x1920, Home in English, and the
PNG previews of a ticket
(80 and 58 mm) drawn from the bytes. Run it from the repository root (it
drives Kivy with tests/kivy_harness.py, the same helpers the tests use).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from antrean.xvfb import VirtualScreen

SIZES = ((800, 480), (1280, 800), (1080, 1920))
# Thursday 2026-11-26, 09:00 WIB: inside the example office's hours.
MORNING = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
SERVICE_D_HOURS = 'name_en = "Certificates and moving"\n'


class SteppingClock:
    """A fixed morning that moves on a little each time the tickets need it."""

    def __init__(self) -> None:
        self.at = MORNING

    def __call__(self) -> datetime:
        return self.at

    def step(self, minutes: int) -> None:
        self.at += timedelta(minutes=minutes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/screenshots", help="folder for the PNG files")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with VirtualScreen() as screen:
        os.environ.update(
            DISPLAY=screen.display,
            KIVY_NO_ARGS="1",
            KIVY_NO_FILELOG="1",
            KIVY_NO_CONSOLELOG="1",
            KIVY_LOG_MODE="PYTHON",
            KIVY_HOME=tempfile.mkdtemp(prefix="antrean-kivy-home-"),
            SDL_AUDIODRIVER="dummy",
        )
        os.environ.pop("WAYLAND_DISPLAY", None)
        take_screenshots(out)
    return 0


def take_screenshots(out: Path) -> None:
    import logging  # noqa: PLC0415

    from antrean.client import QueueClient  # noqa: PLC0415 - after the display is set
    from antrean.config import parse_config  # noqa: PLC0415
    from antrean.devbroker import DevBroker  # noqa: PLC0415
    from antrean.runner import QueueServiceRunner  # noqa: PLC0415

    logging.basicConfig(level=logging.INFO)
    root = Path(__file__).resolve().parent.parent
    work = Path(tempfile.mkdtemp(prefix="antrean-shots-"))
    clock = SteppingClock()
    with DevBroker() as broker:
        text = (root / "antrean.example.toml").read_text(encoding="utf-8")
        text = text.replace("port = 1883", f"port = {broker.port}")
        # Service D opens later, so Home shows a service waiting for its hours.
        later = SERVICE_D_HOURS + 'hours = { mon-fri = "10:00-14:00" }\n'
        config = parse_config(text.replace(SERVICE_D_HOURS, later), "shots.toml", work)
        runner = QueueServiceRunner(config, clock).start()
        if not runner.mqtt.wait_connected(10):
            raise RuntimeError("the queue service did not connect to the broker")
        admin = QueueClient(config.office.id, "admin", config.broker).start()
        try:
            for service in "AAAAAAACC":
                admin.request("issue", {"service": service})
                clock.step(1)
            admin.request("service_close", {"service": "B", "reason": "Blanko KTP-el habis"})
            for counter in config.counters:  # at work: estimates, not "loket belum dibuka"
                admin.request("counter_open", {"counter": counter.number})
            drive_app(config, clock, work, out)
        finally:
            admin.stop()
            runner.stop()
    shrink(out)
    shutil.rmtree(work, ignore_errors=True)


def drive_app(config: Any, clock: SteppingClock, work: Path, out: Path) -> None:
    """Home, a ticket (Done), a ticket that fails half-way (Trouble), at each size."""
    from kiosk.app import KioskApp  # noqa: PLC0415
    from kiosk.printer.escpos_decode import save_preview  # noqa: PLC0415
    from kiosk.printer.sim import SimPrinter  # noqa: PLC0415
    from kiosk.settings import kiosk_settings  # noqa: PLC0415
    from kiosk.ticket import ticket_bytes  # noqa: PLC0415
    from tests.kivy_harness import (  # noqa: PLC0415
        pump,
        pump_until,
        screenshot,
        set_window_size,
        start_app,
        stop_app,
        tap,
    )

    def take_again(app: Any, service: str) -> None:
        """A tap on a service; the question a second ticket soon after brings is answered Ya."""
        tap(app.home.service_buttons[service])
        pump_until(lambda: app.screens.current == "message", 10, "a screen after the tap")
        if "yes" in app.message.buttons:
            app.message.buttons["yes"].dispatch("on_release")

    printer = SimPrinter(80, work / "tickets")
    app = KioskApp(config, kiosk_settings(config), printer=printer, now=clock)
    start_app(app, SIZES[0])
    try:
        pump_until(lambda: not app.home.service_buttons["A"].disabled, 15, "home ready")
        for w, h in SIZES:
            set_window_size(w, h)
            pump(0.3)
            screenshot(out / f"home-{w}x{h}.png")
            clock.step(1)
            take_again(app, "A")
            pump_until(lambda: "take" in app.message.labels, 10, "Done")
            screenshot(out / f"done-{w}x{h}.png")
            app.go_home()
            pump(0.9)
            printer.set_faults(fail_mid=1)
            take_again(app, "C")
            pump_until(lambda: "reprint" in app.message.buttons, 10, "Trouble")
            screenshot(out / f"trouble-{w}x{h}.png")
            app.go_home()
            pump(0.9)
        for w, h in SIZES:
            set_window_size(w, h)
            tap(app.home.service_buttons["A"])
            pump_until(lambda: "yes" in app.message.buttons, 10, "the question")
            screenshot(out / f"again-{w}x{h}.png")
            app.go_home()
            pump(0.9)
        set_window_size(*SIZES[0])
        app.toggle_language()
        pump(0.3)
        screenshot(out / "home-en-800x480.png")
    finally:
        stop_app(app)
    save_preview(printer.complete_jobs()[0].data, out / "ticket-80mm.png", 80)
    last = app.controller.last if app.controller else None
    if last is not None:
        save_preview(ticket_bytes(last, 58), out / "ticket-58mm.png", 58)


def shrink(folder: Path) -> None:
    """Flat UI colours fit a 64-colour palette: files a few times smaller, same look."""
    from PIL import Image  # noqa: PLC0415

    for path in folder.glob("*.png"):
        with Image.open(path) as image:
            small = image.convert("RGB").quantize(colors=64)
        small.save(path, optimize=True)


if __name__ == "__main__":
    sys.exit(main())
