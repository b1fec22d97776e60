"""The MQTT adapter: our socket options and the guard around callbacks."""

from __future__ import annotations

import signal
import socket
import time

import paho.mqtt.client as paho
import pytest

from antrean import mqtt
from antrean.config import BrokerConfig
from antrean.mqtt import MqttClient
from antrean_testing.devbroker import DevBroker


def test_sockets_have_tcp_nodelay(broker: DevBroker) -> None:
    client = MqttClient("nodelay", BrokerConfig(port=broker.port))
    client.start()
    try:
        assert client.wait_connected(5)
        sock = client._client.socket()
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    finally:
        client.stop()


def test_a_failing_handler_is_logged_and_the_client_goes_on(broker: DevBroker) -> None:
    got: list[bytes] = []

    def handler(topic: str, payload: bytes) -> None:
        if payload == b"boom":
            raise ValueError("handler bug")
        got.append(payload)

    errors: list[BaseException] = []
    client = MqttClient("guard", BrokerConfig(port=broker.port), on_callback_error=errors.append)
    client.subscribe("t/#", handler)
    client.start()
    try:
        assert client.wait_connected(5)
        time.sleep(0.2)  # the SUBACK
        client.publish("t/1", b"boom")
        client.publish("t/1", b"fine")
        deadline = time.monotonic() + 5
        while not got and time.monotonic() < deadline:
            time.sleep(0.01)
        assert got == [b"fine"]
        assert [type(e) for e in errors] == [ValueError]  # its own hook: not the guard fixture's
    finally:
        client.stop()


def test_the_default_hook_sees_errors_of_clients_made_without_one(broker: DevBroker) -> None:
    def handler(topic: str, payload: bytes) -> None:
        raise ValueError("handler bug")

    client = MqttClient("guard-default", BrokerConfig(port=broker.port))
    client.subscribe("t/#", handler)
    errors: list[BaseException] = []
    previous = mqtt.set_default_callback_error_hook(errors.append)  # after the client was made
    client.start()
    try:
        assert client.wait_connected(5)
        time.sleep(0.2)  # the SUBACK
        client.publish("t/1", b"boom")
        deadline = time.monotonic() + 5
        while not errors and time.monotonic() < deadline:
            time.sleep(0.01)
        assert [type(e) for e in errors] == [ValueError]
    finally:
        client.stop()
        mqtt.set_default_callback_error_hook(previous)


def _connect_driven(client: MqttClient) -> None:
    """Opens a client that the test drives with poll() and waits until it is connected."""
    client.open()
    deadline = time.monotonic() + 5
    while not client.connected and time.monotonic() < deadline:
        client.poll(0.05)
    assert client.connected


