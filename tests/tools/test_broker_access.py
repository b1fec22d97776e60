"""The office broker's access rules, logins and TLS, against a real Mosquitto.

One hub broker for the module, set up by `antrean broker init` from the
example office. The rules are checked against the issue's words, written out
here on their own (not read back from antrean_tools.broker.acl).
"""

from __future__ import annotations

import ssl
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from antrean.config import BrokerConfig
from antrean.mqtt import MqttClient
from antrean_tools.broker import certs, enroll
from antrean_tools.broker.files import BrokerFiles
from antrean_tools.broker.local import SecuredBroker as HubBroker
from antrean_tools.broker.local import open_dir
from antrean_tools.broker.provision import add_device
from tests.support.broker_world import wait_for
from tests.support.helpers import example_config
from tests.support.mqtt5_probe import (
    BAD_USERNAME_OR_PASSWORD,
    NO_MATCHING_SUBSCRIBERS,
    NOT_AUTHORIZED,
    SUCCESS,
    Probe,
)
from tests.support.mqtt_watch import Watcher

OFFICE = "gajahmungkur"
R = f"antrean/v1/{OFFICE}"
QUEUE = f"antrean-queue-{OFFICE}"
STAFF = f"antrean-queue-{OFFICE}-staff"  # the queue service's session for counters and admin
ROLES = {
    "kiosk-1": "kiosk",
    "board-1": "board",
    "counter-1": "counter",
    "counter-2": "counter",
    "counter-3": "counter",
    "counter-4": "counter",
    "admin": "admin",
    "web": "web",
}
USERS = [QUEUE, STAFF, *ROLES]
REFUSED = (BAD_USERNAME_OR_PASSWORD, NOT_AUTHORIZED)


def topics() -> list[str]:
    """Every kind of concrete topic: the office's, odd ones, and another office's."""
    ts = [f"{R}/cmd/{d}" for d in ROLES] + [f"{R}/reply/{d}" for d in ROLES]
    ts += [f"{R}/device/{d}/status" for d in [*ROLES, "queue"]]
    ts += [f"{R}/event/called", f"{R}/event/issued", f"{R}/state/office"]
    ts += [f"{R}/state/service/A", f"{R}/state/counter/1", f"{R}/state/calls"]
    ts += [f"{R}/state/ikm", f"{R}/state/ikm/x", f"{R}/state/drive"]
    ts += [f"{R}/cmd/kiosk-1/more", f"{R}/device/kiosk-1/status/x", f"{R}/other", R]
    ts += [f"{R}/cmd/queue", f"{R}/reply/queue"]
    ts += ["antrean/v1/candisari/cmd/kiosk-1", "antrean/v1/candisari/state/office"]
    ts += ["antrean/v1/candisari/device/kiosk-1/status", "antrean/v1/candisari/reply/kiosk-1"]
    return ts


def parts(topic: str) -> list[str]:
    """The levels after the office root, or [] for anything outside it."""
    if not topic.startswith(f"{R}/"):
        return []
    return topic[len(R) + 1 :].split("/")


def may_publish(user: str, topic: str) -> bool:
    """The issue: devices publish their own cmd (not a board) and their own status;
    the queue service owns reply, event, state and its own status."""
    p = parts(topic)
    if user == STAFF:  # the service's second session: the counters' replies
        return len(p) == 2 and p[0] == "reply"
    if user == QUEUE:
        return (
            (len(p) == 2 and p[0] in ("reply", "event"))
            or (len(p) >= 2 and p[0] == "state")
            or p == ["device", "queue", "status"]
        )
    own_cmd = p == ["cmd", user] and ROLES[user] != "board"
    if ROLES[user] == "web" and p == ["state", "ikm"]:  # issue 16: its survey's figures
        return True
    return own_cmd or p == ["device", user, "status"]


