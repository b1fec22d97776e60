"""The web's view of the office: its MQTT link, the retained state it keeps, and change signals.

One DeviceLink (the web's own device id and role) holds the retained
`state/...`; presence of every device comes from `device/+/status` (the web's
broker login may read it, like the admin tools). Each change bumps a version
and wakes the page streams (SSE), which then render the current state: a
burst of events costs one render per stream, not one per event.

MQTT callbacks run on paho's thread; the streams wait on asyncio events, so
the wake-up goes through each loop's call_soon_threadsafe.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from antrean import protocol
from antrean.config import Config
from antrean.device import DeviceLink, NoAnswer, NotConnected, Reply

log = logging.getLogger(__name__)
COMMAND_TIMEOUT_S = 5.0


class OfficeLive:
    """What the web knows of the office now, and its commands to the queue service."""

    def __init__(self, config: Config, device_id: str) -> None:
        self.config = config
        self.office = config.office.id
        self._lock = threading.Lock()
        self._devices: dict[str, dict[str, Any]] = {}
        self._units: dict[tuple[str, str], dict[str, Any]] = {}  # (unit, "ack"/"status") -> body
        self.version = 0
        # Called on paho's thread with a state path ("office", ...), or None
        # when the queue service comes back (web/ikm_state.py republishes).
        self.listeners: list[Callable[[str | None], None]] = []
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self.link = DeviceLink(
            config,
            device_id,
            "web",
            on_state=self._state_changed,
            on_event=self._event,
            on_link=self._link_changed,
        )
        self.link.mqtt.subscribe(protocol.status_topic(self.office, "+"), self._on_status)
        for leg in ("ack", "status"):  # issue 13: the units' retained sync legs
            self.link.mqtt.subscribe(protocol.sync_topic(self.office, "+", leg), self._on_sync)

    def start(self) -> OfficeLive:
        self.link.start()
        return self

    def stop(self) -> None:
        self.link.stop()

    # ---- what the pages read --------------------------------------------------

    def state(self, path: str) -> dict[str, Any] | None:
        return self.link.state(path)

    def devices(self) -> dict[str, dict[str, Any]]:
        """device id -> its last retained status (online, role, health)."""
        with self._lock:
            return dict(self._devices)

    def unit_sync(self, unit: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The unit's last retained ack (from the office) and status (from the unit), if heard."""
        with self._lock:
            return self._units.get((unit, "ack")), self._units.get((unit, "status"))

    @property
    def queue_online(self) -> bool:
        return self.link.queue_online

    def request(self, action: str, args: dict[str, Any]) -> Reply:
        """A command as the web device; raises NotConnected or NoAnswer."""
        return self.link.request(action, args, timeout=COMMAND_TIMEOUT_S)

    # ---- change signals -------------------------------------------------------

    async def changed(self, seen: int, timeout: float) -> int:
        """Waits until the version passes `seen` (or the timeout); the version now."""
        if self.version != seen:
            return self.version
        event = asyncio.Event()
        waiter = (asyncio.get_running_loop(), event)
        with self._lock:
            self._waiters.add(waiter)
        try:
            if self.version == seen:  # a change between the check and the add
                await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            pass
        finally:
            with self._lock:
                self._waiters.discard(waiter)
        return self.version

    def _bump(self) -> None:
        with self._lock:
            self.version += 1
            waiters = list(self._waiters)
        for loop, event in waiters:
            with contextlib.suppress(RuntimeError):  # that loop has closed; its stream is gone
                loop.call_soon_threadsafe(event.set)

    def _state_changed(self, path: str, _body: dict[str, Any]) -> None:
        self._tell(path)
        self._bump()

    def _tell(self, path: str | None) -> None:
        for listener in list(self.listeners):
            try:
                listener(path)
            except Exception:  # a listener's fault must not stop the page updates
                log.exception("a state listener failed on %s", path)

    def _event(self, _body: dict[str, Any]) -> None:
        self._bump()

    def _link_changed(self, online: bool) -> None:
        log.info("queue service %s", "reachable" if online else "not reachable")
        if online:
            self._tell(None)
        self._bump()

    def _on_status(self, topic: str, payload: bytes) -> None:
        prefix = f"{protocol.ROOT}/{self.office}/device/"
        device = topic[len(prefix) :].rsplit("/", 1)[0]
        try:
            body = json.loads(payload) if payload else None
        except (UnicodeDecodeError, json.JSONDecodeError):
            log.warning("ignored a status of %s that is not JSON", device)
            return
        with self._lock:
            if isinstance(body, dict):
                self._devices[device] = body
            else:
                self._devices.pop(device, None)  # an empty retained message: forgotten
        self._bump()

    def _on_sync(self, topic: str, payload: bytes) -> None:
        unit, leg = topic.rsplit("/", 2)[-2:]
        try:
            body = json.loads(payload) if payload else None
        except (UnicodeDecodeError, json.JSONDecodeError):
            log.warning("ignored a sync %s of %s that is not JSON", leg, unit)
            return
        with self._lock:
            if isinstance(body, dict):
                self._units[(unit, leg)] = body
            else:
                self._units.pop((unit, leg), None)
        self._bump()


__all__ = ["NoAnswer", "NotConnected", "OfficeLive"]
