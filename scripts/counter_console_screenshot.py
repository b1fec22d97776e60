"""Draws the counter console with a busy morning's queue and saves PNGs (console, pickers).

    .venv/bin/python scripts/counter_console_screenshot.py [docs/screenshots/counter-console.png]
    .venv/bin/python scripts/counter_console_screenshot.py --unit [docs/screenshots]

With `--unit` the queue service is a mobile unit (keliling-1, codes K...)
at a posyandu visit it has opened, and the console is drawn at 800x480 and
1024x600 as unit-console-WxH.png in the folder (docs/mobile-unit.md).

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
UNIT_SIZES = (SIZE, (1024, 600))  # the 7-inch touchscreen and the common 1024x600 panel


def main(out: Path, unit: bool = False) -> int:
    """The console's pictures at `out` (with --unit: the unit's, in the folder `out`)."""
    with (
        VirtualScreen(*(UNIT_SIZES[-1] if unit else SIZE)) as screen,
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
        from antrean.config import parse_config  # noqa: PLC0415
        from counter.console import CounterConsoleApp  # noqa: PLC0415 - Kivy after the env
        from counter.settings import counter_inputs  # noqa: PLC0415
        from counter.station import CounterStation  # noqa: PLC0415
        from tests.service.test_visits import UNIT  # noqa: PLC0415
        from tests.support.helpers import FakeClock, Office, example_text  # noqa: PLC0415
        from tests.support.kivy_harness import (  # noqa: PLC0415
            pump,
            pump_until,
            screenshot,
            set_window_size,
            start_app,
        )

        text = example_text(broker.port, cards=True) + (UNIT if unit else "")
        config = parse_config(text, source="console.toml", base_dir=Path(tmp))
        clock = FakeClock()  # Thursday 09:00 WIB
        office = Office(config, clock).start()
        if unit:
            open_visit(office, clock)
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
            if unit:
                for width, height in UNIT_SIZES:
                    set_window_size(width, height)
                    pump(0.3)
                    screenshot(out / f"unit-console-{width}x{height}.png")
            else:
                screenshot(out)
                pickers(app, out, pump, screenshot)
            app.dispatch("on_stop")
        finally:
            station.stop()
            office.close()
    print(out)  # noqa: T201 - a script that says where its picture is
    return 0


def open_visit(office: Any, clock: Any) -> None:
    """The unit's posyandu visit of the morning (08.00-12.00): it opens by itself in its hours."""
    from tests.service.test_visits import MELATI  # noqa: PLC0415

    visit = {**MELATI, "id": "posyandu-melati", "day": str(clock().date())}
    office.ok("admin", "visit_plan", **visit)
    if office.ok("admin", "snapshot")["visits"]["open"] != visit["id"]:
        raise RuntimeError("the visit did not open")


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
    args = sys.argv[1:]
    unit = args[:1] == ["--unit"]
    args = args[1:] if unit else args
    default = ROOT / ("docs/screenshots" if unit else "docs/screenshots/counter-console.png")
    sys.exit(main(Path(args[0]) if args else default, unit))