def may_read(user: str, topic: str) -> bool:
    """Devices read state, events and the service's status; kiosk, counter and admin
    their own replies; admin every device's status; the queue service its commands too."""
    p = parts(topic)
    if not p:
        return False
    if user == STAFF:  # the service's second session: commands, and its replies
        return len(p) == 2 and p[0] in ("cmd", "reply")
    if p[0] in ("state", "event") and len(p) >= 2:
        return True
    if p == ["device", "queue", "status"]:
        return True
    if user == QUEUE:
        return len(p) == 2 and p[0] in ("cmd", "reply")
    if ROLES[user] in ("admin", "web") and len(p) == 3 and p[0] == "device" and p[2] == "status":
        return True
    return p == ["reply", user] and ROLES[user] != "board"


@pytest.fixture(scope="module")
def hub() -> Iterator[HubBroker]:
    config = example_config(Path(tempfile.mkdtemp(prefix="antrean-test-")))
    h = HubBroker(config)
    h.start()
    yield h
    h.cleanup()


def probe(hub: HubBroker, user: str, cid: str | None = None) -> Probe:
    p = Probe(hub.lan(user), cid or user)
    assert p.connect() == SUCCESS
    return p


def test_the_whole_matrix_of_users_topics_publish_and_read(hub: HubBroker) -> None:
    probes = {u: probe(hub, u) for u in USERS}
    try:
        for p in probes.values():
            assert p.subscribe("#") == 0x01  # granted; the rules filter each message
        refused, allowed = [], []
        for user, p in probes.items():
            for topic in topics():
                code = p.publish(topic, user.encode())
                ok = code in (SUCCESS, NO_MATCHING_SUBSCRIBERS)
                assert ok or code == NOT_AUTHORIZED, (user, topic, hex(code))
                if ok != may_publish(user, topic):
                    refused.append((user, topic, hex(code)))
                if ok:
                    allowed.append((user, topic))
        assert not refused, f"publish rules differ from the spec: {refused}"

        want = {u: sorted((t, p.encode()) for p, t in allowed if may_read(u, t)) for u in USERS}
        for user, p in probes.items():
            n = len(want[user])
            wait_for(lambda p=p, n=n: len(p.messages()) >= n, 10, f"{user} reads")
        time.sleep(0.3)  # anything the rules let through by mistake arrives by now
        for user, p in probes.items():
            assert sorted(p.messages()) == want[user], user
        # Sanity: the matrix is not empty either way.
        assert 20 < len(allowed) < len(USERS) * len(topics())
        assert all(want[u] for u in USERS)
    finally:
        for p in probes.values():
            p.close()


def test_a_denied_publish_from_an_mqtt_3_client_reaches_nobody(hub: HubBroker) -> None:
    """The apps speak 3.1.1 (antrean.mqtt): their refused publishes vanish silently."""
    queue = Watcher(hub.lan(QUEUE), f"{R}/#", name="queue").start()
    kiosk = MqttClient("kiosk-1", hub.lan("kiosk-1"))
    kiosk.start()
    try:
        assert kiosk.wait_connected(10)
        kiosk.publish(f"{R}/cmd/counter-1", {"id": "fake", "action": "call_next"})
        kiosk.publish(f"{R}/state/office", {"name": "palsu"})
        kiosk.publish(f"{R}/cmd/kiosk-1", {"id": "real", "action": "issue"})
        topic, body = queue.wait_for(lambda t, _p: "/cmd/" in t)
        assert (topic, body["id"]) == (f"{R}/cmd/kiosk-1", "real")
        time.sleep(0.3)
        assert [t for t, _p in queue.messages] == [f"{R}/cmd/kiosk-1"]
    finally:
        kiosk.stop()
        queue.stop()


BAD_LOGINS = [
    ("wrong password", "kiosk-1", "not-the-password"),
    ("unknown user", "visitor", "x"),
    ("anonymous", None, None),
    ("empty password", "counter-1", ""),
]


@pytest.mark.parametrize(("what", "user", "password"), BAD_LOGINS)
def test_the_lan_listener_refuses_bad_logins(
    hub: HubBroker, what: str, user: str | None, password: str | None
) -> None:
    cfg = BrokerConfig(port=hub.lan_port, username=user, password=password,
                       tls_ca=hub.files.ca_cert)  # fmt: skip
    p = Probe(cfg, "someone")
    try:
        assert p.connect() in REFUSED, what
    finally:
        p.close()


