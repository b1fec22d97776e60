"""The one door to the network: the only module that imports paho-mqtt.

Everything else calls `publish` and `subscribe` with dicts and plain callbacks.
Callbacks run on paho's network thread; an exception in one is logged and
handed to an `on_callback_error` hook (tests fail on it) instead of killing
that thread.
"""

from __future__ import annotations

import json
import logging
import re
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from antrean.config import BrokerConfig

log = logging.getLogger(__name__)

MessageHandler = Callable[[str, bytes], None]
QOS = 1  # the contract: at-least-once everywhere, duplicates absorbed by command ids
# Reconnect quickly after a broker restart (1 s) but back off to 10 s so a dead
# broker is not hammered; a restart on a Pi takes a few seconds.
RECONNECT_MIN_S = 1
RECONNECT_MAX_S = 10
# A burst of calls while the broker is away must not grow memory without bound.
MAX_QUEUED_MESSAGES = 10_000
# A connection the broker drops this soon after accepting it was most likely
# taken over: another client connected with the same client id (Mosquitto
# closes the older session; MQTT 3.1.1 gives no reason). A real broker
# restart or network loss rarely follows a fresh connect this closely.
TAKEOVER_S = 2.0
# Back-off between take-overs: kept below TAKEOVER_S, so that the other
# client's next take-over still counts as one (see antrean/rival.py).
TAKEOVER_BACKOFF_S = 0.25
TAKEOVER_BACKOFF_MAX_S = 1.0
PAHO_INFLIGHT = 20  # paho's default: plenty for a device's few messages

CallbackErrorHook = Callable[[BaseException], None]


def _ignore(_exc: BaseException) -> None:
    """The default hook: the exception has been logged, nothing more to do."""


_default_hook: CallbackErrorHook = _ignore


def set_default_callback_error_hook(hook: CallbackErrorHook | None) -> CallbackErrorHook:
    """The hook of every client made without its own (e.g. a test's guard); returns the old one."""
    global _default_hook
    old, _default_hook = _default_hook, hook or _ignore
    return old


@dataclass(frozen=True, slots=True)
class Will:
    """The retained message the broker publishes if this client vanishes."""

    topic: str
    payload: dict[str, Any]


def _guard(fn: Callable[..., None], hook: CallbackErrorHook | None) -> Callable[..., None]:
    def wrapper(*args: Any) -> None:
        try:
            fn(*args)
        except Exception as exc:
            log.exception("MQTT callback %s failed", getattr(fn, "__name__", fn))
            # The default is looked up now: a test's guard applies to clients made before it.
            (hook or _default_hook)(exc)

    return wrapper


