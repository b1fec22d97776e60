"""The board under Xvfb against a real Mosquitto and queue service: shown, spoken, resynced."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from antrean.config import Config
from antrean.mqtt import MqttClient
from antrean_testing.devbroker import DevBroker
from display_board.voice.clips import ClipLibrary
from display_board.voice.player import RecordingPlayer
from display_board.voice.players.aplay import aplay
from tests.support.board import make_board, wav_seconds
from tests.support.helpers import Office
from tests.support.kivy_harness import (
    find,
    find_text,
    pump,
    pump_until,
    screenshot,
    set_window_size,
    start_app,
    stop_app,
)
from tests.support.mqtt_watch import Watcher

EVENTS = "antrean/v1/gajahmungkur/event"
A012_SEQUENCE = (
    "chime", "nomor-antrean", "huruf-a", "dua", "belas", "silakan-menuju-loket", "tiga",
)  # fmt: skip
AMBER = (255, 186, 0)


@pytest.fixture
def player() -> RecordingPlayer:
    return RecordingPlayer(speed=0.05)


@pytest.fixture
def board(config: Config, office: Office, library: ClipLibrary, player: RecordingPlayer):
    app = start_app(make_board(config, library, player), size=(1920, 1080))
    try:
        pump_until(lambda: app.link.queue_online and app.model.last_seq is not None, 10, "link")
        pump_until(lambda: app.screen.office_name == "Kecamatan Gajahmungkur", 5, "office")
        yield app
    finally:
        stop_app(app)


def counter_tile(app, number: int):
    tiles = list(reversed(app.screen.ids.counters.children))
    return tiles[number - 1]


def recent_codes(app) -> list[str]:
    return [row.code for row in reversed(app.screen.ids.recent.children)]


def issue(office: Office, service: str, count: int) -> None:
    for _ in range(count):
        office.ok("kiosk-1", "issue", service=service)


def test_a_counter_call_is_shown_big_and_spoken_as_clips(
    board, office: Office, player: RecordingPlayer, tmp_path: Path
) -> None:
    issue(office, "A", 12)
    office.ok("counter-1", "call_ticket", code="A011")
    office.ok("counter-2", "call_ticket", code="A012")
    pump_until(lambda: board.screen.call_code == "A012", 5, "A012 on screen")
    assert board.screen.call_counter == "LOKET 2"
    assert board.screen.call_title == "NOMOR ANTREAN"
    assert board.screen.highlighted
    assert counter_tile(board, 2).serving == "A012"
    assert find_text(board.root, "A011"), "the previous call is in the recent list"
    pump_until(lambda: len(player.played) == 2, 10, "two announcements")
    last = player.played[-1]
    assert last.clips == (*A012_SEQUENCE[:-1], "dua")
    assert last.text == "Nomor antrean, A, dua belas, silakan menuju loket, dua"
    # Screenshot: the current-call panel glows amber while the call is new.
    png = screenshot(tmp_path / "board.png")
    with Image.open(png) as image:
        assert image.size == (1920, 1080)
        panel = board.screen.ids.current_panel
        x, y = int(panel.x + 20), int(1080 - panel.top + 40)
        assert image.convert("RGB").getpixel((x, y)) == AMBER
    wav = player.write_wav(tmp_path / "calls.wav")
    seconds = wav_seconds(wav)
    assert 2 * 4.0 < seconds < 2 * 10.0, seconds


def test_a_burst_of_five_calls_is_five_announcements_in_order_without_overlap(
    board, office: Office, player: RecordingPlayer
) -> None:
    issue(office, "C", 3)
    issue(office, "A", 2)
    shown: list[str] = []
    board.on_screen_update = lambda call: shown.append(call.code)
    codes = [
        office.ok(device, "call_next")["ticket"]["code"]
        for device in ("counter-4", "counter-1", "counter-3", "counter-2", "counter-4")
    ]
    assert codes == ["C001", "A001", "C002", "A002", "C003"]
    pump_until(lambda: len(player.played) == 5, 15, "five announcements")
    spoken = [p.text for p in player.played]
    assert spoken == [
        "Nomor antrean, C, satu, silakan menuju loket, empat",
        "Nomor antrean, A, satu, silakan menuju loket, satu",
        "Nomor antrean, C, dua, silakan menuju loket, tiga",
        "Nomor antrean, A, dua, silakan menuju loket, dua",
        "Nomor antrean, C, tiga, silakan menuju loket, empat",
    ]
    assert player.most_at_once == 1
    for before, after in zip(player.played, player.played[1:], strict=False):
        assert after.started >= before.ended, "two announcements overlapped"
    # The big panel showed each call while it was spoken, in the same order.
    pump_until(lambda: shown == codes, 5, "each call in the big panel")
    # Meanwhile the counters and the recent list had every call at once.
    assert [counter_tile(board, n).serving for n in (1, 2, 3, 4)] == [
        "A001", "A002", "C002", "C003",
    ]  # fmt: skip
    assert recent_codes(board)[:4] == ["A002", "C002", "A001", "C001"]


def test_a_restart_does_not_announce_the_retained_calls_again(
    config: Config, office: Office, library: ClipLibrary
) -> None:
    issue(office, "A", 3)
    for _ in range(3):
        office.ok("counter-1", "call_next")
    player = RecordingPlayer(speed=0.05)
    app = start_app(make_board(config, library, player), size=(1366, 768))
    try:
        pump_until(lambda: app.screen.call_code == "A003", 10, "the retained last call")
        assert not app.screen.highlighted, "a call from the history is not new"
        assert recent_codes(app) == ["A002", "A001"]
        pump(seconds=1.0)
        assert player.played == []
        office.ok("counter-1", "recall")
        pump_until(lambda: len(player.played) == 1, 10, "the live recall")
        assert player.played[0].clips[:3] == ("chime", "panggilan-ulang", "nomor-antrean")
        assert app.screen.call_title == "PANGGILAN ULANG"
        assert app.screen.highlighted
    finally:
        stop_app(app)


def test_a_broker_restart_keeps_the_last_data_shows_offline_and_resyncs(
    board, office: Office, broker: DevBroker, player: RecordingPlayer
) -> None:
    issue(office, "D", 2)
    office.ok("counter-4", "call_next")
    pump_until(lambda: board.screen.call_code == "D001", 5, "D001")
    broker.stop()
    pump_until(lambda: board.screen.offline_text == "OFFLINE", 10, "the offline mark")
    assert board.screen.call_code == "D001"  # the last good data stays
    assert counter_tile(board, 4).serving == "D001"
    broker.start()  # same port, empty: no retained messages survive
    pump_until(lambda: board.screen.offline_text == "", 20, "back online")
    assert office.runner is not None
    assert office.runner.mqtt.wait_connected(10)
    office.ok("counter-4", "call_next")
    pump_until(lambda: board.screen.call_code == "D002", 10, "a call after the restart")
    pump_until(lambda: len(player.played) == 2, 10, "its announcement")
    assert [p.text.split(", ")[2] for p in player.played] == ["satu", "dua"]
    assert board.model.last_seq == office.runner.service.engine.seq


def test_a_gap_in_seq_resyncs_the_board_from_the_retained_state(
    board, office: Office, config: Config, player: RecordingPlayer
) -> None:
    issue(office, "A", 2)
    office.ok("counter-1", "call_next")
    pump_until(lambda: len(player.played) == 1, 10, "A001 spoken")
    real_seq = board.model.last_seq
    # A test client publishes a call with skipped seqs, as if events were lost (far
    # ahead, so that its seq is not one the service will use during this test).
    fake = MqttClient("test-gap", config.broker)
    fake.start()
    assert fake.wait_connected(10)
    ticket = {"code": "A077", "service": "A", "number": 77, "status": "called"}
    fake.publish(f"{EVENTS}/called", {"seq": real_seq + 100, "kind": "called", "ticket": ticket,
                                      "counter": 2, "counter_name": "Loket 2"})  # fmt: skip
    fake.stop()
    pump_until(lambda: board.model.resyncs == 1, 5, "the gap noticed")
    # The retained state replaces what the lost events would have changed.
    pump_until(lambda: board.model.last_seq == real_seq, 5, "seq taken from state/office")
    pump_until(lambda: "A077" not in recent_codes(board), 5, "the history from state/calls")
    assert counter_tile(board, 2).serving == "TUTUP"  # counter 2 never opened today
    # Once A077 has been spoken, the big panel goes back to the real last call.
    pump_until(lambda: board.screen.call_code == "A001", 5, "A001 back in the big panel")
    # The next real event (seq real_seq + 1) is shown and spoken normally.
    office.ok("counter-1", "call_next")
    pump_until(lambda: board.screen.call_code == "A002", 5, "A002")
    pump_until(lambda: len(player.played) == 3, 10, "A002 spoken")
    assert player.played[-1].text.startswith("Nomor antrean, A, dua,")


@pytest.mark.parametrize("size", [(1920, 1080), (1366, 768)])
def test_everything_fits_on_both_tv_sizes(
    board, office: Office, tmp_path: Path, size: tuple[int, int]
) -> None:
    issue(office, "C", 1000)  # C has no quota: the longest code there is, C1000
    # The screenshot below checks the amber of a new call: keep it however slow this machine is.
    board.settings = dataclasses.replace(board.settings, highlight_s=600)
    office.ok("admin", "call_ticket", counter=4, code="C1000")
    set_window_size(*size)
    pump_until(lambda: board.screen.call_code == "C1000", 5, "C1000")
    pump(seconds=0.3)
    code = board.screen.ids.call_code
    assert code.texture_size[0] <= code.width, "the call number is cut off"
    counter = board.screen.ids.call_counter
    assert counter.right <= board.screen.ids.current_panel.right
    tile = counter_tile(board, 4)
    assert tile.serving == "C1000"
    for label in find(tile, lambda w: getattr(w, "text", "") == "C1000"):
        assert label.texture_size[0] <= label.width, "the counter tile cuts the number"
    with Image.open(screenshot(tmp_path / "fit.png")) as image:
        assert image.size == size
        rgb = image.convert("RGB")
        panel = board.screen.ids.current_panel
        assert rgb.getpixel((int(panel.x + 15), int(size[1] - panel.top + 30))) == AMBER
        # The big code is drawn in dark ink in the middle of the amber panel.
        box = (int(panel.x), int(size[1] - panel.top), int(panel.right), int(size[1] - panel.y))
        dark = sum(1 for p in rgb.crop(box).getdata() if sum(p) < 150)
        assert dark > 0.05 * (box[2] - box[0]) * (box[3] - box[1])


def test_the_board_reports_its_voice_in_its_device_status(
    config: Config, office: Office, library: ClipLibrary, tmp_path: Path
) -> None:
    status = "antrean/v1/gajahmungkur/device/board-1/status"
    watch = Watcher(config.broker, status).start()
    broken = aplay("no-such-alsa-device")  # the real aplay, a device that is not there
    app = start_app(make_board(config, library, broken), size=(1366, 768))
    try:
        pump_until(lambda: app.link.queue_online, 10, "link")
        watch.wait_for(lambda _t, body: body.get("online") and body.get("voice") == "ok")
        assert watch.latest(status)["player"] == "aplay"
        issue(office, "B", 1)
        office.ok("counter-3", "call_next")
        pump_until(lambda: app.screen.call_code == "B001", 5, "B001 on screen")
        watch.wait_for(lambda _t, body: body.get("voice") == "player_failed", timeout=10)
        assert app.screen.call_code == "B001"  # no sound, but the call is on screen
    finally:
        stop_app(app)
        watch.stop()


def test_a_new_business_day_empties_the_board_quietly(
    board, office: Office, clock, player: RecordingPlayer
) -> None:
    issue(office, "A", 1)
    office.ok("counter-1", "call_next")
    pump_until(lambda: len(player.played) == 1, 10, "A001 spoken")
    clock.set(datetime(2026, 11, 26, 17, 0, 1, tzinfo=UTC))  # 00:00:01 WIB, Friday
    pump_until(lambda: board.screen.call_code == "", 10, "the big panel cleared")
    assert recent_codes(board) == []
    assert counter_tile(board, 1).serving == "TUTUP"  # every counter closes at rollover
    assert len(player.played) == 1  # nothing is spoken for the new day


def test_garbage_on_the_event_topics_changes_nothing(
    board, office: Office, config: Config, player: RecordingPlayer
) -> None:
    sender = MqttClient("test-garbage", config.broker)
    sender.start()
    assert sender.wait_connected(10)
    for payload in (b"not json", b"[1, 2]", b'{"kind": "called"}', b'{"seq": "7"}'):
        sender.publish(f"{EVENTS}/called", payload)
    sender.publish(f"{EVENTS}/called", {"seq": board.model.last_seq + 1, "kind": "called"})
    sender.stop()
    pump(seconds=0.5)
    assert player.played == []
    assert board.model.resyncs == 0
    issue(office, "D", 1)
    office.ok("counter-4", "call_next")
    pump_until(lambda: board.screen.call_code == "D001", 5, "a real call after the garbage")
    pump_until(lambda: len(player.played) == 1, 10, "and its announcement")


def assert_board_matches_the_counters(app, office: Office) -> None:
    """What is on screen agrees with state/counter/*: tiles, and the big panel's call."""
    counters = {c["number"]: c for c in office.ok("admin", "snapshot")["counters"]}
    for number, state in counters.items():
        current = (state["current"] or {}).get("code")
        expected = current or ("-" if state["open"] else "TUTUP")
        assert counter_tile(app, number).serving == expected, (number, state)
    if app.screen.call_code:
        serving = [c for c in counters.values() if (c["current"] or {}).get("code")]
        assert any(
            c["current"]["code"] == app.screen.call_code
            and c["name"].upper() == app.screen.call_counter
            for c in serving
        ), (app.screen.call_code, app.screen.call_counter)


def test_a_no_show_and_a_transfer_leave_only_live_calls_on_the_board(
    board, office: Office, player: RecordingPlayer
) -> None:
    issue(office, "A", 2)
    office.ok("counter-1", "call_next")  # A001
    pump_until(lambda: board.screen.call_code == "A001", 5, "A001 called")
    office.ok("counter-1", "no_show")
    pump_until(lambda: board.screen.call_code == "", 5, "the absent A001 off the big panel")
    assert recent_codes(board) == []
    assert_board_matches_the_counters(board, office)
    office.ok("counter-1", "call_next")  # A002
    pump_until(lambda: board.screen.call_code == "A002", 5, "A002 called")
    office.ok("counter-1", "transfer", service="B")
    pump_until(lambda: board.screen.call_code == "", 5, "the transferred A002 off the panel")
    pump(seconds=1.2)  # a tick of the board's clock: nothing comes back
    assert board.screen.call_code == ""
    assert board.screen.call_title == ""
    assert recent_codes(board) == []
    assert counter_tile(board, 1).serving == "-"
    assert_board_matches_the_counters(board, office)
    assert [p.text.split(", ")[1:3] for p in player.played] == [["A", "satu"], ["A", "dua"]]


def test_a_served_call_moves_to_the_recent_list_and_the_panel_shows_one_still_called(
    board, office: Office
) -> None:
    issue(office, "A", 2)
    office.ok("counter-1", "call_next")  # A001 at loket 1
    office.ok("counter-2", "call_next")  # A002 at loket 2
    pump_until(lambda: board.screen.call_code == "A002", 5, "A002 called")
    office.ok("counter-2", "complete")
    pump_until(lambda: board.screen.call_code == "A001", 5, "A001, still at loket 1, big")
    assert board.screen.call_counter == "LOKET 1"
    assert recent_codes(board) == ["A002"]  # served: it was called, and answered
    assert_board_matches_the_counters(board, office)
    office.ok("counter-1", "complete")
    pump_until(lambda: board.screen.call_code == "", 5, "nobody called now")
    assert recent_codes(board) == ["A002", "A001"]
    assert_board_matches_the_counters(board, office)


def test_a_store_reset_while_the_board_runs_leaves_the_voice_on(
    board, office: Office, config: Config, clock, player: RecordingPlayer
) -> None:
    issue(office, "A", 3)
    for _ in range(3):
        office.ok("counter-1", "call_next")  # the calls are seqs 5, 7 and 9
    pump_until(lambda: len(player.played) == 3, 10, "three calls spoken")
    office.stop()
    for suffix in ("", "-wal", "-shm"):  # a new, empty store: seq starts again at 0
        Path(f"{config.store_path}{suffix}").unlink(missing_ok=True)
    clock.advance(minutes=1)
    office.start()
    pump_until(lambda: board.model.last_seq == 0, 10, "the board follows the new seq")
    issue(office, "A", 3)
    office.ok("counter-1", "call_next")  # seq 5 again, and 7: seqs spoken before the reset
    office.ok("counter-1", "call_next")
    pump_until(lambda: len(player.played) == 5, 10, "both new calls spoken")
    assert [p.text.split(", ")[2] for p in player.played[3:]] == ["satu", "dua"]
    pump_until(lambda: board.screen.call_code == "A002", 5, "the new A002 on screen")
