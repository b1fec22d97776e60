"""Draws the counter console with a busy morning's queue and saves PNGs (console, pickers).

    .venv/bin/python scripts/counter_console_screenshot.py [docs/screenshots/counter-console.png]

Runs everything it needs itself: its own Xvfb screen, Mosquitto, and queue
service (the example office, its clock at Thursday 09:00 WIB), then counter 2
(services A and B; B uses blank cards, whose stock is low) calls a number,
and the window is read back from the
framebuffer. The test suite runs it too (tests/counter/test_console.py).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from antrean_testing.devbroker import DevBroker  # noqa: E402 - after the path
from antrean_testing.xvfb import VirtualScreen  # noqa: E402

SIZE = (800, 480)


def main(out: Path) -> int:
    with (
        VirtualScreen(*SIZE) as screen,
        DevBroker() as broker,
        tempfile.TemporaryDirectory() as tmp,
    ):
        os.environ["DISPLAY"] = screen.display
        os.environ.pop("WAYLAND_DISPLAY", None)
        os.environ.update(
            KIVY_NO_ARGS="1",
            KIVY_NO_FILELOG="1",
            KIVY_NO_CONSOLELOG="1",
            KIVY_LOG_MODE="PYTHON",  # leave stdout and stderr alone
            KIVY_HOME=tempfile.mkdtemp(prefix="antrean-kivy-home-", dir=tmp),
            SDL_AUDIODRIVER="dummy",
        )
        from counter.console import CounterConsoleApp  # noqa: PLC0415 - Kivy after the env
        from counter.settings import counter_inputs  # noqa: PLC0415
        from counter.station import CounterStation  # noqa: PLC0415
        from tests.support.helpers import FakeClock, Office, example_config  # noqa: PLC0415
        from tests.support.kivy_harness import pump, pump_until, screenshot, start_app  # noqa: PLC0415

        config = example_config(Path(tmp), broker.port, cards=True)
        office = Office(config, FakeClock()).start()
        # Blank cards for printing (B): 60 delivered, 14 spoiled today, so the stock
        # line shows its warning (under 50 available) and the days left at 1 a day.
        office.ok("admin", "stock_receive", count=60, note="SJ-0412/XI/2026")
        office.ok("admin", "stock_spoil", count=14, reason="Cetak gagal / printer macet")
        for service in "AAABABAABB":
            office.ok("kiosk-1", "issue", service=service)
        office.ok("kiosk-1", "issue", service="A", priority=True)
        office.ok("counter-2", "call_next")
        office.ok("counter-2", "recall")
        # An elderly resident waits with a priority ticket: the count staff need most.
        office.ok("kiosk-1", "issue", service="A", priority=True)
        station = CounterStation(config, counter_inputs(config, 2), "counter-2").start()
        try:
            deadline = time.monotonic() + 10
            while not station.agent.online:
                if time.monotonic() > deadline:
                    raise RuntimeError("the queue service never came online")
                time.sleep(0.05)
            app = start_app(CounterConsoleApp(station.agent, config), size=SIZE)
            app.act("call_next", "Memanggil")
            pump_until(lambda: app.view.message.startswith("Nomor"), what="a number called")
            pump_until(lambda: len(app.view.waiting_lines) == 2, what="waiting counts")
            pump(0.3)
            screenshot(out)
            pickers(app, out, pump, screenshot)
            app.dispatch("on_stop")
        finally:
            station.stop()
            office.close()
    print(out)  # noqa: T201 - a script that says where its picture is
    return 0


def pickers(app: Any, out: Path, pump: Any, screenshot: Any) -> None:
    """The pickers, each in a picture beside the main one."""

    def shot(name: str) -> None:
        pump(0.5)  # the popup's opening animation
        screenshot(out.with_name(f"{out.stem}-{name}.png"))

    app.open_transfer()
    shot("transfer")
    app.open_call_number()
    for key in "B12":
        app._type(key)
    shot("call-number")
    app._close_popup()
    app.complete()  # A001 is a recording: Selesai asks for the kelurahan
    shot("kelurahan")
    app.open_spoil()
    shot("spoil")


if __name__ == "__main__":
    target = (
        Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs/screenshots/counter-console.png"
    )
    sys.exit(main(target))
