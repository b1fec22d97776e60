"""The counter console at the screen sizes it runs on: no text staff need is cut.

A priority ticket waiting, a recalled priority ticket being served, the
blank-card stock line at its longest (a warning and the days left), a
mobile unit's visit band (a long place), the
pickers (transfer, call a number, the kelurahan at a recording's completion,
a spoiled card's reason) and the longest messages, against a real Mosquitto
and queue service.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kivy.uix.label import Label

from antrean_testing.devbroker import DevBroker
from counter.console import CounterConsoleApp
from counter.settings import counter_inputs
from counter.station import CounterStation
from tests.support.counter_helpers import counter_config, wait
from tests.support.helpers import FakeClock, Office
from tests.support.kivy_harness import pump, pump_until, set_window_size, start_app, stop_app
from tests.support.layout_check import cut_text

# The 7" Pi touchscreen, 7" HDMI panels, a 10" panel.
CONSOLE_SIZES = [(800, 480), (1024, 600), (1280, 800)]


@pytest.fixture
def console(tmp_path: Path, broker: DevBroker, clock: FakeClock) -> Iterator[CounterConsoleApp]:
    office = Office(counter_config(tmp_path, broker.port, "", cards=True), clock).start()
    office.ok("admin", "stock_receive", count=60, note="SJ-1")
    office.ok("admin", "stock_spoil", count=9, reason="hitung")  # 50 left (B): a warning
    for service, priority in [("A", True), ("A", False), ("B", False), ("A", True)]:
        office.ok("kiosk-1", "issue", service=service, priority=priority)
    office.ok("counter-2", "call_next")  # the first priority ticket
    office.ok("counter-2", "recall")
    station = CounterStation(office.config, counter_inputs(office.config, 2), "counter-2").start()
    wait(lambda: station.agent.online, what="the queue service online")
    app = start_app(CounterConsoleApp(station.agent, office.config), size=CONSOLE_SIZES[0])
    try:
        pump_until(lambda: len(app.view.waiting_lines) == 2, what="the waiting counts")
        pump_until(lambda: "prioritas" in app.root.ids.detail.text, what="the recalled ticket")
        pump_until(lambda: "menipis" in app.view.stock_text, what="the stock's warning")
        yield app
    finally:
        stop_app(app)
        station.stop()
        office.close()
        set_window_size(800, 480)


def service_name(label: Label) -> bool:
    """A service's name may end in "..." when the column is narrow; its figures may not."""
    return type(label).__name__ == "WaitingName"


@pytest.mark.parametrize("size", CONSOLE_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_no_console_screen_cuts_the_numbers_staff_need(
    console: CounterConsoleApp, size: tuple[int, int]
) -> None:
    set_window_size(*size)
    where = f"{size[0]}x{size[1]}"
    assert "1 prioritas" in console.view.waiting_lines[0]
    problems = cut_text(console.root, f"{where} console", service_name)
    console.view.message = "Tidak terhubung ke server antrean: perintah tidak dikirim."
    console.refresh()
    problems += cut_text(console.root, f"{where} a long message")
    # The longest stock line: big numbers with a warning (a high [stock] warning).
    wide = {"available": 1999, "balance": 12999, "days_left": 365, "warning": True, "out": False}
    console.view.stock = {**(console.view.stock or {}), **wide}
    console.refresh()
    assert "[b]1999[/b] tersedia  ·  [b]menipis[/b]\n12999 stok  ·  cukup 365 hari" in (
        console.root.ids.stock.text
    )
    problems += cut_text(console.root, f"{where} a long stock line")
    # On a mobile unit: the band of its open visit, a long place's (state/visits's shape).
    console.view.visit = {
        "id": "v", "unit": "keliling-1", "day": "2026-11-26", "start": "08:00", "end": "12:00",
        "place": "Sumberejo Kidul", "kind": "balai_desa", "kelurahan": "Sumberejo Kidul",
        "desa": True, "status": "open",
    }  # fmt: skip
    console.refresh()
    problems += cut_text(console.root, f"{where} a visit's band")
    console.view.visit = None
    console.refresh()
    console.open_transfer()
    pump(0.5)  # the popup's opening animation
    problems += cut_text(console.popup, f"{where} transfer picker")
    console.open_call_number()
    for key in "B12":
        console._type(key)
    pump(0.5)
    problems += cut_text(console.popup, f"{where} call-a-number pad")
    console.complete()  # the recalled ticket is a recording (A)
    pump(0.5)
    problems += cut_text(console.popup, f"{where} kelurahan picker")
    console.open_spoil()
    pump(0.5)
    problems += cut_text(console.popup, f"{where} spoiled-card reasons")
    console._close_popup()
    assert not problems, "\n".join(problems)
