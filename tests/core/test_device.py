"""DeviceLink against a real Mosquitto and queue service: presence, commands, state."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from antrean.config import Config
from antrean.device import (
    BAD_REPLY,
    CommandIds,
    DeviceLink,
    NoAnswer,
    NotConnected,
    Reply,
    decode_reply,
    parse_reply,
)
from antrean_testing.client import QueueClient
from antrean_testing.devbroker import DevBroker
from tests.support.helpers import Office
from tests.support.mqtt_watch import Watcher


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
    assert reply.ok is True
    assert reply.ticket_code == "A001"
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
    assert link.request("issue", {"service": "A"}).ticket_code == "A001"


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
    assert link.request("issue", {"service": "A"}).ticket_code == "A001"


def test_a_repeated_id_returns_the_first_answer(link: DeviceLink) -> None:
    replies: list[Any] = []
    cmd_id = link.new_id()
    link.send("issue", {"service": "B"}, replies.append, cmd_id=cmd_id)
    wait(lambda: len(replies) == 1)
    link.send("issue", {"service": "B"}, replies.append, cmd_id=cmd_id)
    wait(lambda: len(replies) == 2)
    assert replies[0].ticket["id"] == replies[1].ticket["id"]


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
    assert link.request("snapshot").ok is True
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


# ---- the typed reply and the one request path --------------------------------------------


def test_a_reply_is_parsed_once_into_a_typed_reply() -> None:
    ticket = {"code": "A012", "service": "A"}
    ok = parse_reply({"id": "k-1", "ok": True, "result": {"ticket": ticket}})
    assert ok == Reply("k-1", True, None, "", {"ticket": ticket}, ticket)
    assert ok.ticket_code == "A012"
    error = {"code": "quota_full", "message": "Kuota habis.", "service": "A"}
    refused = parse_reply({"id": "k-2", "ok": False, "error": error})
    assert (refused.ok, refused.code, refused.message) == (False, "quota_full", "Kuota habis.")
    assert refused.ticket is None
    assert refused.body["error"]["service"] == "A"  # the wire is kept as it came


@pytest.mark.parametrize(
    ("payload", "cmd_id"),
    [
        (b"\xff not json", None),
        (b"[1, 2]", None),
        (b'{"id": "k-3", "ok": "yes"}', "k-3"),
        (b'{"id": "k-4", "ok": true, "result": [1]}', "k-4"),
        (b'{"id": "k-5", "ok": false, "error": "quota"}', "k-5"),
        (b'{"id": 7, "ok": true, "result": {}}', None),
    ],
)
def test_a_malformed_reply_is_a_failed_reply_that_keeps_its_id(
    payload: bytes, cmd_id: str | None
) -> None:
    reply = decode_reply(payload)
    assert (reply.id, reply.ok, reply.code) == (cmd_id, False, BAD_REPLY)
    assert reply.message


def test_an_error_without_code_or_message_still_reads() -> None:
    reply = parse_reply({"id": "k-6", "ok": False, "error": {}})
    assert (reply.code, reply.message) == ("error", "")


def test_command_ids_are_unique_per_start_and_shared_by_link_and_test_client(
    config: Config, link: DeviceLink
) -> None:
    first, again = CommandIds("kiosk-1"), CommandIds("kiosk-1")
    assert first() == f"{first.prefix}-1"
    assert first() == f"{first.prefix}-2"
    assert first.prefix != again.prefix
    assert link.new_id().rsplit("-", 1)[0].startswith("kiosk-1-")
    client = QueueClient(config.office.id, "admin", config.broker)
    assert client.new_id().rsplit("-", 2)[0] == "admin"


class DropFirstCommand:
    """Loses the first command the link publishes, as a flaky Wi-Fi would; keeps the ids."""

    def __init__(self, link: DeviceLink) -> None:
        self.ids: list[str] = []
        self._publish = link.mqtt.publish
        link.mqtt.publish = self.publish  # type: ignore[method-assign]

    def publish(self, topic: str, payload: Any, retain: bool = False, qos: int = 1) -> bool:
        if "/cmd/" not in topic:
            return self._publish(topic, payload, retain, qos)
        self.ids.append(payload["id"])
        if len(self.ids) == 1:
            return True  # "sent", and lost on the way
        return self._publish(topic, payload, retain, qos)


def test_request_sends_the_same_id_again_after_a_timeout(link: DeviceLink) -> None:
    lost = DropFirstCommand(link)
    reply = link.request("issue", {"service": "A"}, timeout=0.3, attempts=3)
    assert reply.ok is True
    assert reply.ticket_code == "A001"
    assert len(lost.ids) == 2
    assert len(set(lost.ids)) == 1


def test_request_without_an_answer_raises_no_answer_with_its_id_and_sends(
    office: Office, link: DeviceLink
) -> None:
    office.stop()  # the broker stays: the commands go out and nobody answers
    with pytest.raises(NoAnswer) as caught:
        link.request("issue", {"service": "A"}, timeout=0.2, attempts=2)
    assert caught.value.sends == 2
    assert caught.value.cmd_id.startswith("kiosk-1-")


def test_send_with_resend_for_repeats_the_id_while_the_link_is_up(link: DeviceLink) -> None:
    lost = DropFirstCommand(link)
    replies: list[Reply | None] = []
    timeouts: list[bool] = []
    link.send(
        "issue",
        {"service": "B"},
        replies.append,
        timeout=0.3,
        resend_for=5,
        on_timeout=timeouts.append,
    )
    wait(lambda: len(replies) == 1)
    assert timeouts == [True]  # told of the timeout, and that the id goes out again
    assert replies[0] is not None
    assert replies[0].ticket_code == "B001"
    assert len(lost.ids) == 2
    assert len(set(lost.ids)) == 1


def test_send_stops_resending_when_its_time_is_up(office: Office, link: DeviceLink) -> None:
    office.stop()
    replies: list[Reply | None] = []
    timeouts: list[bool] = []
    link.send("issue", {"service": "B"}, replies.append, 0.2, None, 0.0, timeouts.append)
    wait(lambda: replies == [None])
    assert timeouts == [False]
