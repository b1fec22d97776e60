"""Screenshots of the kiosk for docs/screenshots: `python -m kiosk.screenshots --out DIR`.

Runs the real app against a real Mosquitto and queue service, with the
simulated printer, the way a unit runs it: full screen (the kiosk's own
command-line set-up) on a private Xvfb of each screen's size, without a
window manager, and each picture is grabbed from the X screen itself. Home,
Done, Trouble, the question before a second ticket, the keypads (booking
code, NIK, the NIK's last four) and the mobile unit's schedule (Home with
"Jadwal keliling" and its screen; the visits are planned last) at every size in SIZES,
Home in English, and the PNG previews of a ticket (80 and 58 mm) drawn from
the bytes. One process per screen size (Kivy has one window per process). Run
it from the repository root (it drives Kivy with tests/support/kivy_harness.py, the
same helpers the tests use).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PIL import ImageGrab

from antrean_testing.xvfb import VirtualScreen

# The 7" Pi touchscreen, 7" HDMI panels, 10" panels, the Pi Touch Display 2
# (portrait) and a floor-standing 1080p totem.
SIZES = ((800, 480), (1024, 600), (1280, 800), (720, 1280), (1080, 1920))
# Thursday 2026-11-26, 09:00 WIB: inside the example office's hours.
MORNING = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
SERVICE_D_HOURS = 'name_en = "Certificates and moving"\n'
# The office takes bookings of A, so Home offers "Sudah mendaftar?" (issue 12).
BOOKING = '[booking]\nsecret_file = "booking.secret"\ncapacity = { A = 15 }\n\n[kiosk]\n'
# The mobile unit's coming visits (issue 13), planned after the other screens are taken,
# so Home has its "Jadwal keliling" button only in kiosk-schedule-home-*.png.
MOBILE = '\n[mobile]\nunits = { "keliling-1" = "K" }\n'
VISITS = (
    {"day": "2026-12-05", "start": "08:00", "end": "12:00", "place": "Melati",
     "kind": "posyandu", "kelurahan": "Bendan Ngisor"},
    {"day": "2026-11-28", "start": "09:00", "end": "13:00", "place": "Sumber Rejeki",
     "kind": "pkk", "kelurahan": "Lempongsari"},
    {"day": "2026-12-08", "start": "13:00", "end": "16:00", "place": "Lempongsari",
     "kind": "balai_desa", "kelurahan": "Lempongsari", "desa": True,
     "services": ["Perekaman KTP-el", "Kartu Identitas Anak"]},
)  # fmt: skip


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
    parser.add_argument("--size", help="only this screen, WIDTHxHEIGHT (one process each)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.size is None:
        for w, h in SIZES:
            one = [
                sys.executable,
                "-m",
                "kiosk.screenshots",
                "--out",
                str(out),
                "--size",
                f"{w}x{h}",
            ]
            subprocess.run(one, check=True, timeout=300)
        shrink(out)
        return 0
    width, _, height = args.size.partition("x")
    size = (int(width), int(height))
    with VirtualScreen(*size) as screen:
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
        os.environ.pop("SDL_VIDEODRIVER", None)
        from kiosk.cli import configure_kivy  # noqa: PLC0415 - after the display is set

        configure_kivy(None)  # full screen, as `antrean kiosk` on a unit
        take_screenshots(out, size, screen.display)
    return 0


def take_screenshots(out: Path, size: tuple[int, int], display: str) -> None:
    import logging  # noqa: PLC0415

    from antrean.config import parse_config  # noqa: PLC0415
    from antrean.runner import QueueServiceRunner  # noqa: PLC0415
    from antrean_testing.client import QueueClient  # noqa: PLC0415 - after the display is set
    from antrean_testing.devbroker import DevBroker  # noqa: PLC0415

    logging.basicConfig(level=logging.INFO)
    root = Path(__file__).resolve().parent.parent
    work = Path(tempfile.mkdtemp(prefix="antrean-shots-"))
    clock = SteppingClock()
    with DevBroker() as broker:
        text = (root / "antrean.example.toml").read_text(encoding="utf-8")
        text = text.replace("port = 1883", f"port = {broker.port}")
        # Service D opens later, so Home shows a service waiting for its hours.
        later = SERVICE_D_HOURS + 'hours = { mon-fri = "10:00-14:00" }\n'
        text = text.replace(SERVICE_D_HOURS, later).replace("[kiosk]\n", BOOKING, 1)
        config = parse_config(text + MOBILE, "shots.toml", work)
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

            def plan_visits() -> None:
                for visit in VISITS:
                    admin.request("visit_plan", {"unit": "keliling-1", **visit})

            drive_app(config, clock, work, out, size, display, plan_visits)
        finally:
            admin.stop()
            runner.stop()
    shutil.rmtree(work, ignore_errors=True)


def take_again(app: Any, service: str) -> None:
    """A tap on a service; the question a second ticket soon after brings is answered Ya."""
    from tests.support.kivy_harness import pump_until, tap  # noqa: PLC0415

    tap(app.home.service_buttons[service])
    pump_until(lambda: app.screens.current == "message", 10, "a screen after the tap")
    if "yes" in app.message.buttons:
        app.message.buttons["yes"].dispatch("on_release")


def drive_app(  # noqa: PLR0915 - one screen size, its screens in the order they are taken
    config: Any,
    clock: SteppingClock,
    work: Path,
    out: Path,
    size: tuple[int, int],
    display: str,
    plan_visits: Any,
) -> None:
    """Home, a ticket (Done), a ticket that fails half-way (Trouble), on this screen."""
    from kiosk.app import KioskApp  # noqa: PLC0415
    from kiosk.printer.escpos_decode import save_preview  # noqa: PLC0415
    from kiosk.printer.sim import SimPrinter  # noqa: PLC0415
    from kiosk.settings import kiosk_settings  # noqa: PLC0415
    from kiosk.ticket import ticket_bytes  # noqa: PLC0415
    from tests.support.kivy_harness import pump, pump_until, start_app, stop_app, tap  # noqa: PLC0415

    def grab(name: str) -> None:
        """What the X screen shows (not the app's own framebuffer): a cut-off window shows."""
        pump(0.3, frames=3)
        ImageGrab.grab(xdisplay=display).convert("RGB").save(out / f"{name}-{w}x{h}.png")

    w, h = size
    printer = SimPrinter(80, work / "tickets")
    app = KioskApp(config, kiosk_settings(config), printer=printer, now=clock)
    start_app(app)
    try:
        pump_until(lambda: not app.home.service_buttons["A"].disabled, 15, "home ready")
        grab("home")
        clock.step(1)
        take_again(app, "A")
        pump_until(lambda: "take" in app.message.labels, 10, "Done")
        grab("done")
        app.go_home()
        pump(0.9)
        printer.set_faults(fail_mid=1)
        take_again(app, "C")
        pump_until(lambda: "reprint" in app.message.buttons, 10, "Trouble")
        grab("trouble")
        app.go_home()
        pump(0.9)
        tap(app.home.service_buttons["A"])
        pump_until(lambda: "yes" in app.message.buttons, 10, "the question")
        grab("again")
        app.go_home()
        pump(0.9)
        code_screens(app, grab, english=size == SIZES[0])
        nik_screens(app, grab)
        if size == SIZES[0]:
            app.toggle_language()
            grab("home-en")
            app.toggle_language()  # back to Bahasa Indonesia
        plan_visits()
        pump_until(lambda: len(app.coming_visits()) == len(VISITS), 10, "the visits")
        pump_until(lambda: app.home.schedule_button is not None, 10, "Jadwal keliling")
        grab("kiosk-schedule-home")
        pump(0.9)
        tap(app.home.schedule_button)
        pump_until(lambda: app.screens.current == "schedule", 10, "the schedule")
        grab("kiosk-schedule")
        if size == SIZES[0]:
            app.go_home()
            app.toggle_language()
            pump(0.9)
            tap(app.home.schedule_button)
            pump_until(lambda: app.screens.current == "schedule", 10, "the schedule")
            grab("kiosk-schedule-en")
            app.toggle_language()
        app.go_home()
        pump(0.9)
    finally:
        stop_app(app)
    if size == SIZES[0]:
        save_preview(printer.complete_jobs()[0].data, out / "ticket-80mm.png", 80)
        last = app.controller.last if app.controller else None
        if last is not None:
            save_preview(ticket_bytes(last, 58), out / "ticket-58mm.png", 58)
        slip_preview(out)


def slip_preview(out: Path) -> None:
    """A booking slip from the thermal printer (`antrean booking slip`), with a made-up resident."""
    from kiosk.printer.escpos_decode import save_preview  # noqa: PLC0415
    from kiosk.slip import SAMPLE, slip_bytes  # noqa: PLC0415

    save_preview(slip_bytes(SAMPLE, 80), out / "booking-slip-80mm.png", 80)


def code_screens(app: Any, grab: Any, english: bool) -> None:
    """The booking code screen: a code half typed, then a mistyped one as the service refuses it."""
    from tests.support.kivy_harness import pump, pump_until, tap  # noqa: PLC0415

    for lang in ("id", "en") if english else ("id",):
        if lang == "en":
            app.toggle_language()
            pump(0.3)
        tap(app.home.booking_button)
        pump_until(lambda: app.screens.current == "code", 10, "the code screen")
        for digit in "48213":
            tap(app.code.keys[digit])
        if lang == "id":
            grab("code")
        for digit in "371":  # a check digit that does not match
            tap(app.code.keys[digit])
        tap(app.code.keys["ok"])
        refused = "salah ketik" if lang == "id" else "typing error"

        def shown(words: str = refused) -> bool:
            return words in app.code.note.text

        pump_until(shown, 10, "the refusal")
        grab("code-refused" if lang == "id" else "code-refused-en")
        app.go_home()
        pump(0.9)
        if lang == "en":
            app.toggle_language()
            pump(0.3)


# A made-up NIK of Kota Semarang whose month (digits 9-10) is 13: the kiosk refuses it itself.
IMPOSSIBLE_NIK = "3374015213900602"


def nik_screens(app: Any, grab: Any) -> None:
    """The NIK keypad (`nik_per_day`) half typed and refused, and the last-four keypad.

    Opened the way the app opens them (a service that asks the NIK, a good
    code where the office asks its last four), without changing the example
    office: its Done and Trouble screens stay one tap.
    """
    from tests.support.kivy_harness import pump, pump_until, tap  # noqa: PLC0415

    app._ask_nik("A", False)
    pump_until(lambda: app.screens.current == "nik", 10, "the NIK keypad")
    for digit in IMPOSSIBLE_NIK[:10]:
        tap(app.nik.keys[digit])
    grab("nik")
    for digit in IMPOSSIBLE_NIK[10:]:
        tap(app.nik.keys[digit])
    tap(app.nik.keys["ok"])
    pump_until(lambda: "01-12" in app.nik.note.text, 10, "the refusal")
    grab("nik-refused")
    app.go_home()
    pump(0.9)
    app._open_pad(app.last4)
    pump_until(lambda: app.screens.current == "last4", 10, "the last-four keypad")
    pump(0.3)  # laid out: the first tap lands on its key
    for digit in "06":
        tap(app.last4.keys[digit])
    grab("last4")
    app.go_home()
    pump(0.9)


def shrink(folder: Path) -> None:
    """Flat UI colours fit a 64-colour palette: files a few times smaller, same look."""
    from PIL import Image  # noqa: PLC0415

    for path in folder.glob("*.png"):
        with Image.open(path) as image:
            small = image.convert("RGB").quantize(colors=64)
        small.save(path, optimize=True)


if __name__ == "__main__":
    sys.exit(main())
