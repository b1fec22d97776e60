"""The counter agent with gpiozero MockFactory buttons, a real Mosquitto and queue service."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from antrean.config import Config
from antrean_testing.devbroker import DevBroker
from counter.agent import BUSY, LATE, OFFLINE, TIMEOUT, TOO_SOON
from counter.feedback import LONG_S, SHORT_S
from counter.settings import counter_inputs
from counter.station import CounterStation
from tests.support.counter_helpers import (
    Recorder,
    counter_config,
    counter_current,
    hung_queue_service,
    service_waiting,
    wait,
)
from tests.support.helpers import FakeClock, Office
from tests.support.mqtt_watch import Watcher

NEXT, RECALL, NO_SHOW, COMPLETE, LED, BUZZER = 17, 27, 22, 23, 24, 25


@pytest.fixture
def office(tmp_path: Path, broker: DevBroker, clock: FakeClock) -> Iterator[Office]:
    o = Office(counter_config(tmp_path, broker.port), clock).start()
    yield o
    o.close()


@pytest.fixture
def factory() -> MockFactory:
    return MockFactory()


@pytest.fixture
def station(office: Office, factory: MockFactory) -> Iterator[tuple[CounterStation, Recorder]]:
    config = office.config
    st = CounterStation(config, counter_inputs(config, 1), "counter-1", pin_factory=factory)
    recorder = Recorder()
    st.agent.feedback.append(recorder)
    st.start()
    wait(lambda: st.agent.online, what="the queue service online")
    yield st, recorder
    st.stop()


def tap(factory: MockFactory, pin: int, hold: float = 0.0) -> None:
    """A clean press and release; then quiet longer than the 50 ms debounce."""
    factory.pin(pin).drive_low()
    time.sleep(hold)
    factory.pin(pin).drive_high()
    time.sleep(0.08)


def issue(office: Office, service: str, count: int) -> None:
    for _ in range(count):
        office.ok("kiosk-1", "issue", service=service)


def test_the_four_buttons_send_their_commands(station, factory, office) -> None:
    _st, rec = station
    issue(office, "A", 2)
    tap(factory, NEXT)
    assert rec.wait_count(1)[0].ticket == "A001"
    assert counter_current(office, 1) == "A001"
    tap(factory, RECALL)
    assert rec.wait_count(2)[1].result["ticket"]["recalls"] == 1
    tap(factory, NO_SHOW)
    assert rec.wait_count(3)[2].result["ticket"]["status"] == "no_show"
    tap(factory, NEXT)
    tap(factory, COMPLETE)
    outcomes = rec.wait_count(5)
    assert [(o.action, o.ok, o.ticket) for o in outcomes] == [
        ("call_next", True, "A001"),
        ("recall", True, "A001"),
        ("no_show", True, "A001"),
        ("call_next", True, "A002"),
        ("complete", True, "A002"),
    ]
    assert all(o.source == "gpio" for o in outcomes)
    assert counter_current(office, 1) is None


def test_a_bouncing_contact_is_one_press(station, factory, office) -> None:
    _st, rec = station
    issue(office, "A", 3)
    pin = factory.pin(NEXT)
    for _ in range(5):  # a contact chattering for a few milliseconds
        pin.drive_low()
        pin.drive_high()
    pin.drive_low()
    time.sleep(0.3)
    pin.drive_high()  # and it chatters on release too
    pin.drive_low()
    pin.drive_high()
    time.sleep(0.5)
    assert rec.codes() == ["A001"]
    assert counter_current(office, 1) == "A001"
    assert service_waiting(office, "A") == 2


def test_a_held_button_is_one_press_and_the_next_press_counts_again(
    station, factory, office
) -> None:
    _st, rec = station
    issue(office, "A", 2)
    tap(factory, NEXT, hold=1.2)  # longer than gpiozero's hold_time
    time.sleep(0.3)
    assert rec.codes() == ["A001"]
    tap(factory, NEXT)
    rec.wait_count(2)
    assert rec.codes() == ["A001", "A002"]


def test_success_blinks_short_and_an_error_blinks_long(station, factory, office) -> None:
    _st, rec = station
    led, buzzer = factory.pin(LED), factory.pin(BUZZER)
    issue(office, "A", 1)
    led.clear_states()
    buzzer.clear_states()
    tap(factory, NEXT)
    rec.wait_count(1)
    wait(lambda: len(led.states) >= 3, what="a blink")
    time.sleep(0.05)
    on = list(led.states[1:])
    assert [s.state for s in on] == [True, False]
    short = on[1].timestamp
    assert SHORT_S * 0.9 <= short < LONG_S  # timers only ever run late
    assert [s.state for s in buzzer.states[1:]] == [True, False]

    led.clear_states()
    tap(factory, RECALL)  # fine
    tap(factory, NO_SHOW)
    rec.wait_count(3)
    time.sleep(0.3)
    led.clear_states()
    tap(factory, COMPLETE)  # nobody is being served: refused
    assert rec.wait_count(4)[3].code == "no_current_ticket"
    wait(lambda: len(led.states) >= 3, timeout=3, what="a long blink")
    assert [s.state for s in led.states[1:3]] == [True, False]
    assert led.states[2].timestamp >= LONG_S * 0.9


def test_while_a_command_awaits_its_reply_other_presses_are_ignored(
    station, factory, office, broker
) -> None:
    st, rec = station
    issue(office, "A", 3)
    with hung_queue_service(office):
        wait(lambda: st.agent.online, what="the ghost status")
        led = factory.pin(LED)
        tap(factory, NEXT)
        assert st.agent.busy
        led.clear_states()
        for pin in (NEXT, RECALL, COMPLETE):
            tap(factory, pin)
        assert rec.codes() == [BUSY, BUSY, BUSY]
        assert len(led.states) == 1  # a busy press does not blink
        assert rec.wait_count(4, timeout=3)[3].code == TIMEOUT
        # The command may have run: the agent asks again with the same id and
        # sends nothing new, however often the staff press.
        assert st.agent.busy
        tap(factory, NEXT)
        tap(factory, COMPLETE)
        assert rec.codes()[4:] == [BUSY, BUSY]
    # The queue service back: the one command runs once, and its answer is shown.
    late = rec.wait_count(7, timeout=5)[6]
    assert (late.ok, late.ticket) == (True, "A001")
    assert late.message == f"{LATE}Nomor A001 dipanggil."
    time.sleep(0.5)
    assert counter_current(office, 1) == "A001"
    assert service_waiting(office, "A") == 2
    assert not st.agent.busy


def test_a_burst_of_presses_on_next_calls_one_resident(station, factory, office) -> None:
    _st, rec = station
    issue(office, "A", 3)
    for _ in range(5):  # a quick officer: five presses 0.1 s apart
        factory.pin(NEXT).drive_low()
        factory.pin(NEXT).drive_high()
        time.sleep(0.1)
    time.sleep(0.3)
    codes = rec.codes()
    assert codes[0] == "A001"
    assert set(codes[1:]) <= {BUSY, TOO_SOON}
    assert TOO_SOON in codes
    refused = next(o for o in rec.outcomes if o.code == TOO_SOON)
    assert refused.message.startswith("Nomor A001 baru saja dipanggil. Tekan Berikutnya lagi")
    assert counter_current(office, 1) == "A001"
    assert service_waiting(office, "A") == 2
    time.sleep(1.0)  # the guard (1 s here) has passed: a press is a call again
    tap(factory, NEXT)
    assert rec.wait_count(len(codes) + 1)[-1].ticket == "A002"


def test_a_press_while_the_broker_is_down_fails_at_once_and_never_fires_later(
    station, factory, office, broker
) -> None:
    st, rec = station
    issue(office, "A", 2)
    broker.stop()
    wait(lambda: not st.agent.online, what="the link lost")
    started = time.monotonic()
    tap(factory, NEXT)
    assert rec.codes() == [OFFLINE]
    assert time.monotonic() - started < 0.5  # told at once, not after a timeout
    broker.start()
    wait(lambda: st.agent.online, timeout=20, what="the link back")
    time.sleep(1.0)
    assert counter_current(office, 1) is None
    assert service_waiting(office, "A") == 2
    assert rec.codes() == [OFFLINE]
    tap(factory, NEXT)
    rec.wait_count(2)
    assert rec.codes() == [OFFLINE, "A001"]


def test_a_press_while_the_queue_service_is_down_fails_at_once(station, factory, office) -> None:
    st, rec = station
    issue(office, "A", 1)
    office.stop()
    wait(lambda: not st.agent.online, what="the queue service offline")
    tap(factory, NEXT)
    assert rec.codes() == [OFFLINE]
    office.start()
    wait(lambda: st.agent.online, what="the queue service back")
    time.sleep(0.5)
    assert counter_current(office, 1) is None
    tap(factory, NEXT)
    assert rec.wait_count(2)[1].ticket == "A001"


def test_the_device_status_names_the_counter_and_its_inputs(
    station, office: Office, broker
) -> None:
    config: Config = office.config
    watch = Watcher(config.broker, "antrean/v1/gajahmungkur/device/counter-1/status").start()
    try:
        _, status = watch.wait_for(lambda _t, body: body.get("gpio") == "ok")
        assert status["online"] is True
        assert status["role"] == "counter"
        assert status["counter"] == 1
    finally:
        watch.stop()
