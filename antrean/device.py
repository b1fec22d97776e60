"""One device's link to its office: presence and health, commands, state and events.

The kiosk, the board and the counter all talk to the queue service through a
DeviceLink. It owns the device's MQTT connection (client id = device id, so
the broker can bind credentials to it), publishes the retained
`device/{id}/status` with an `online: false` last will, keeps the latest
retained `state/...` payloads, and sends commands whose replies come back to
a callback, each reply parsed once, here, into a typed `Reply`.

Commands go out at QoS 0 on purpose. At QoS 1 paho keeps a command it could
not deliver and sends it after the next reconnect, so a button pressed while
the broker was away would fire minutes later (a surprise ticket, a surprise
call). At QoS 0 a command either reaches the queue service now or never; the
device hears nothing back within its timeout and tells the user, who presses
again. Devices that must learn the outcome of a command that may have run
(the kiosk's `issue`) resend it with the same id: the service answers a
repeated id with its first answer and does not run it twice.

Callbacks run on the MQTT network thread (or a timer thread for timeouts).
UI apps hand them to their own main thread (Kivy: Clock.schedule_once).
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from antrean import __version__, protocol
from antrean.config import Config
from antrean.mqtt import MqttClient, Will

log = logging.getLogger(__name__)

BAD_REPLY = "bad_reply"  # the code of a reply that is not the contract's shape


@dataclass(frozen=True, slots=True)
class Reply:
    """The queue service's answer to one command, as every app reads it."""

    id: str | None
    ok: bool
    code: str | None = None  # None on success; the error code otherwise
    message: str = ""  # the service's message on a refusal (Indonesian, for people)
    result: dict[str, Any] = field(default_factory=dict)
    ticket: dict[str, Any] | None = None  # result.ticket, when the command acted on one
    body: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)  # the wire

    @property
    def ticket_code(self) -> str | None:
        """The code ("A012") of the ticket the command acted on, if any."""
        code = (self.ticket or {}).get("code")
        return code if isinstance(code, str) else None


def parse_reply(body: object) -> Reply:
    """A reply from its JSON: `{"id","ok","result"}` or `{"id","ok":false,"error":{...}}`.

    Anything else is a failed Reply with code `bad_reply` (keeping its id when it
    has one, so the waiting command hears of it instead of timing out). Only an
    error may lack an id: the service could not read the command's.
    """
    if not isinstance(body, dict):
        return Reply(None, False, BAD_REPLY, f"a reply must be a JSON object, got {body!r:.80}")
    cmd_id = body.get("id") if isinstance(body.get("id"), str) else None
    ok, result, error = body.get("ok"), body.get("result", {}), body.get("error")
    if ok is True and isinstance(result, dict) and cmd_id is not None:
        ticket = result.get("ticket")
        ticket = ticket if isinstance(ticket, dict) else None
        return Reply(cmd_id, True, None, "", result, ticket, body)
    if ok is False and isinstance(error, dict):
        code, message = error.get("code"), error.get("message")
        code = code if isinstance(code, str) and code else "error"
        return Reply(cmd_id, False, code, message if isinstance(message, str) else "", body=body)
    return Reply(cmd_id, False, BAD_REPLY, f"not a reply of the contract: {body!r:.80}", body=body)


def decode_reply(payload: bytes) -> Reply:
    """A reply from the bytes of a `reply/{device}` message."""
    try:
        return parse_reply(json.loads(payload))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return Reply(None, False, BAD_REPLY, f"a reply that is not JSON: {payload[:80]!r}")


class CommandIds:
    """Command ids `{device}-{random}-{n}`: unique per process start.

    The service remembers ids for days, and a reused id after a reboot would
    return an old answer (an old ticket) instead of a new one.
    """

    def __init__(self, device_id: str) -> None:
        self.prefix = f"{device_id}-{uuid.uuid4().hex[:10]}"
        self._numbers = itertools.count(1)  # next() on a count is atomic under the GIL

    def __call__(self) -> str:
        return f"{self.prefix}-{next(self._numbers)}"


class NoAnswer(TimeoutError):
    """The queue service did not answer in time (down, or the wrong office id)."""

    def __init__(self, message: str, cmd_id: str = "", sends: int = 0) -> None:
        super().__init__(message)
        self.cmd_id = cmd_id
        self.sends = sends  # how many times the command went out (0: never reached the broker)


ReplyHandler = Callable[[Reply | None], None]  # None: no answer within the timeout
TimeoutHandler = Callable[[bool], None]  # True: the same id is being sent again
StateHandler = Callable[[str, dict[str, Any]], None]  # ("service/A", payload)
EventHandler = Callable[[dict[str, Any]], None]
LinkHandler = Callable[[bool], None]  # True: broker connected and queue service online


class NotConnected(ConnectionError):
    """The broker cannot be reached right now; nothing was sent."""


