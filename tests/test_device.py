"""DeviceLink against a real Mosquitto and queue service: presence, commands, state."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from antrean.config import Config
from antrean.devbroker import DevBroker
from antrean.device import DeviceLink, NotConnected

from .helpers import Office
from .mqtt_watch import Watcher


def wait(predicate: Any, timeout: float = 5) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)


@pytest.fixture
def link(config: Config, office: Office) -> Any:
    states: list[str] = []
    events: list[dict[str, Any]] = []
    links: list[bool] = []
    dev = DeviceLink(
        config,
        "kiosk-1",
        "kiosk",
        on_state=lambda path, _body: states.append(path),
        on_event=events.append,
        on_link=links.append,
        health={"printer": "ok"},
    ).start()
    wait(lambda: dev.queue_online)
    dev.seen = (states, events, links)  # type: ignore[attr-defined]
    yield dev
    dev.stop()


def test_presence_is_retained_with_health_and_the_will_says_offline(
    config: Config, broker: DevBroker, office: Office, link: DeviceLink
) -> None:
    watch = Watcher(config.broker, "antrean/v1/gajahmungkur/device/kiosk-1/status").start()
    try:
        _, status = watch.wait_for(lambda _t, body: body.get("online") is True)
        assert status["role"] == "kiosk"
        assert status["printer"] == "ok"
        link.set_health(printer="paper_out")
        watch.wait_for(lambda _t, body: body.get("printer") == "paper_out")
        link.stop()
        watch.wait_for(lambda _t, body: body.get("online") is False)
    finally:
        watch.stop()


def test_a_command_gets_its_reply_and_the_retained_state_is_kept(link: DeviceLink) -> None:
    reply = link.request("issue", {"service": "A"})
    assert reply["ok"] is True
    assert reply["result"]["ticket"]["code"] == "A001"
    wait(lambda: (link.state("service/A") or {}).get("waiting") == 1)
    assert link.state("office")["id"] == "gajahmungkur"
    states, events, links = link.seen  # type: ignore[attr-defined]
    wait(lambda: any(e.get("kind") == "issued" for e in events))
    assert "service/A" in states
    wait(lambda: links == [True])


def test_without_a_broker_a_command_is_refused_at_once_and_never_sent_later(
    config: Config, broker: DevBroker, office: Office, link: DeviceLink
) -> None:
    broker.stop()
    wait(lambda: not link.connected)
    with pytest.raises(NotConnected):
        link.send("issue", {"service": "A"})
    broker.start()
    wait(lambda: link.queue_online, timeout=20)
    # The refused issue never reached the service: the next number is still 1.
    assert link.request("issue", {"service": "A"})["result"]["ticket"]["code"] == "A001"


def test_with_the_queue_service_down_the_reply_handler_hears_none(
    office: Office, link: DeviceLink
) -> None:
    office.stop()
    wait(lambda: not link.queue_online)
    answers: list[Any] = []
    link.send("issue", {"service": "A"}, answers.append, timeout=0.3)
    wait(lambda: answers == [None])
    office.start()
    wait(lambda: link.queue_online)
    assert link.request("issue", {"service": "A"})["result"]["ticket"]["code"] == "A001"


def test_a_repeated_id_returns_the_first_answer(link: DeviceLink) -> None:
    replies: list[Any] = []
    cmd_id = link.new_id()
    link.send("issue", {"service": "B"}, replies.append, cmd_id=cmd_id)
    wait(lambda: len(replies) == 1)
    link.send("issue", {"service": "B"}, replies.append, cmd_id=cmd_id)
    wait(lambda: len(replies) == 2)
    assert replies[0]["result"]["ticket"]["id"] == replies[1]["result"]["ticket"]["id"]


def test_resync_delivers_every_retained_state_again(link: DeviceLink) -> None:
    states, _events, _links = link.seen  # type: ignore[attr-defined]
    wait(lambda: "office" in states)
    before = len(states)
    link.resync()
    wait(lambda: states[before:].count("office") == 1)


def test_junk_on_state_and_event_topics_is_ignored(
    config: Config, office: Office, link: DeviceLink
) -> None:
    raw = office.client("admin")
    raw.mqtt.publish("antrean/v1/gajahmungkur/event/junk", b"\xff not json")
    raw.mqtt.publish("antrean/v1/gajahmungkur/state/junk", b"[1, 2]", retain=True)
    raw.mqtt.publish("antrean/v1/gajahmungkur/state/junk", b"", retain=True)
    assert link.request("snapshot")["ok"] is True
    assert link.state("junk") is None
    assert json.dumps(link.states())  # everything kept is JSON objects


def test_an_app_whose_link_callback_raises_still_hears_every_later_change(
    config: Config, office: Office, caplog: pytest.LogCaptureFixture
) -> None:
    heard: list[bool] = []

    def on_link(online: bool) -> None:
        heard.append(online)
        if len(heard) == 1:
            raise RuntimeError("a broken on_link in an app")

    dev = DeviceLink(config, "kiosk-1", "kiosk", on_link=on_link).start()
    try:
        wait(lambda: heard == [True])
        office.stop()
        wait(lambda: heard == [True, False])
        office.start()
        wait(lambda: heard == [True, False, True])
    finally:
        dev.stop()
    failures = [r for r in caplog.records if r.exc_info and "on_link" in r.getMessage()]
    assert len(failures) == 1  # logged with its traceback, once
