"""One device's link to its office: presence and health, commands, state and events.

The kiosk, the board and the counter all talk to the queue service through a
DeviceLink. It owns the device's MQTT connection (client id = device id, so
the broker can bind credentials to it), publishes the retained
`device/{id}/status` with an `online: false` last will, keeps the latest
retained `state/...` payloads, and sends commands whose replies come back to
a callback.

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

import json
import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any

from antrean import __version__, protocol
from antrean.client import NoAnswer
from antrean.config import Config
from antrean.mqtt import MqttClient, Will

log = logging.getLogger(__name__)

Reply = dict[str, Any]
ReplyHandler = Callable[[Reply | None], None]  # None: no answer within the timeout
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
        self._pending: dict[str, tuple[ReplyHandler, threading.Timer]] = {}
        self._state: dict[str, dict[str, Any]] = {}
        self._queue_online = False
        self._queue_error: str | None = None
        # Unique per process start: the service remembers ids for days, and a
        # reused id after a reboot would return an old answer.
        self._id_prefix = f"{device_id}-{uuid.uuid4().hex[:10]}"
        self._next_id = 0
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
        for _handler, timer in pending:
            timer.cancel()

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
        with self._lock:
            self._next_id += 1
            return f"{self._id_prefix}-{self._next_id}"

    def send(
        self,
        action: str,
        args: dict[str, Any] | None = None,
        on_reply: ReplyHandler | None = None,
        timeout: float = 5.0,
        cmd_id: str | None = None,
    ) -> str:
        """Sends a command now or raises NotConnected; on_reply gets the reply or None."""
        if not self.connected:
            raise NotConnected("not connected to the office broker")
        cmd_id = cmd_id or self.new_id()
        handler = on_reply or (lambda _reply: None)
        timer = threading.Timer(timeout, self._expire, args=(cmd_id,))
        timer.daemon = True
        with self._lock:
            old = self._pending.pop(cmd_id, None)
            self._pending[cmd_id] = (handler, timer)
        if old:
            old[1].cancel()
        body = {"id": cmd_id, "action": action, "args": args or {}}
        topic = protocol.cmd_topic(self.office, self.device_id)
        timer.start()
        if not self.mqtt.publish(topic, body, qos=0):
            self._forget(cmd_id)
            raise NotConnected("the broker connection dropped while sending")
        return cmd_id

    def request(
        self, action: str, args: dict[str, Any] | None = None, timeout: float = 5.0
    ) -> Reply:
        """Sends a command and blocks for its reply (not for UI threads)."""
        done = threading.Event()
        box: list[Reply | None] = []

        def keep(reply: Reply | None) -> None:
            box.append(reply)
            done.set()

        cmd_id = self.send(action, args, keep, timeout)
        done.wait(timeout + 1)
        if not box or box[0] is None:
            raise NoAnswer(f"no answer to {action} ({cmd_id}) within {timeout} s")
        return box[0]

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

    def _expire(self, cmd_id: str) -> None:
        entry = self._forget(cmd_id)
        if entry:
            log.warning("no answer to command %s", cmd_id)
            entry[0](None)

    def _forget(self, cmd_id: str) -> tuple[ReplyHandler, threading.Timer] | None:
        with self._lock:
            entry = self._pending.pop(cmd_id, None)
        if entry:
            entry[1].cancel()
        return entry

    def _on_reply(self, _topic: str, payload: bytes) -> None:
        reply = _decode(payload)
        cmd_id = reply.get("id") if reply else None
        entry = self._forget(cmd_id) if isinstance(cmd_id, str) else None
        if entry and reply is not None:
            entry[0](reply)

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


def _decode(payload: bytes) -> dict[str, Any] | None:
    try:
        body = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError):
        log.warning("ignored a message that is not JSON: %r", payload[:80])
        return None
    return body if isinstance(body, dict) else None