class DeviceLink:
    """A device's MQTT session with the queue service of its office."""

    def __init__(
        self,
        config: Config,
        device_id: str,
        role: str,
        on_state: StateHandler | None = None,
        on_event: EventHandler | None = None,
        on_link: LinkHandler | None = None,
        health: dict[str, Any] | None = None,
    ) -> None:
        self.config = config
        self.office = config.office.id
        self.device_id = device_id
        self.role = role
        self._on_state = on_state
        self._on_event = on_event
        self._on_link = on_link
        self._health: dict[str, Any] = dict(health or {})
        self._lock = threading.Lock()
        self._pending: dict[str, _Waiting] = {}
        self._state: dict[str, dict[str, Any]] = {}
        self._queue_online = False
        self._queue_error: str | None = None
        self._ids = CommandIds(device_id)
        self.mqtt = MqttClient(
            device_id,
            config.broker,
            will=Will(self._status_topic, self._status(online=False)),
            on_connect=self._announce,
        )
        self.mqtt.subscribe(protocol.reply_topic(self.office, device_id), self._on_reply, False)
        self.mqtt.subscribe(protocol.state_topic(self.office, "#"), self._on_state_message)
        self.mqtt.subscribe(f"{protocol.ROOT}/{self.office}/event/#", self._on_event_message)
        status = protocol.status_topic(self.office, protocol.QUEUE_DEVICE)
        self.mqtt.subscribe(status, self._on_queue_status)
        self._was_connected = False
        self._watch = threading.Event()
        self._watcher = threading.Thread(target=self._watch_link, daemon=True, name="link-watch")

    # ---- lifecycle -----------------------------------------------------------

    def start(self) -> DeviceLink:
        """Connects in the background; keeps reconnecting until stop()."""
        self.mqtt.start()
        self._watcher.start()
        return self

    def stop(self) -> None:
        """Says goodbye (retained `online: false`) and disconnects."""
        self._watch.set()
        if self.mqtt.connected:
            self.mqtt.publish_and_wait(self._status_topic, self._status(online=False), timeout=2)
        self.mqtt.stop()
        with self._lock:
            pending = list(self._pending.values())
            self._pending.clear()
        for waiting in pending:
            waiting.timer.cancel()

    @property
    def connected(self) -> bool:
        """Connected to the broker, with every subscription in place."""
        return self.mqtt.connected

    @property
    def queue_online(self) -> bool:
        """The queue service's own retained status says it is running."""
        return self.connected and self._queue_online

    @property
    def queue_error(self) -> str | None:
        """Why the queue service stopped, from its presence (e.g. "disk_full"), or None."""
        return None if self.queue_online else self._queue_error

    # ---- commands ------------------------------------------------------------

    def new_id(self) -> str:
        """A fresh command id of this device."""
        return self._ids()

    def send(
        self,
        action: str,
        args: dict[str, Any] | None = None,
        on_reply: ReplyHandler | None = None,
        timeout: float = 5.0,
        cmd_id: str | None = None,
        resend_for: float | None = None,
        on_timeout: TimeoutHandler | None = None,
    ) -> str:
        """Sends a command now or raises NotConnected; on_reply gets the Reply, or None.

        None means no answer will come. With `resend_for` (seconds from now), a
        timeout is told to `on_timeout(resending)` and, while the queue service
        is reachable and the time is not up, the same id goes out again: the
        service answers a repeated id with its first answer and runs nothing
        twice. on_reply(None) follows the last timeout.
        """
        if not self.connected:
            raise NotConnected("not connected to the office broker")
        until = None if resend_for is None else time.monotonic() + resend_for
        waiting = _Waiting(action, args or {}, on_reply or _ignore, timeout, until, on_timeout)
        return self._publish(cmd_id or self.new_id(), waiting)

    def request(
        self,
        action: str,
        args: dict[str, Any] | None = None,
        timeout: float = 5.0,
        cmd_id: str | None = None,
        attempts: int = 1,
    ) -> Reply:
        """Sends a command and blocks for its reply (not for UI threads).

        After a timeout the same id is sent again, up to `attempts` sends; a
        broker that is away after the first send is waited for (the id is
        kept). Raises NotConnected when nothing could be sent, NoAnswer (with
        the id and the number of sends) when no reply came.
        """
        cmd_id = cmd_id or self.new_id()
        sends = 0
        for attempt in range(1, attempts + 1):
            got = threading.Event()
            box: list[Reply | None] = []

            def keep(reply: Reply | None, box: list[Reply | None] = box, got: Any = got) -> None:
                box.append(reply)
                got.set()

            try:
                self.send(action, args, keep, timeout, cmd_id)
                sends += 1
            except NotConnected:
                if sends == 0:
                    raise
                time.sleep(timeout)  # the broker may come back; the id is kept
                continue
            got.wait(timeout + 1)
            if box and box[0] is not None:
                if attempt > 1:
                    log.info("%s %s answered on send %d", action, cmd_id, attempt)
                return box[0]
            if attempts > 1:
                log.warning("no answer to %s %s (send %d of %d)", action, cmd_id, attempt, attempts)
        raise NoAnswer(f"no answer to {action} ({cmd_id}) within {timeout} s", cmd_id, sends)

    # ---- state and health ----------------------------------------------------

    def state(self, path: str) -> dict[str, Any] | None:
        """The latest retained state payload, e.g. state("office"), state("service/A")."""
        with self._lock:
            return self._state.get(path)

    def states(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return dict(self._state)

    def resync(self) -> None:
        """Asks the broker for every retained state again (after a gap in event seq)."""
        self.mqtt.subscribe(protocol.state_topic(self.office, "#"), self._on_state_message)

    def set_health(self, **fields: Any) -> None:
        """Merges fields into the device status (e.g. printer="paper_out") and republishes."""
        with self._lock:
            changed = any(self._health.get(k) != v for k, v in fields.items())
            self._health.update(fields)
        if changed and self.connected:
            self.mqtt.publish(self._status_topic, self._status(online=True), retain=True)

    @property
    def health(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._health)

    # ---- internals -----------------------------------------------------------

    @property
    def _status_topic(self) -> str:
        return protocol.status_topic(self.office, self.device_id)

    def _status(self, online: bool) -> dict[str, Any]:
        with self._lock:
            health = dict(self._health)
        return {"online": online, "role": self.role, "version": __version__, **health}

    def _announce(self) -> None:
        self.mqtt.publish(self._status_topic, self._status(online=True), retain=True)

    def _watch_link(self) -> None:
        # Two sources (the broker connection, the queue service's retained
        # status) make one answer to "can this device work now?"; a 0.1 s poll
        # turns them into one "link changed" callback.
        while not self._watch.wait(0.1):
            now = self.queue_online
            if now != self._was_connected:
                self._was_connected = now
                if self._on_link:
                    self._tell_link(now)

    def _tell_link(self, online: bool) -> None:
        # An app's callback that raises must not end the watch: the app would
        # never hear of the link again (an "online" screen after the link is gone).
        assert self._on_link is not None
        try:
            self._on_link(online)
        except Exception:
            log.exception("the device's on_link callback failed (online=%s)", online)

    def _publish(self, cmd_id: str, waiting: _Waiting) -> str:
        waiting.timer = threading.Timer(waiting.timeout, self._expire, args=(cmd_id,))
        waiting.timer.daemon = True
        with self._lock:
            old = self._pending.pop(cmd_id, None)
            self._pending[cmd_id] = waiting
        if old:
            old.timer.cancel()
        body = {"id": cmd_id, "action": waiting.action, "args": waiting.args}
        topic = protocol.cmd_topic(self.office, self.device_id)
        waiting.timer.start()
        if not self.mqtt.publish(topic, body, qos=0):
            self._forget(cmd_id)
            raise NotConnected("the broker connection dropped while sending")
        return cmd_id

    def _expire(self, cmd_id: str) -> None:
        waiting = self._forget(cmd_id)
        if waiting is None:
            return
        log.warning("no answer to command %s", cmd_id)
        if waiting.resend_until is not None:
            again = self.queue_online and time.monotonic() < waiting.resend_until
            if waiting.on_timeout:
                waiting.on_timeout(again)
            if again:
                try:
                    self._publish(cmd_id, waiting)
                    return
                except NotConnected:
                    log.warning("command %s: the link dropped before it went out again", cmd_id)
        waiting.on_reply(None)

    def _forget(self, cmd_id: str) -> _Waiting | None:
        with self._lock:
            waiting = self._pending.pop(cmd_id, None)
        if waiting:
            waiting.timer.cancel()
        return waiting

    def _on_reply(self, _topic: str, payload: bytes) -> None:
        reply = decode_reply(payload)
        waiting = self._forget(reply.id) if reply.id is not None else None
        if waiting:
            waiting.on_reply(reply)
        elif reply.id is None:
            log.warning("ignored a reply without a command id: %s", reply.message)

    def _on_state_message(self, topic: str, payload: bytes) -> None:
        prefix = protocol.state_topic(self.office) + "/"
        body = _decode(payload)
        if body is None or not topic.startswith(prefix):
            return  # an empty retained message clears a stale topic
        path = topic[len(prefix) :]
        with self._lock:
            self._state[path] = body
        if self._on_state:
            self._on_state(path, body)

    def _on_event_message(self, _topic: str, payload: bytes) -> None:
        body = _decode(payload)
        if body is not None and self._on_event:
            self._on_event(body)

    def _on_queue_status(self, _topic: str, payload: bytes) -> None:
        body = _decode(payload)
        self._queue_online = bool(body and body.get("online"))
        error = body.get("error") if body else None
        self._queue_error = error if isinstance(error, str) else None


def _ignore(_reply: Reply | None) -> None:
    pass


@dataclass(slots=True)
class _Waiting:
    """A command sent and not answered yet, with what to do when its time is up."""

    action: str
    args: dict[str, Any]
    on_reply: ReplyHandler
    timeout: float
    resend_until: float | None = None  # monotonic; None: no resend
    on_timeout: TimeoutHandler | None = None
    timer: threading.Timer = field(init=False)


def _decode(payload: bytes) -> dict[str, Any] | None:
    try:
        body = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError):
        log.warning("ignored a message that is not JSON: %r", payload[:80])
        return None
    return body if isinstance(body, dict) else None