class MqttClient:
    """A paho client with our defaults: QoS 1, TCP_NODELAY, last will, auto-reconnect, TLS."""

    def __init__(
        self,
        client_id: str,
        broker: BrokerConfig,
        will: Will | None = None,
        on_connect: Callable[[], None] | None = None,
        username: str | None = None,
        max_inflight: int = PAHO_INFLIGHT,
        max_queued: int = MAX_QUEUED_MESSAGES,
        on_callback_error: CallbackErrorHook | None = None,
        ack_later: bool = False,
    ) -> None:
        """`username` is the login name when the broker asks for one (default: client_id).

        `max_inflight` QoS 1 messages go to the socket before their PUBACKs;
        paho keeps up to `max_queued` unacknowledged ones in all.
        `on_callback_error` gets each exception a callback raised (after it is
        logged); without one, the default hook (set_default_callback_error_hook).
        `ack_later`: a received QoS 1 message's PUBACK waits for send_acks()
        (paho sends it before reading on, a write on the way to the handler).
        """
        self.client_id = client_id
        self.broker = broker
        self._handlers: dict[str, MessageHandler] = {}
        self._matches: dict[str, Callable[[str], bool]] = {}  # per filter, made once
        self._no_retained: set[str] = set()
        self._unacked: set[int] = set()  # SUBSCRIBE message ids not yet acknowledged
        self._driven = False
        self._next_attempt = 0.0
        self._backoff = float(RECONNECT_MIN_S)
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self._stopping = False
        self._user_on_connect = on_connect
        self._connected_at: float | None = None  # monotonic time of the last CONNACK
        self._quick_losses = 0
        self._partners: list[MqttClient] = []
        self._ack_later = ack_later
        self._acks: list[int] = []  # message ids of received QoS 1 messages, ack_later only
        self.received = 0  # messages handed to the handlers (poll(): did a partner bring one?)
        self._held = False  # poll() left this socket unread once for a partner's message
        self._last_out: paho.MQTTMessageInfo | None = None  # the last QoS 1 publish (settle())
        c = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=paho.MQTTv311,  # the contract works over 3.1.1 brokers and bridges
            clean_session=True,  # commands sent while we are away must not fire later
            manual_ack=ack_later,
        )
        c.max_inflight_messages_set(max_inflight)
        c.max_queued_messages_set(max_queued)
        c.reconnect_delay_set(RECONNECT_MIN_S, RECONNECT_MAX_S)
        login = broker.login(username or client_id)
        if login:
            c.username_pw_set(*login)
        if broker.tls_ca:
            c.tls_set(ca_certs=str(broker.tls_ca), tls_version=ssl.PROTOCOL_TLS_CLIENT)
        if will:
            c.will_set(will.topic, _encode(will.payload), qos=QOS, retain=True)
        hook = on_callback_error
        c.on_connect = _guard(self._on_connect, hook)
        c.on_disconnect = _guard(self._on_disconnect, hook)
        c.on_message = _guard(self._on_message, hook)
        c.on_subscribe = _guard(self._on_subscribe, hook)
        c.on_socket_open = _guard(self._on_socket_open, hook)
        self._client = c

    # ---- lifecycle -----------------------------------------------------------

    def start(self) -> None:
        """Connects in the background and keeps reconnecting until stop()."""
        log.info("connecting to MQTT broker %s:%d as %s", *self._where(), self.client_id)
        self._client.connect_async(self.broker.host, self.broker.port, self.broker.keepalive_s)
        self._client.loop_start()

    def stop(self) -> None:
        """Disconnects cleanly (no last will) and stops the network thread."""
        self._stopping = True
        self._client.disconnect()
        self._client.loop_stop()
        self._connected.clear()

    # ---- driven mode: the owner's thread runs the network, no paho thread -------

    def open(self) -> None:
        """Prepares a connection that poll() drives from the caller's thread.

        The queue service uses this: with no network thread, a publish made on
        the calling thread is written to the socket at once, so a call's event
        does not wait for the GIL behind the work that follows it.
        """
        for c in [self, *self._partners]:
            log.info("connecting to MQTT broker %s:%d as %s", *c._where(), c.client_id)
            c._client.connect_async(c.broker.host, c.broker.port, c.broker.keepalive_s)
            c._driven = True

    def drive_with(self, other: MqttClient) -> None:
        """Opens, polls and closes `other` with this client, waiting on both sockets at once."""
        self._partners.append(other)

    def poll(self, timeout: float, read: bool = True) -> None:
        """Reads, writes and keeps alive for up to `timeout` s; reconnects with back-off.

        The partners of drive_with() are driven too, and a message on any of
        the sockets ends the wait. With read=False this client's own socket is
        not read (its messages wait in the broker); it still writes and keeps
        alive, and the partners are read.
        """
        clients = [*self._partners, self]  # the partners first: see the end
        live = [c for c in clients if c._socket_or_reconnect()]
        if not live:
            wait = min(c._next_attempt for c in clients) - time.monotonic()
            time.sleep(max(0.0, min(timeout, wait)))
            return
        if dead := [c._next_attempt for c in clients if c not in live]:
            timeout = min(timeout, max(0.0, min(dead) - time.monotonic()))  # a reconnect is due
        socks = {c: sock for c in live if (sock := c._client.socket()) is not None}
        readers = [c for c in live if read or c is not self]
        if any(c._pending() for c in readers):
            timeout = 0.0  # TLS already holds decrypted bytes the socket will not signal
        try:
            r, w, _ = select.select(
                [socks[c] for c in readers],
                [socks[c] for c in live if c._client.want_write()],
                [],
                timeout,
            )
        except (OSError, TypeError, ValueError):
            r, w = [], []  # a socket closed under us; loop_misc notices the lost connection
        before = sum(p.received for p in self._partners)
        for c in live:
            readable = c in readers and (socks[c] in r or c._pending())
            if c is self:
                # The queue's staff session is the partner, and this session hears
                # every command topic too: when the partner brought a message, this
                # socket's copy of it waits for the next poll (after the batch)
                # instead of being read before it. Once in a row only, so that a
                # partner's flood cannot leave this socket unread.
                hold = readable and not self._held
                hold = hold and sum(p.received for p in self._partners) > before
                self._held = hold
                readable = readable and not hold
            c._drive(readable, socks[c] in w)

    def _drive(self, readable: bool, writable: bool) -> None:
        rc = paho.MQTT_ERR_SUCCESS
        if readable:
            rc = self._client.loop_read()
        if rc == paho.MQTT_ERR_SUCCESS and writable and self._client.socket() is not None:
            rc = self._client.loop_write()
        if rc == paho.MQTT_ERR_SUCCESS and self._client.socket() is not None:
            self._client.loop_misc()

    def _pending(self) -> bool:
        sock = self._client.socket()
        return bool(sock is not None and hasattr(sock, "pending") and sock.pending())

    def _socket_or_reconnect(self) -> bool:
        """Whether the client has a socket, after a reconnect attempt if one is due."""
        if self._client.socket() is not None:
            return True
        now = time.monotonic()
        if now < self._next_attempt:
            return False
        try:
            self._client.reconnect()
            self._backoff = RECONNECT_MIN_S
        except OSError as exc:
            log.warning("cannot reach MQTT broker %s:%d: %s", *self._where(), exc)
            self._next_attempt = now + self._backoff
            self._backoff = min(self._backoff * 2, RECONNECT_MAX_S)
        return self._client.socket() is not None

    def close(self) -> None:
        """Disconnects cleanly in driven mode (the partners of drive_with() too)."""
        for c in [self, *self._partners]:
            c._stopping = True
            c._client.disconnect()
            c._connected.clear()

    def wait_connected(self, timeout: float) -> bool:
        """Waits until connected with every subscription acknowledged by the broker."""
        return self._connected.wait(timeout)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def quick_losses(self) -> int:
        """Connections in a row the broker dropped within TAKEOVER_S of accepting them."""
        at = self._connected_at
        if at is not None and time.monotonic() - at >= TAKEOVER_S:
            return 0  # the current connection has held
        return self._quick_losses

    # ---- messages ------------------------------------------------------------

    def publish(
        self, topic: str, payload: dict[str, Any] | bytes, retain: bool = False, qos: int = QOS
    ) -> bool:
        """Publishes JSON (or raw bytes); False if it could not be handed to the broker now.

        At QoS 1 paho keeps a message it could not send and sends it after the
        next reconnect; at QoS 0 such a message is dropped (see DeviceLink).
        """
        data = payload if isinstance(payload, bytes) else _encode(payload)
        _debug("out", topic, data)
        info = self._client.publish(topic, data, qos=qos, retain=retain)
        if qos:
            self._last_out = info
        return info.rc == paho.MQTT_ERR_SUCCESS

    def settle(self, timeout: float) -> bool:
        """Drives the network until the broker has acknowledged the last QoS 1 publish.

        At most `timeout` s, and only in driven mode (open()); True once the
        PUBACK came. Messages that arrive meanwhile go to their handlers.
        """
        info, deadline = self._last_out, time.monotonic() + timeout
        while info is not None and not info.is_published():
            left = deadline - time.monotonic()
            if left <= 0 or not self._driven or not self.connected:
                return False
            self.poll(left)
        return True

    def publish_and_wait(self, topic: str, payload: dict[str, Any], timeout: float = 5) -> bool:
        """Publishes and waits for the broker's PUBACK (used before a clean stop)."""
        info = self._client.publish(topic, _encode(payload), qos=QOS, retain=True)
        deadline = time.monotonic() + timeout
        while not info.is_published() and time.monotonic() < deadline:
            if self._driven:
                self._client.loop(0.05)  # nobody else reads the PUBACK
            else:
                time.sleep(0.01)
        return info.is_published()

    @contextmanager
    def corked(self) -> Iterator[None]:
        """Publishes made inside leave together, in as few TCP segments as fit, at the end.

        Linux's TCP_CORK: each publish otherwise makes its own segment (TCP_NODELAY),
        and on loopback each send runs the broker side's receive path before the
        next publish starts. Elsewhere, or without a socket, nothing changes.
        """
        sock = self._client.socket()
        cork = getattr(socket, "TCP_CORK", None)
        if sock is None or cork is None or not hasattr(sock, "setsockopt"):
            yield
            return
        try:
            sock.setsockopt(socket.IPPROTO_TCP, cork, 1)
        except OSError:
            yield  # the connection is going; paho notices and reconnects
            return
        try:
            yield
        finally:
            with suppress(OSError):  # a lost connection: nothing to send any more
                sock.setsockopt(socket.IPPROTO_TCP, cork, 0)  # sends what waits, at once

    def send_acks(self) -> None:
        """Sends the PUBACKs held back since the last call (ack_later clients).

        The broker sends at most its max_inflight_messages (Mosquitto: 20)
        unacknowledged messages to a session; the rest wait for these.
        """
        acks, self._acks = self._acks, []
        for mid in acks:
            self._client.ack(mid, QOS)

    def subscribe(
        self, topic_filter: str, handler: MessageHandler, accept_retained: bool = True
    ) -> None:
        """Routes messages matching the filter to handler; survives reconnects.

        With accept_retained=False, messages the broker delivers from its
        retained store are dropped with a warning (a retained command would
        otherwise run again on every reconnect).
        """
        self._handlers[topic_filter] = handler
        self._matches[topic_filter] = _matcher(topic_filter)
        if not accept_retained:
            self._no_retained.add(topic_filter)
        if self.connected:
            self._client.subscribe(topic_filter, qos=QOS)

    # ---- paho callbacks (network thread) -------------------------------------

    def _on_socket_open(self, _c: Any, _u: Any, sock: Any) -> None:
        # paho leaves Nagle on; with delayed ACKs a QoS 1 exchange stalls ~40 ms.
        if isinstance(sock, socket.socket) or hasattr(sock, "setsockopt"):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _on_connect(self, _c: Any, _u: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if reason.is_failure:
            log.error("broker %s:%d refused the connection: %s", *self._where(), reason)
            return
        log.info("connected to MQTT broker %s:%d", *self._where())
        self._connected_at = time.monotonic()
        self._acks.clear()  # the ids of the last connection's messages mean nothing now
        # "Connected" means ready: a command sent before our SUBSCRIBE took
        # effect would be lost, so wait for every SUBACK first.
        with self._lock:
            self._unacked.clear()
            for topic_filter in self._handlers:
                _rc, mid = self._client.subscribe(topic_filter, qos=QOS)
                if mid is not None:
                    self._unacked.add(mid)
            ready = not self._unacked
        if ready:
            self._ready()

    def _on_subscribe(self, _c: Any, _u: Any, mid: int, _codes: Any, _props: Any) -> None:
        with self._lock:
            was_waiting = bool(self._unacked)
            self._unacked.discard(mid)
            ready = was_waiting and not self._unacked
        if ready:
            self._ready()

    def _ready(self) -> None:
        self._connected.set()
        if self._user_on_connect:
            self._user_on_connect()

    def _on_disconnect(self, _c: Any, _u: Any, _flags: Any, reason: Any, _props: Any) -> None:
        was = self._connected.is_set()
        self._connected.clear()
        at, self._connected_at = self._connected_at, None
        if self._stopping:
            return
        held = time.monotonic() - at if at is not None else None
        if held is not None and held < TAKEOVER_S:
            self._quick_losses += 1
            if self._quick_losses >= 2:  # a fight over the client id: not 70 times a second
                delay = TAKEOVER_BACKOFF_S * 2 ** (self._quick_losses - 2)
                self._next_attempt = time.monotonic() + min(delay, TAKEOVER_BACKOFF_MAX_S)
            if self._quick_losses in (1, 2, 10) or self._quick_losses % 100 == 0:
                log.warning(
                    "the MQTT broker %s:%d dropped this connection %.2f s after accepting it"
                    " (%d in a row): another client with client id %s took it over?",
                    *self._where(),
                    held,
                    self._quick_losses,
                    self.client_id,
                )
            return
        self._quick_losses = 0
        if was:
            log.warning("lost the MQTT broker %s:%d (%s); reconnecting", *self._where(), reason)

    def _on_message(self, _c: Any, _u: Any, msg: Any) -> None:
        _debug("in", msg.topic, msg.payload)
        self.received += 1
        if self._ack_later and msg.qos:
            self._acks.append(msg.mid)
        for topic_filter, handler in self._handlers.items():
            if not self._matches[topic_filter](msg.topic):
                continue
            if msg.retain and topic_filter in self._no_retained:
                log.warning("ignored a retained message on %s (must not be retained)", msg.topic)
                continue
            handler(msg.topic, msg.payload)

    def _where(self) -> tuple[str, int]:
        return self.broker.host, self.broker.port


# A walk-in's NIK travels in its kiosk's `issue` command (only the queue
# service may read cmd/+): neither a `nik` field, even mistyped, nor a long run
# of digits reaches a debug line. Nor a resident's name or phone (`book`,
# `find_booking`'s replies): every `name` and `phone` is masked, a service's
# name with them, which a debug line can spare.
_NIK_LIKE = re.compile(
    rb'(?:(?<="nik":")|(?<="nik_last4":")|(?<="name":")|(?<="phone":"))(?:[^"\\]|\\.)*'
    rb"|\d{10,}"
)


def _debug(direction: str, topic: str, data: bytes) -> None:
    """A message's debug line: its start, with anything that could be a NIK masked first."""
    if log.isEnabledFor(logging.DEBUG):
        log.debug("%s %s %s", direction, topic, _NIK_LIKE.sub(b"****", data[:1000])[:200])


def _matcher(topic_filter: str) -> Callable[[str], bool]:
    """Whether a topic matches the filter, the way paho.topic_matches_sub says.

    That builds a matcher tree at each call (about 7 us); the queue's staff
    session holds one filter per counter, all tried for every command. A
    filter without wildcards matches only itself.
    """
    if "+" not in topic_filter and "#" not in topic_filter:
        return topic_filter.__eq__
    levels = topic_filter.split("/")
    rest = levels[-1] == "#"  # the last level: any number of levels, none too
    fixed = levels[:-1] if rest else levels

    def matches(topic: str) -> bool:
        if topic.startswith("$") and levels[0] in ("+", "#"):
            return False  # $SYS and the like: never by a leading wildcard
        parts = topic.split("/")
        if len(parts) < len(fixed) or (not rest and len(parts) != len(fixed)):
            return False
        return all(f in ("+", p) for f, p in zip(fixed, parts, strict=False))

    return matches


def _encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
