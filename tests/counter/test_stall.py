"""A counter's link that stalls (socket open, nothing moving): one press is still one call.

The counter reaches the real Mosquitto through a loopback proxy that stops
forwarding for a few seconds and then lets everything through (the
keepalive does not run out, so the link never looks down). The officer
presses again during and after the timeout. Measured: residents called per
stall, and residents called twice (target 0).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from antrean_testing.devbroker import DevBroker
from counter.agent import BUSY, LATE, REPEATED, TIMEOUT
from counter.settings import counter_inputs
from counter.station import CounterStation
from tests.support.counter_helpers import (
    INPUTS_1,
    Recorder,
    counter_config,
    counter_current,
    service_waiting,
    wait,
)
from tests.support.helpers import FakeClock, Office
from tests.support.stall_proxy import StallProxy

NEXT = 17
# Counter 1 on GPIO, replies due in 1 s, and no call guard: each stall is one press.
INPUTS = INPUTS_1.replace("call_guard_s = 1", "call_guard_s = 0")
STALLS = 5
STALL_S = 3.0  # three reply timeouts; far below 1.5 keepalives (22 s), so the socket stays up
RESIDENTS = 8


class LinkLog:
    """A listener that keeps every link change the agent reports."""

    def __init__(self) -> None:
        self.changes: list[bool] = []

    def on_outcome(self, _outcome: object) -> None:
        pass

    def on_state(self, _path: str, _body: object) -> None:
        pass

    def on_link(self, online: bool) -> None:
        self.changes.append(online)


@pytest.fixture
def office(tmp_path: Path, broker: DevBroker, clock: FakeClock) -> Iterator[Office]:
    o = Office(counter_config(tmp_path, broker.port, INPUTS), clock).start()
    for _ in range(RESIDENTS):
        o.ok("kiosk-1", "issue", service="A")
    yield o
    o.close()


@pytest.fixture
def proxy(broker: DevBroker) -> Iterator[StallProxy]:
    p = StallProxy(broker.port)
    yield p
    p.close()


@pytest.fixture
def station(
    tmp_path: Path, office: Office, proxy: StallProxy
) -> Iterator[tuple[CounterStation, Recorder, MockFactory, LinkLog]]:
    config = counter_config(tmp_path, proxy.port, INPUTS)  # the counter goes through the proxy
    factory = MockFactory()
    st = CounterStation(config, counter_inputs(config, 1), "counter-1", pin_factory=factory)
    recorder, links = Recorder(), LinkLog()
    st.agent.feedback.append(recorder)
    st.agent.listeners.append(links)
    st.start()
    wait(lambda: st.agent.online, what="the queue service online")
    yield st, recorder, factory, links
    st.stop()


def tap(factory: MockFactory) -> None:
    factory.pin(NEXT).drive_low()
    factory.pin(NEXT).drive_high()
    time.sleep(0.08)  # quiet longer than the 50 ms debounce


def test_a_stalled_call_is_one_call_however_often_the_officer_presses(
    station, office, proxy
) -> None:
    st, rec, factory, links = station
    links.changes.clear()
    for n in range(1, STALLS + 1):
        before = len(rec.outcomes)
        proxy.stall()
        tap(factory)  # goes out and sticks in the stalled link
        tap(factory)  # during the timeout
        wait(lambda: TIMEOUT in rec.codes()[before:], what="the timeout")  # noqa: B023
        tap(factory)  # after the timeout: the officer presses again
        time.sleep(STALL_S - 1)
        tap(factory)
        proxy.flow()
        code = f"A{n:03d}"
        wait(lambda: code in rec.codes()[before:], what=code)  # noqa: B023
        time.sleep(0.3)  # every repeat of the id answered by now
        outcomes = rec.outcomes[before:]
        assert [o.ticket if o.ok else o.code for o in outcomes] == [
            BUSY,
            TIMEOUT,
            BUSY,
            BUSY,
            code,
        ]
        assert outcomes[-1].message == f"{LATE}Nomor {code} dipanggil."
        assert counter_current(office, 1) == code
    called = RESIDENTS - service_waiting(office, "A")
    double_called = called - STALLS
    assert double_called == 0, f"{STALLS} stalls: {called} called, {double_called} twice"
    assert False not in links.changes  # the link never looked down: a stall, not an outage
    assert not st.agent.busy


def test_a_link_that_drops_after_the_command_ran_gets_the_answer_on_the_next_press(
    station, office, proxy
) -> None:
    st, rec, factory, _links = station
    proxy.stall("down")  # the command reaches the queue service; its reply is held
    tap(factory)
    wait(lambda: counter_current(office, 1) == "A001", what="A001 called by the service")
    wait(lambda: rec.codes() == [TIMEOUT], what="the timeout")
    proxy.drop()  # then the link goes: the counter never hears the answer
    wait(lambda: not st.agent.online, what="the link lost")
    wait(lambda: st.agent.unresolved, what="the repeats given up while the link is down")
    proxy.flow()
    wait(lambda: st.agent.online, timeout=20, what="the link back")
    time.sleep(0.5)
    assert rec.codes() == [TIMEOUT]  # nothing fired by itself when the link came back
    tap(factory)  # the officer presses next again
    outcome = rec.wait_count(2)[1]
    assert outcome.ok
    assert outcome.ticket == "A001"  # the first call's answer, not a second call
    assert outcome.message == f"{REPEATED}Nomor A001 dipanggil."
    time.sleep(0.3)
    assert counter_current(office, 1) == "A001"
    assert service_waiting(office, "A") == RESIDENTS - 1
    tap(factory)  # and now the fate is known: the next press is a new call
    assert rec.wait_count(3)[2].ticket == "A002"
