"""The whole office end to end: kiosk tap, ticket, counter button, board call and voice.

Real parts throughout: one Mosquitto, the queue service and its SQLite store,
the kiosk app in a Kivy window touched through Kivy's touch events with the
simulated printer, the counter agent with gpiozero mock buttons, and the
board app with its voice (espeak-ng clips, a recording player). Kivy has one
window per process, so the kiosk's screen is closed before the board's opens;
both are the real apps on the same broker, and the board starts from the
retained state like a board switched on mid-morning.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory

from antrean.store import Store
from antrean_testing.devbroker import DevBroker
from counter.settings import counter_inputs
from counter.station import CounterStation
from display_board.voice.clips import ClipLibrary
from display_board.voice.player import RecordingPlayer
from kiosk.app import KioskApp
from kiosk.printer.escpos_decode import decode
from kiosk.printer.sim import SimPrinter
from kiosk.settings import kiosk_settings
from tests.support.board import make_board
from tests.support.counter_helpers import Recorder, counter_config, wait
from tests.support.helpers import FakeClock, Office
from tests.support.kivy_harness import pump, pump_until, start_app, stop_app, tap
from tests.support.mqtt_watch import Watcher

NEXT, COMPLETE = 17, 23  # counter 1's buttons in tests/counter_helpers.INPUTS_1
A001_CALL = (
    "chime", "nomor-antrean", "huruf-a", "satu", "silakan-menuju-loket", "satu",
)  # fmt: skip


@pytest.fixture
def office(tmp_path: Path, broker: DevBroker, clock: FakeClock) -> Iterator[Office]:
    o = Office(counter_config(tmp_path, broker.port), clock).start()
    yield o
    o.close()


@pytest.fixture
def retained(office: Office) -> Iterator[Watcher]:
    watch = Watcher(office.config.broker, "antrean/v1/gajahmungkur/#").start()
    yield watch
    watch.stop()


def press(factory: MockFactory, pin: int) -> None:
    factory.pin(pin).drive_low()
    time.sleep(0.02)
    factory.pin(pin).drive_high()


def test_a_resident_is_served_from_kiosk_tap_to_completion(
    office: Office,
    clock: FakeClock,
    tmp_path: Path,
    library: ClipLibrary,
    retained: Watcher,
) -> None:
    config = office.config
    # 1. A resident taps "Perekaman KTP-el" on the kiosk and takes the ticket.
    printer = SimPrinter(80, tmp_path / "tickets")
    kiosk = start_app(KioskApp(config, kiosk_settings(config), printer=printer, now=clock))
    try:
        buttons = kiosk.home.service_buttons
        pump_until(lambda: "A" in buttons and not buttons["A"].disabled, 15, "kiosk ready")
        tap(buttons["A"])
        pump_until(lambda: "take" in kiosk.message.labels, 10, "the Done screen")
        assert kiosk.message.labels["number"].text == "[b]A001[/b]"
    finally:
        stop_app(kiosk)
    job = printer.last
    assert job is not None
    assert job.complete
    printed = decode(job.data)
    assert "A001" in printed.lines
    assert "Perekaman KTP-el" in printed.lines
    assert printed.qr_codes == ["2026-11-26/A001"]
    assert printed.cut

    # 2. The TV board is on and shows one person waiting for A.
    player = RecordingPlayer(speed=0.05)
    board = start_app(make_board(config, library, player), size=(1920, 1080))
    factory = MockFactory()
    station = CounterStation(config, counter_inputs(config, 1), "counter-1", pin_factory=factory)
    recorder = Recorder()
    station.agent.feedback.append(recorder)
    try:
        pump_until(lambda: board.link.queue_online, 10, "the board online")
        pump_until(lambda: waiting_on_board(board, "A") == "1 menunggu", 10, "A waiting on TV")

        # 3. Loket 1 presses its "next" button: the board shows and speaks the call.
        station.start()
        wait(lambda: station.agent.online, 10, "the counter online")
        clock.advance(minutes=4)
        press(factory, NEXT)
        assert recorder.wait_count(1)[0].ticket == "A001"
        pump_until(lambda: board.screen.call_code == "A001", 10, "A001 on the board")
        assert board.screen.call_counter == "LOKET 1"
        pump_until(lambda: len(player.played) == 1, 10, "the announcement")
        assert player.played[0].clips == A001_CALL
        assert player.played[0].text == "Nomor antrean, A, satu, silakan menuju loket, satu"
        assert waiting_on_board(board, "A") == "0 menunggu"

        # 4. The resident is served; loket 1 presses "complete".
        clock.advance(minutes=6)
        time.sleep(0.1)  # past the agent's busy gate and the button's debounce
        press(factory, COMPLETE)
        outcomes = recorder.wait_count(2)
        assert [o.ok for o in outcomes] == [True, True]
        pump_until(lambda: counter_on_board(board, 1) == "-", 10, "loket 1 free on the board")
        pump(frames=3)
    finally:
        station.stop()
        stop_app(board)

    # 5. The store and the retained state agree.
    retained.wait_for(lambda t, b: t.endswith("/state/counter/1") and b["current"] is None)
    office.stop()
    store = Store(config.store_path)
    try:
        tickets = store.tickets_of_day(clock().date())
    finally:
        store.close()
    assert [(t.code, t.status.value, t.counter) for t in tickets] == [("A001", "served", 1)]
    served = tickets[0]
    state = latest_states(retained)
    assert state["service/A"]["waiting"] == 0
    assert state["service/A"]["last_issued"] == "A001"
    assert state["counter/1"]["current"] is None
    assert state["counter/1"]["open"] is True
    assert [c["code"] for c in state["calls"]["calls"]] == ["A001"]
    # Four events, and the office state knows them all.
    kinds = [e["kind"] for e in retained.events()]
    assert kinds == ["issued", "counter_opened", "called", "served"]
    assert state["office"]["seq"] == max_seq(retained) == 4
    assert (served.finished_at - served.called_at).total_seconds() == 6 * 60


def waiting_on_board(board: Any, code: str) -> str | None:
    for tile in board.screen.ids.services.children:
        if tile.code == code:
            return str(tile.figure)
    return None


def counter_on_board(board: Any, number: int) -> str:
    tiles = list(reversed(board.screen.ids.counters.children))
    return str(tiles[number - 1].serving)


def latest_states(watch: Watcher) -> dict[str, dict[str, Any]]:
    prefix = "antrean/v1/gajahmungkur/state/"
    found: dict[str, dict[str, Any]] = {}
    for topic in ("service/A", "counter/1", "calls", "office"):
        body = watch.latest(prefix + topic)
        assert body is not None, topic
        found[topic] = body
    return found


def max_seq(watch: Watcher) -> int:
    return max(e["seq"] for e in watch.events()) if watch.events() else 0
