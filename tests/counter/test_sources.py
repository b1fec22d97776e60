"""Keypad (a fake evdev device), serial box (a pseudo-terminal pair) and terminal keys,
against a real Mosquitto and queue service; and the counter_inputs config section."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from antrean.config import ConfigError
from antrean_testing.devbroker import DevBroker
from counter.inputs.keyboard import KeyboardSource
from counter.inputs.keypad import FakeKeypad, KeypadSettings, KeypadSource
from counter.inputs.serial_box import SerialBox, SerialSettings
from counter.settings import counter_inputs
from counter.station import CounterStation
from tests.support.counter_helpers import (
    Recorder,
    counter_config,
    counter_current,
    hung_queue_service,
    read_lines,
    service_waiting,
    wait,
)
from tests.support.helpers import FakeClock, Office
from tests.support.mqtt_watch import Watcher

KEYPAD = """
[counter_inputs.1]
reply_timeout_s = 1

[counter_inputs.2]
[counter_inputs.2.keypad]
path = "/dev/input/by-id/usb-keypad-event-kbd"
[counter_inputs.2.keypad.keys]
KEY_KPENTER = "next"
KEY_KPPLUS = "recall"
KEY_KPMINUS = "no_show"
KEY_KP0 = "complete"
"""


@pytest.fixture
def office(tmp_path: Path, broker: DevBroker, clock: FakeClock) -> Iterator[Office]:
    o = Office(counter_config(tmp_path, broker.port, KEYPAD), clock).start()
    for _ in range(3):
        o.ok("kiosk-1", "issue", service="A")
    yield o
    o.close()


def start_station(office: Office, counter: int, sources: list) -> tuple[CounterStation, Recorder]:
    config = office.config
    st = CounterStation(config, counter_inputs(config, counter), f"counter-{counter}", sources)
    recorder = Recorder()
    st.agent.feedback.append(recorder)
    st.start()
    wait(lambda: st.agent.online, what="the queue service online")
    return st, recorder


# ---- keypad ---------------------------------------------------------------------


def test_the_keypad_is_grabbed_and_only_key_downs_of_mapped_keys_press(office: Office) -> None:
    settings = counter_inputs(office.config, 2).inputs["keypad"]
    assert settings is not None
    fakes: list[FakeKeypad] = []

    def opener(path: str) -> FakeKeypad:
        fakes.append(FakeKeypad(path))
        return fakes[-1]

    source = KeypadSource(settings, opener)
    st, rec = start_station(office, 2, [source])
    try:
        wait(lambda: fakes and fakes[0].grabbed, what="the grab")
        assert fakes[0].path == "/dev/input/by-id/usb-keypad-event-kbd"
        pad = fakes[0]
        pad.key("KEY_KPENTER")  # down
        pad.key("KEY_KPENTER", 2)  # auto-repeat of a held key
        pad.key("KEY_KPENTER", 2)
        pad.key("KEY_KPENTER", 0)  # up
        pad.tap("KEY_A")  # not in the map
        rec.wait_count(1)
        time.sleep(0.3)
        assert rec.codes() == ["A001"]
        pad.tap("KEY_KPPLUS")
        assert rec.wait_count(2)[1].action == "recall"
        pad.tap("KEY_KP0")
        assert rec.wait_count(3)[2].action == "complete"
        assert all(o.source == "keypad" for o in rec.outcomes)
        assert counter_current(office, 2) is None
    finally:
        st.stop()
    assert fakes[0].closed


def test_an_unplugged_keypad_is_reported_and_picked_up_again(office: Office) -> None:
    settings = counter_inputs(office.config, 2).inputs["keypad"]
    assert settings is not None
    fakes: list[FakeKeypad] = []
    plugged = [True]

    def opener(path: str) -> FakeKeypad:
        if not plugged[0]:
            raise FileNotFoundError(2, "No such file or directory", path)
        fakes.append(FakeKeypad(path))
        return fakes[-1]

    watch = Watcher(office.config.broker, "antrean/v1/gajahmungkur/device/counter-2/status")
    watch.start()
    st, rec = start_station(office, 2, [KeypadSource(settings, opener)])
    try:
        watch.wait_for(lambda _t, body: body.get("keypad") == "ok")
        plugged[0] = False
        fakes[0].unplug()
        watch.wait_for(lambda _t, body: body.get("keypad") == "offline")
        plugged[0] = True
        watch.wait_for(lambda _t, body: body.get("keypad") == "ok" and len(fakes) == 2, 10)
        wait(lambda: fakes[1].grabbed)
        fakes[1].tap("KEY_KPENTER")
        assert rec.wait_count(1)[0].ticket == "A001"
    finally:
        st.stop()
        watch.stop()


# ---- serial box -----------------------------------------------------------------


@pytest.fixture
def pty_pair() -> Iterator[tuple[int, str]]:
    master, slave = os.openpty()
    name = os.ttyname(slave)
    yield master, name
    os.close(master)
    os.close(slave)


def test_the_serial_box_gets_a_reply_line_for_every_line(office: Office, pty_pair) -> None:
    master, name = pty_pair
    box = SerialBox(SerialSettings(port=name, baudrate=9600))
    st, _rec = start_station(office, 1, [box])
    try:
        wait(lambda: box.health.status == "ok", what="the port open")
        os.write(master, b"PING\n")
        assert read_lines(master, 1) == ["PONG"]
        os.write(master, b"NEXT\n")
        assert read_lines(master, 1) == ["OK A001"]
        os.write(master, b"recall\r\n")  # case and CRLF do not matter
        assert read_lines(master, 1) == ["OK A001"]
        os.write(master, b"DONE\n")
        assert read_lines(master, 1) == ["OK A001"]
        os.write(master, b"DONE\n")  # nobody is being served now
        assert read_lines(master, 1) == ["ERR no_current_ticket"]
        os.write(master, b"NOSHOW\n")
        assert read_lines(master, 1) == ["ERR no_current_ticket"]
        os.write(master, b"HELLO\n\n")  # an unknown word; a blank line is nothing
        assert read_lines(master, 1) == ["ERR unknown"]
        os.write(master, b"\xff" * 100 + b"NEXT\n")  # line noise, then the tail of it
        assert read_lines(master, 1) == ["ERR too_long"]
        os.write(master, b"NE")  # a line may come in pieces
        time.sleep(0.3)
        os.write(master, b"XT\n")
        assert read_lines(master, 1) == ["OK A002"]
        assert counter_current(office, 1) == "A002"
    finally:
        st.stop()


def test_the_serial_box_hears_busy_and_offline(office: Office, pty_pair, broker) -> None:
    master, name = pty_pair
    box = SerialBox(SerialSettings(port=name, baudrate=9600))
    st, _rec = start_station(office, 1, [box])
    try:
        wait(lambda: box.health.status == "ok", what="the port open")
        with hung_queue_service(office):
            wait(lambda: st.agent.online, what="the ghost status")
            os.write(master, b"NEXT\n")  # goes out, and no answer comes
            time.sleep(0.2)
            os.write(master, b"NEXT\nDONE\n")  # while the first is in flight
            assert read_lines(master, 3, timeout=5) == ["ERR busy", "ERR busy", "ERR timeout"]
            os.write(master, b"NEXT\n")  # the first one's fate is not known yet
            assert read_lines(master, 1) == ["ERR busy"]
        # The queue service back: the first NEXT (asked again with its own id) runs
        # once, and the box hears its late answer.
        assert read_lines(master, 1) == ["OK A001"]
        assert counter_current(office, 1) == "A001"
        assert service_waiting(office, "A") == 2
        broker.stop()
        wait(lambda: not st.agent.online, what="the link lost")
        os.write(master, b"NEXT\n")
        assert read_lines(master, 1) == ["ERR offline"]
    finally:
        st.stop()


def test_a_missing_serial_port_is_reported_offline(office: Office, tmp_path: Path) -> None:
    box = SerialBox(SerialSettings(port=str(tmp_path / "ttyUSB9"), baudrate=9600))
    st, _rec = start_station(office, 1, [box])
    try:
        wait(lambda: box.health.status == "offline", what="offline")
        assert st.agent.link.health["serial"] == "offline"
    finally:
        st.stop()


# ---- terminal keys --------------------------------------------------------------


def test_terminal_keys_press_the_buttons(office: Office, pty_pair) -> None:
    master, name = pty_pair
    slave = os.open(name, os.O_RDWR | os.O_NOCTTY)
    keys = KeyboardSource(fd=slave)
    st, rec = start_station(office, 1, [keys])
    try:
        os.write(master, b"n")
        assert rec.wait_count(1)[0].ticket == "A001"
        os.write(master, b"?")  # not a key of ours
        os.write(master, b"R")
        assert rec.wait_count(2)[1].action == "recall"
        os.write(master, b"x")
        assert rec.wait_count(3)[2].action == "no_show"
        os.write(master, b"n")
        os.write(master, b"c") if rec.wait_count(4) else None
        assert rec.wait_count(5)[4].action == "complete"
        assert [o.source for o in rec.outcomes] == ["keyboard"] * 5
    finally:
        st.stop()
        os.close(slave)


@pytest.mark.parametrize("ending", ["eof", "eio"])
def test_a_closed_terminal_is_reported_once_and_not_read_again(
    office: Office, caplog: pytest.LogCaptureFixture, ending: str
) -> None:
    # eof: the source reads a pty's slave and the master closes (reads return b"").
    # eio: it reads the master side and the slave closes (reads fail with EIO, as a
    # terminal does for a process it no longer belongs to).
    master, slave = os.openpty()
    ours, theirs = (slave, master) if ending == "eof" else (master, slave)
    keys = KeyboardSource(fd=ours)
    st, rec = start_station(office, 1, [keys])
    try:
        os.write(theirs, b"n")
        assert rec.wait_count(1)[0].ticket == "A001"
        caplog.clear()
        os.close(theirs)  # the terminal goes away
        wait(lambda: keys.health.status == "offline", what="the keyboard offline")
        time.sleep(2.5)  # longer than the reader's retry, which logged a traceback every 2 s
        records = [r for r in caplog.records if r.name.startswith("counter.inputs")]
        assert [r.levelname for r in records] == ["WARNING"], [r.getMessage() for r in records]
        assert "terminal keyboard unavailable" in records[0].getMessage()
        assert not any(r.exc_info for r in caplog.records)
        assert st.agent.link.health["keyboard"] == "offline"
    finally:
        st.stop()
        os.close(ours)


# ---- config ---------------------------------------------------------------------


def error_of(tmp_path: Path, extra: str, counter: int = 1) -> str:
    config = counter_config(tmp_path, 1883, extra)
    with pytest.raises(ConfigError) as info:
        counter_inputs(config, counter)
    return str(info.value)


def test_config_errors_name_the_line_and_key(tmp_path: Path) -> None:
    base = counter_config(tmp_path, 1883, "")
    offset = len(base.text.splitlines())
    cases = [
        (
            "\n[counter_inputs.1.gpio]\nnext = 40\n",
            3,
            "counter_inputs.1.gpio.next: must be a whole number from 2 to 27",
        ),
        (
            "\n[counter_inputs.1.gpio]\nnext = 27\n",
            3,
            "counter_inputs.1.gpio.next: GPIO 27 is already the recall button (its default pin)",
        ),
        ("\n[counter_inputs.1.gpio]\nnxt = 5\n", 3, "counter_inputs.1.gpio.nxt: unknown key"),
        (
            "\n[counter_inputs.1.feedback]\nled = 17\n[counter_inputs.1.gpio]\n",
            3,
            "counter_inputs.1.feedback.led: GPIO 17 is already the next button",
        ),
        (
            '\n[counter_inputs.1.keypad]\npath = "/dev/input/event3"\n'
            'keys = { KEY_NOPE = "next" }\n',
            4,
            "unknown key 'KEY_NOPE'",
        ),
        (
            '\n[counter_inputs.1.keypad]\npath = "/dev/input/event3"\n'
            'keys = { KEY_KP1 = "call" }\n',
            4,
            "the button must be one of next, recall, no_show, complete",
        ),
        (
            '\n[counter_inputs.1.keypad]\npath = "/dev/input/event3"\n'
            'keys = { KEY_KP1 = ["next", "recall"] }\n',
            4,
            "KEY_KP1 = ['next', 'recall']: the button must be one of next, recall",
        ),
        (
            '\n[counter_inputs.1.keypad]\npath = "/tmp/keypad"\n',
            3,
            "must be an input device under /dev/input/",
        ),
        (
            '\n[counter_inputs.1.serial]\nport = "/dev/ttyUSB0"\nbaudrate = 9601\n',
            4,
            "must be one of 1200, 2400",
        ),
        (
            "\n[counter_inputs.1]\nkeyboard = 1\n",
            3,
            "counter_inputs.1.keyboard: must be true or false",
        ),
        ("\n[counter_inputs.1]\nreply_timeout_s = 0\n", 3, "counter_inputs.1.reply_timeout_s"),
        (
            "\n[counter_inputs.9]\nkeyboard = true\n",
            2,
            "counter_inputs.9: no [[counter]] has number '9'",
        ),
    ]
    for extra, line, message in cases:
        text = error_of(tmp_path, extra)
        assert f"test.toml:{offset + line}:" in text, (extra, text)
        assert message in text, (extra, text)


def test_a_counter_without_a_table_has_no_inputs_and_defaults_fill_in(tmp_path: Path) -> None:
    config = counter_config(
        tmp_path,
        1883,
        '\n[counter_inputs.3.gpio]\n[counter_inputs.3.keypad]\npath = "/dev/input/event0"\n',
    )
    assert counter_inputs(config, 1).sources == []
    three = counter_inputs(config, 3)
    assert three.sources == ["gpio", "keypad"]
    assert three.inputs["gpio"].pins == {
        "next": 17,
        "recall": 27,
        "no_show": 22,
        "complete": 23,
    }
    assert three.inputs["keypad"] == KeypadSettings(
        "/dev/input/event0",
        {
            "KEY_KPENTER": "next",
            "KEY_KPPLUS": "recall",
            "KEY_KPMINUS": "no_show",
            "KEY_KP0": "complete",
        },
    )