def test_ack_later_holds_the_pubacks_until_send_acks(broker: DevBroker) -> None:
    # The broker sends at most 20 unacknowledged QoS 1 messages to a session
    # (Mosquitto's max_inflight_messages): while the client holds its PUBACKs,
    # 20 of 25 arrive; once it sends them, the other 5 follow.
    got: list[bytes] = []
    client = MqttClient("ack-later", BrokerConfig(port=broker.port), ack_later=True)
    client.subscribe("t/#", lambda _t, payload: got.append(payload))
    sender = MqttClient("ack-sender", BrokerConfig(port=broker.port))
    sender.start()

    def poll_for(seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            client.poll(0.05)

    try:
        _connect_driven(client)
        assert sender.wait_connected(5)
        for n in range(25):
            sender.publish("t/1", str(n).encode())
        poll_for(1.0)
        assert len(got) == 20
        client.send_acks()
        poll_for(1.0)
        assert got == [str(n).encode() for n in range(25)]
    finally:
        sender.stop()
        client.close()


@pytest.mark.skipif(not hasattr(socket, "TCP_CORK"), reason="TCP_CORK is Linux's")
def test_publishes_inside_corked_leave_together_at_its_end(broker: DevBroker) -> None:
    # The queue service sends a call's `served` and `called` this way: one
    # send to the broker at the block's end instead of one each.
    got: list[bytes] = []
    receiver = MqttClient("cork-receiver", BrokerConfig(port=broker.port))
    receiver.subscribe("t/#", lambda _t, payload: got.append(payload))
    receiver.start()
    client = MqttClient("corked", BrokerConfig(port=broker.port))
    try:
        _connect_driven(client)
        assert receiver.wait_connected(5)
        time.sleep(0.2)  # the receiver's SUBACK
        with client.corked():
            client.publish("t/1", b"served")
            client.publish("t/1", b"called")
            time.sleep(0.05)  # under Linux's 200 ms limit of a cork
            assert got == []  # written to the socket, held by the kernel
        deadline = time.monotonic() + 5
        while len(got) < 2 and time.monotonic() < deadline:
            client.poll(0.05)
        assert got == [b"served", b"called"]
    finally:
        receiver.stop()
        client.close()


def test_settle_waits_for_the_brokers_puback_and_no_longer_than_told(broker: DevBroker) -> None:
    # The queue service settles after a call's events, before its replies and
    # states. A broker that stalls without dropping (SIGSTOP) costs at most the
    # timeout, and the message still goes once it wakes.
    client = MqttClient("settle", BrokerConfig(port=broker.port))
    try:
        _connect_driven(client)
        assert client.settle(1.0)  # nothing published yet: nothing to wait for
        client.publish("t/1", b"called")
        assert client.settle(2.0)
        assert broker._proc is not None
        broker._proc.send_signal(signal.SIGSTOP)
        try:
            client.publish("t/1", b"called again")
            t0 = time.monotonic()
            assert not client.settle(0.2)
            assert 0.2 <= time.monotonic() - t0 < 1.0
        finally:
            broker._proc.send_signal(signal.SIGCONT)
        assert client.settle(5.0)
    finally:
        client.close()


def test_a_partners_message_is_read_before_this_sessions_copy_of_it(broker: DevBroker) -> None:
    # The queue's kiosks' session hears every command topic, its staff session
    # (the partner) the counters' only: both get a counter's command. The
    # staff copy is read first and this session's copy waits for the next
    # poll, but only once in a row: a partner's flood cannot leave it unread.
    main = MqttClient("hold-main", BrokerConfig(port=broker.port))
    staff = MqttClient("hold-staff", BrokerConfig(port=broker.port))
    main.subscribe("cmd/+", lambda _t, _p: None)
    staff.subscribe("cmd/counter-1", lambda _t, _p: None)
    main.drive_with(staff)
    sender = MqttClient("hold-sender", BrokerConfig(port=broker.port))
    sender.start()
    try:
        _connect_driven(main)
        while not staff.connected:
            main.poll(0.05)
        assert sender.wait_connected(5)
        time.sleep(0.2)  # the SUBACKs
        sender.publish("cmd/counter-1", b"call_next")
        time.sleep(0.3)  # both copies wait in their sockets
        main.poll(1.0)
        assert (staff.received, main.received) == (1, 0)
        main.poll(1.0)
        assert (staff.received, main.received) == (1, 1)
        for n in range(20):  # a flood from one counter
            sender.publish("cmd/counter-1", str(n).encode())
        time.sleep(0.3)
        polls = 0
        while main.received < 21 and polls < 200:
            main.poll(0.5)
            polls += 1
        assert (main.received, staff.received) == (21, 21)
        assert polls <= 2 * 20 + 2  # this session read at least every other poll
    finally:
        sender.stop()
        main.close()


def test_topic_filters_match_as_paho_matches_them() -> None:
    # Made once per subscription instead of paho's matcher tree per message
    # and filter; every filter and topic shape below must agree with paho.
    filters = ["#", "+", "+/+", "a/#", "a/+", "a/+/c", "a/b", "+/b/#", "a/b/c/#", "$SYS/#", "+/#"]
    filters += ["a/+/#", "/+", "+/", "/#", "a//b", "a/+/+", "antrean/kec-01/cmd/+"]
    topics = ["", "a", "a/b", "a/b/c", "a/b/c/d", "b", "/a", "a/", "$SYS/x", "$SYS", "a//b"]
    topics += ["/", "a/x/c", "x/b", "x/b/y", "//", "antrean/kec-01/cmd/counter-4"]
    for topic_filter in filters:
        matches = mqtt._matcher(topic_filter)
        for topic in topics:
            expected = paho.topic_matches_sub(topic_filter, topic)
            assert matches(topic) == expected, (topic_filter, topic)