def test_the_loopback_listener_asks_for_a_password_too(hub: HubBroker) -> None:
    for user in (None, "kiosk-1"):
        cfg = BrokerConfig(port=hub.local_port, username=user, password=user and "wrong")
        p = Probe(cfg, "someone")
        try:
            assert p.connect() in REFUSED
        finally:
            p.close()
    p = Probe(hub.loopback(QUEUE), QUEUE)
    try:
        assert p.connect() == SUCCESS
        assert p.publish(f"{R}/state/office") in (SUCCESS, NO_MATCHING_SUBSCRIBERS)
        assert p.publish(f"{R}/cmd/admin") == NOT_AUTHORIZED  # same rules as on the LAN
    finally:
        p.close()


def test_plain_tcp_on_the_lan_listener_gets_no_mqtt(hub: HubBroker) -> None:
    plain = BrokerConfig(port=hub.lan_port, username="kiosk-1", password=hub.password("kiosk-1"))
    p = Probe(plain, "kiosk-1", tls=False)
    with pytest.raises((ConnectionError, OSError)):
        p.connect(timeout=2)
    p.close()
    # The apps' own client stays unconnected, too.
    client = MqttClient("kiosk-1", plain)
    client.start()
    try:
        assert not client.wait_connected(1)
    finally:
        client.stop()


def test_tls_trusts_the_office_ca_and_nothing_else(hub: HubBroker) -> None:
    trusted = MqttClient("counter-2", hub.lan("counter-2"))
    trusted.start()
    try:
        assert trusted.wait_connected(10)
    finally:
        trusted.stop()
    # Another office's CA (or an attacker's hub) is not trusted, and the
    # password is never sent to it: the handshake fails first.
    other = BrokerFiles(open_dir("antrean-other-ca-"))
    certs.make_ca(other, "candisari")
    p = Probe(hub.lan("counter-2"), "counter-2", ca=str(other.ca_cert))
    with pytest.raises(ssl.SSLCertVerificationError):
        p.connect()
    p.close()


def test_the_server_certificate_names_the_hub(hub: HubBroker) -> None:
    text = certs.describe(hub.files.server_cert)
    assert "DNS:localhost" in text
    assert "IP Address:127.0.0.1" in text
    assert "notBefore=Jan  1 00:00:00 2020 GMT" in text  # a Pi with an old clock still trusts it


def test_a_device_cannot_pose_as_another(hub: HubBroker) -> None:
    counter = probe(hub, "counter-1")
    kiosk = probe(hub, "kiosk-1", cid="counter-1")  # asks for counter-1's client id
    try:
        time.sleep(0.3)
        assert not counter.disconnected.is_set(), "the kiosk took over counter-1's session"
        # The broker named the kiosk's session "kiosk-1": a second kiosk-1 login
        # (whatever id it asks for) replaces it.
        again = probe(hub, "kiosk-1", cid="anything")
        wait_for(kiosk.disconnected.is_set, 5, "the first kiosk-1 session to be replaced")
        again.close()
        # And it still writes only as kiosk-1.
        assert counter.publish(f"{R}/cmd/counter-1") in (SUCCESS, NO_MATCHING_SUBSCRIBERS)
    finally:
        counter.close()
        kiosk.close()


def test_rotating_a_device_password_locks_out_the_old_one(hub: HubBroker) -> None:
    old = hub.password("admin")
    saved = add_device(hub.config, hub.files, "admin")
    assert saved == hub.files.enrollment("admin")
    new = enroll.parse(saved).password
    assert new != old
    hub.reload()
    p = Probe(hub.lan("admin", old), "admin")
    try:
        assert p.connect() in REFUSED
    finally:
        p.close()
    hub.result.enrolled["admin"] = new
    p = probe(hub, "admin")
    p.close()
