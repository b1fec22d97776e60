"""The queue service over a real Mosquitto: contract, roles, bad input, restarts."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from antrean import __version__, protocol
from antrean.config import Config
from antrean.device import NoAnswer
from antrean.runner import QueueServiceRunner
from antrean.store import MIGRATIONS, Store
from antrean_testing.client import QueueClient
from antrean_testing.devbroker import DevBroker
from tests.support.helpers import FakeClock, Office, example_config
from tests.support.mqtt_watch import Watcher

ROOT = "antrean/v1/gajahmungkur"


@pytest.fixture
def watcher(config: Config) -> Watcher:
    w = Watcher(config.broker, f"{ROOT}/#").start()
    yield w  # type: ignore[misc]
    w.stop()


def test_issue_replies_with_the_ticket_and_publishes_event_and_state(
    office: Office, watcher: Watcher
) -> None:
    ticket = office.ok("kiosk-1", "issue", service="C")["ticket"]
    assert ticket["code"] == "C001"
    assert ticket["id"] == "2026-11-26/C001"
    assert ticket["ahead"] == 0
    assert ticket["status"] == "waiting"
    _, event = watcher.wait_for(lambda t, p: t == f"{ROOT}/event/issued")
    assert event["ticket"]["code"] == "C001"
    _, state = watcher.wait_for(lambda t, p: t == f"{ROOT}/state/service/C" and p["waiting"] == 1)
    assert state["last_issued"] == "C001"
    assert state["accepting"] is True


def test_retained_state_is_there_for_a_late_subscriber(office: Office) -> None:
    office.ok("kiosk-1", "issue", service="A")
    office.ok("counter-1", "call_next")
    late = Watcher(office.config.broker, f"{ROOT}/#", "late").start()
    try:
        for topic in [
            "state/office",
            "state/calls",
            "state/service/A",
            "state/service/D",
            "state/counter/1",
            "state/counter/4",
            "device/queue/status",
        ]:
            late.wait_for(lambda t, p, topic=topic: t == f"{ROOT}/{topic}")
        assert late.latest(f"{ROOT}/state/counter/1")["current"]["code"] == "A001"
        assert late.latest(f"{ROOT}/state/calls")["calls"][0]["code"] == "A001"
        assert late.latest(f"{ROOT}/state/office")["seq"] == 3  # issued, opened, called
        assert late.latest(f"{ROOT}/device/queue/status")["online"] is True
    finally:
        late.stop()


def test_roles_are_enforced(office: Office) -> None:
    office.ok("kiosk-1", "issue", service="A")
    assert office.error("kiosk-1", "call_next", counter=1)["code"] == "forbidden"
    assert office.error("board-1", "issue", service="A")["code"] == "forbidden"
    assert office.error("counter-1", "call_next", counter=2)["code"] == "forbidden"
    assert office.error("counter-1", "issue", service="A")["code"] == "forbidden"
    # counter-3 serves B and C: it may close B but not A.
    assert office.error("counter-3", "service_close", service="A")["code"] == "forbidden"
    office.ok("counter-3", "service_close", service="B", reason="Blanko KTP-el habis")
    # A counter device's own counter is the default.
    assert office.ok("counter-1", "call_next")["ticket"]["code"] == "A001"
    office.ok("board-1", "snapshot")
    office.ok("admin", "call_next", counter=4)


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"not json", "bad_request"),
        (b"\xff\xfe", "bad_request"),
        (b"[1, 2]", "bad_request"),
        (b"[" * 5000, "bad_request"),  # nesting that would blow the parser's recursion
        (b'{"id": "\\ud800", "action": "snapshot"}', "bad_request"),  # a lone surrogate
        (b'{"id": "s", "action": "set_running_text", "args": {"text": "\\udfff"}}', "bad_request"),
        ('{"id": "u", "action": "snapshot"}'.encode("utf-16"), "bad_request"),
        (b'{"action": "issue", "args": {"service": "A"}}', "bad_request"),
        (b'{"id": 7, "action": "issue"}', "bad_request"),
        (b'{"id": "m1", "action": "fly", "args": {}}', "unknown_action"),
        (b'{"id": "m2", "action": "issue", "args": {}}', "bad_request"),
        (b'{"id": "m3", "action": "issue", "args": {"service": 1}}', "bad_request"),
        (b'{"id": "m4", "action": "issue", "args": {"service": "A", "x": 1}}', "bad_request"),
        (
            b'{"id": "m5", "action": "issue", "args": {"service": "A", "priority": "ya"}}',
            "bad_request",
        ),
        (b'{"id": "m6", "action": "issue", "args": ["A"]}', "bad_request"),
        (b'{"id": "m7", "action": "issue", "args": {"service": "A"}, "more": 1}', "bad_request"),
        (b'{"id": "m8", "action": "issue", "args": {"service": "Z"}}', "unknown_service"),
        (
            json.dumps({"id": "m9", "action": "issue", "args": {"service": "A" * 17000}}).encode(),
            "too_large",
        ),
    ],
)
def test_malformed_commands_get_a_clear_error_and_change_nothing(
    office: Office, payload: bytes, code: str
) -> None:
    client = office.client("kiosk-1")
    client.send_raw(payload)
    try:
        body = json.loads(payload.decode()) if code != "too_large" else None
    except (ValueError, RecursionError):
        body = None
    known_id = isinstance(body, dict) and isinstance(body.get("id"), str)
    known_id = known_id and body["id"] != "\ud800"  # type: ignore[index]
    key = body["id"] if known_id else "<none>"  # type: ignore[index]
    reply = client.wait(key)
    assert reply["ok"] is False
    assert reply["error"]["code"] == code
    assert reply["error"]["message"]
    snap = office.ok("kiosk-1", "snapshot")
    assert snap["office"]["seq"] == 0
    assert all(s["issued"] == 0 for s in snap["services"])
    # ... and the service goes on serving.
    assert office.ok("kiosk-1", "issue", service="A")["ticket"]["code"] == "A001"


def test_unknown_device_is_refused(office: Office) -> None:
    assert office.error("stranger", "issue", service="A")["code"] == "unknown_device"
    assert office.ok("kiosk-1", "snapshot")["office"]["seq"] == 0


def test_a_command_for_another_office_changes_nothing_here(office: Office) -> None:
    other = QueueClient("kecamatan-lain", "kiosk-1", office.config.broker).start()
    try:
        with pytest.raises(NoAnswer, match="kecamatan-lain"):
            other.request("issue", {"service": "A"}, timeout=1)
    finally:
        other.stop()
    assert office.ok("kiosk-1", "snapshot")["office"]["seq"] == 0


def test_a_topic_that_names_no_device_is_dropped(office: Office, watcher: Watcher) -> None:
    office.client("kiosk-1").mqtt.publish(f"{ROOT}/cmd/kiosk-1/extra", {"id": "z"})
    assert office.ok("kiosk-1", "issue", service="A")["ticket"]["code"] == "A001"


def test_idempotent_by_id_also_across_restart(office: Office) -> None:
    kiosk = office.client("kiosk-1")
    first = kiosk.request("issue", {"service": "C"}, cmd_id="tap-1")
    again = kiosk.request("issue", {"service": "C"}, cmd_id="tap-1")
    assert again == first
    office.restart()
    after = kiosk.request("issue", {"service": "C"}, cmd_id="tap-1", timeout=10)
    assert after == first
    # An error is remembered as well: the repeated id gets the first answer.
    err = kiosk.request("issue", {"service": "Z"}, cmd_id="tap-2")
    assert kiosk.request("issue", {"service": "C"}, cmd_id="tap-2") == err
    assert office.ok("kiosk-1", "issue", service="C")["ticket"]["code"] == "C002"
    # The same id from another device is another command.
    assert office.ok("admin", "snapshot")["services"][2]["issued"] == 2


def test_quota_and_hours_over_mqtt(tmp_path: Path, broker: DevBroker) -> None:
    cfg = example_config(tmp_path, broker.port, edit={"daily_quota = 80": "daily_quota = 1"})
    clock = FakeClock(datetime(2026, 11, 26, 0, 30, tzinfo=UTC))  # Thu 07:30 WIB
    office = Office(cfg, clock).start()
    watcher = Watcher(cfg.broker, f"{ROOT}/state/service/B").start()
    try:
        err = office.error("kiosk-1", "issue", service="B")
        assert err["code"] == "office_closed"
        assert err["message"] == "Layanan dibuka pukul 08.00."
        state = watcher.wait_for(lambda t, p: True)[1]
        assert state["accepting"] is False
        assert state["refusal"]["code"] == "office_closed"
        clock.set(datetime(2026, 11, 26, 1, 0, tzinfo=UTC))  # 08:00: opens
        watcher.wait_for(lambda t, p: p["accepting"], timeout=5)
        office.ok("kiosk-1", "issue", service="B")
        err = office.error("kiosk-1", "issue", service="B")
        assert err["code"] == "quota_full"
        watcher.wait_for(lambda t, p: p["refusal"] and p["refusal"]["code"] == "quota_full")
    finally:
        watcher.stop()
        office.close()


def test_day_rollover_over_mqtt(office: Office, watcher: Watcher) -> None:
    office.ok("kiosk-1", "issue", service="C")
    office.ok("kiosk-1", "issue", service="C")
    office.ok("counter-4", "call_next")
    office.clock.set(datetime(2026, 11, 26, 17, 0, 1, tzinfo=UTC))  # 00:00:01 WIB, Friday
    _, event = watcher.wait_for(lambda t, p: t == f"{ROOT}/event/day_started", timeout=5)
    assert event["previous_day"] == "2026-11-26"
    assert event["expired"] == 2
    watcher.wait_for(lambda t, p: t == f"{ROOT}/state/office" and p["day"] == "2026-11-27")
    watcher.wait_for(lambda t, p: t == f"{ROOT}/state/counter/4" and p["current"] is None)
    office.clock.set(datetime(2026, 11, 27, 1, 30, tzinfo=UTC))  # 08:30 WIB
    assert office.ok("kiosk-1", "issue", service="C")["ticket"]["id"] == "2026-11-27/C001"
    office.stop()
    store = Store(office.config.store_path)
    try:
        old = store.tickets_of_day(datetime(2026, 11, 26).date())
        assert [(t.code, t.status.value) for t in old] == [("C001", "expired"), ("C002", "expired")]
    finally:
        store.close()


def test_events_seq_rises_by_one(office: Office, watcher: Watcher) -> None:
    office.ok("kiosk-1", "issue", service="D")
    office.ok("kiosk-1", "issue", service="D", priority=True)
    office.ok("counter-4", "call_next")
    office.ok("counter-4", "recall")
    office.ok("counter-4", "no_show")
    office.ok("counter-4", "requeue", code="D002")
    office.ok("counter-4", "call_next")
    office.ok("counter-4", "transfer", service="C")
    office.ok("counter-4", "counter_close")
    watcher.wait_for(lambda t, p: t.endswith("/event/counter_closed"))
    seqs = [e["seq"] for e in watcher.events()]
    assert seqs == list(range(1, len(seqs) + 1))
    assert office.ok("board-1", "snapshot")["office"]["seq"] == seqs[-1]


def test_broker_restart_reconnects_and_republishes(
    office: Office, broker: DevBroker, config: Config
) -> None:
    office.ok("kiosk-1", "issue", service="A")
    broker.restart()  # no persistence: every retained message is gone
    watcher = Watcher(config.broker, f"{ROOT}/#", "after").start()
    try:
        _, state = watcher.wait_for(lambda t, p: t == f"{ROOT}/state/service/A", timeout=15)
        assert state["issued"] == 1
        watcher.wait_for(lambda t, p: t == f"{ROOT}/device/queue/status" and p["online"])
        # The service's and the kiosk's clients came back by themselves.
        kiosk = office.client("kiosk-1")
        assert kiosk.mqtt.wait_connected(15)
        assert (
            kiosk.request("issue", {"service": "A"}, timeout=10)["result"]["ticket"]["code"]
            == "A002"
        )
    finally:
        watcher.stop()


def test_running_text_and_snapshot(office: Office) -> None:
    office.ok("admin", "set_running_text", text="Pelayanan Sabtu ditiadakan.")
    snap = office.ok("board-1", "snapshot")
    assert snap["office"]["running_text"] == "Pelayanan Sabtu ditiadakan."
    assert [s["code"] for s in snap["services"]] == ["A", "B", "C", "D"]
    assert [c["number"] for c in snap["counters"]] == [1, 2, 3, 4]
    assert protocol.MAX_PAYLOAD == 16 * 1024


def test_a_failed_commit_answers_nothing_and_stops_the_service(
    office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = office.runner
    assert runner is not None

    def disk_error(**_: object) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(runner.store, "commit", disk_error)
    with pytest.raises(NoAnswer):
        office.client("kiosk-1").request("issue", {"service": "A"}, timeout=2)
    assert [type(f) for f in office.fatal_errors] == [sqlite3.OperationalError]
    office.fatal_errors.clear()  # expected here; close() fails a test on any other


def test_a_retained_command_runs_once_not_again_on_every_reconnect(
    office: Office, config: Config
) -> None:
    kiosk = office.client("kiosk-1")
    topic = protocol.cmd_topic(config.office.id, "kiosk-1")
    body = {"id": "sticky", "action": "issue", "args": {"service": "C"}}
    kiosk.mqtt._client.publish(topic, json.dumps(body), qos=1, retain=True)
    assert kiosk.wait("sticky")["result"]["ticket"]["code"] == "C001"
    office.runner.store.forget_old_commands(datetime(2100, 1, 1, tzinfo=UTC))  # type: ignore[union-attr]
    office.restart()  # the broker hands the retained command to the new subscription
    office.ok("kiosk-1", "snapshot")
    assert office.ok("kiosk-1", "issue", service="C")["ticket"]["code"] == "C002"
    kiosk.mqtt._client.publish(topic, b"", qos=1, retain=True)  # clear it


def test_recall_republishes_the_counter_state(office: Office, watcher: Watcher) -> None:
    office.ok("kiosk-1", "issue", service="A")
    office.ok("counter-1", "call_next")
    recalled = office.ok("counter-1", "recall")["ticket"]
    assert recalled["recalls"] == 1
    assert recalled["recalled_at"] is not None
    assert recalled["called_at"] is not None  # the first call stays on record
    watcher.wait_for(
        lambda t, p: (
            t == f"{ROOT}/state/counter/1" and p["current"] and p["current"]["recalls"] == 1
        )
    )


def test_snapshots_are_not_remembered(office: Office) -> None:
    office.client("board-1").request("snapshot", cmd_id="look-1")
    assert office.runner.store.reply_for("board-1", "look-1") is None  # type: ignore[union-attr]


def test_a_late_second_answer_to_a_repeated_send_is_not_the_next_requests(
    office: Office,
) -> None:
    """Under load the client sends an id again before its answer came, and gets two answers.

    The second one, arriving after the request returned, must not be taken as
    the answer of the next request that uses the same id (the status test
    failed so on a loaded machine: the same uptime twice).
    """
    counter = office.client("counter-2")
    first = counter.request("status", cmd_id="st-late")["result"]
    # Let any stray answer to the first send land first (the service no longer
    # answers twice a command both its sessions bring; see the test below).
    time.sleep(0.3)
    stale = {"id": "st-late", "ok": True, "result": {**first, "uptime_s": -1.0}}
    topic = protocol.reply_topic(office.config.office.id, "counter-2")
    office.client("counter-1").mqtt.publish(topic, json.dumps(stale).encode())

    def stale_held() -> bool:
        held = counter._replies.get("st-late")
        return held is not None and held.result.get("uptime_s") == -1.0

    end = time.monotonic() + 5
    while not stale_held():  # the stale answer is in the client now
        assert time.monotonic() < end, "the second answer never came"
        time.sleep(0.01)
    again = counter.request("status", cmd_id="st-late")["result"]
    assert again["uptime_s"] >= first["uptime_s"] >= 0


def test_status_names_the_service_and_is_not_remembered(office: Office) -> None:
    """The `status` action: one service method, one table row, one docs section."""
    runner = office.runner
    assert runner is not None
    counter = office.client("counter-2")
    first = counter.request("status", cmd_id="st-1")["result"]
    assert first["office"] == office.config.office.id
    assert first["version"] == __version__
    assert first["schema_version"] == len(MIGRATIONS)
    assert first["instance"] == runner.service.instance
    time.sleep(0.01)  # uptime_s has 1 ms steps; a round trip here can take less
    again = counter.request("status", cmd_id="st-1")["result"]  # read-only: answered afresh
    assert again["uptime_s"] > first["uptime_s"] >= 0
    assert runner.store.reply_for("counter-2", "st-1") is None
    assert office.ok("kiosk-1", "status")["office"] == office.config.office.id  # every role


@pytest.mark.parametrize("action", ["status", "call_next"])
def test_a_staff_command_both_sessions_bring_at_start_is_answered_once(
    config: Config, clock: FakeClock, watcher: Watcher, action: str
) -> None:
    """Just after start one publish can reach the service on both of its sessions.

    The kiosks' session hears every command topic and brings a counter's
    command while the staff session's SUBACK is not read yet; then the staff
    session brings the same publish. The race is made here by handing the two
    copies to the service's handlers in that order (the first before start);
    the counter must get one answer, not two.
    """
    fatal: list[BaseException] = []
    runner = QueueServiceRunner(config, clock, on_fatal=fatal.append)
    assert runner.staff_mqtt is not None
    topic = protocol.cmd_topic(config.office.id, "counter-2")
    args = {"counter": 2} if action == "call_next" else {}
    payload = json.dumps({"id": "both-1", "action": action, "args": args}).encode()
    runner.service.on_command(topic, payload)  # the staff session is not connected yet
    runner.start()
    try:
        assert runner.staff_mqtt.wait_connected(10)
        runner.service.on_staff_command(topic, payload)  # its copy of the same publish
        reply_topic = protocol.reply_topic(config.office.id, "counter-2")
        watcher.wait_for(lambda t, p: t == reply_topic and p["id"] == "both-1")
        time.sleep(0.5)  # a second answer comes within ms on loopback
        answers = [p for t, p in watcher.messages if t == reply_topic and p["id"] == "both-1"]
        assert len(answers) == 1, answers
        assert answers[0]["ok"], answers[0]
        # A device's own resend of the id (after its timeout) is answered again.
        again = QueueClient(config.office.id, "counter-2", config.broker).start()
        try:
            assert again.request(action, args, cmd_id="both-1")["ok"]
        finally:
            again.stop()
    finally:
        runner.stop()
    assert not fatal
