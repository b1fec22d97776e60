"""Runs the queue service as a process: config, store, MQTT, signals."""

from __future__ import annotations

import gc
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from antrean import disk, protocol, rival, systemd
from antrean.checkpoint import WalCheckpointer
from antrean.config import Config, ConfigError
from antrean.engine import Clock
from antrean.mqtt import MqttClient, Will
from antrean.protocol import queue_staff_user, queue_user
from antrean.rival import AnotherQueueService
from antrean.service import QueueService
from antrean.store import Store

log = logging.getLogger(__name__)
EXIT_SOFTWARE = 70  # sysexits EX_SOFTWARE: an internal error, restart wanted
# The service publishes a reply, an event and states per command, up to 256
# commands a batch, before it next reads PUBACKs: with paho's default of 20 in
# flight the rest of a batch waits in paho for later polls. 0 is no limit:
# every publish goes to the socket at once. (Not a large limit: paho then scans
# every unacknowledged message on each PUBACK; at 1,000 that scan took more of
# the worker's time in a burst than everything else.) paho keeps at most
# 100,000 unacknowledged, as many as the broker queues per client.
SERVICE_INFLIGHT = 0
SERVICE_QUEUED = 100_000


def utc_now() -> datetime:
    """The production clock: aware UTC; office-local time is derived from it."""
    return datetime.now(UTC)


class QueueServiceRunner:
    """The queue service wired to its store and broker; start() and stop()."""

    def __init__(
        self,
        config: Config,
        clock: Clock = utc_now,
        on_fatal: Callable[[BaseException], None] | None = None,
        on_rival: Callable[[], None] | None = None,
    ) -> None:
        """`on_rival` is called (from the worker) when this service yields to another."""
        self.config = config
        # The WAL goes back into the file on a thread of its own, never in a commit.
        self.store = Store(config.store_path, autocheckpoint=False)
        self.checkpointer = WalCheckpointer(config.store_path)
        self.watchdog = systemd.Watchdog()
        # Production ends the process so systemd restarts it from the store;
        # tests pass a hook that fails the test instead of ending pytest.
        self._fatal = on_fatal or _exit_for_restart
        self.service = QueueService(
            config, self.store, clock, on_fatal=self._on_fatal, on_loop=self._loop
        )
        office = config.office.id
        self.status_topic = protocol.status_topic(office, protocol.QUEUE_DEVICE)
        self.client_id = queue_user(office)
        self.mqtt = MqttClient(
            client_id=self.client_id,
            broker=config.broker,
            will=Will(self.status_topic, self.service.presence(False)),
            on_connect=self.service.on_connected,
            max_inflight=SERVICE_INFLIGHT,
            max_queued=SERVICE_QUEUED,
        )
        self.rival: AnotherQueueService | None = None
        self._on_rival = on_rival or (lambda: None)
        self._other: dict[str, Any] | None = None  # the latest presence of another instance
        self.mqtt.subscribe(self.status_topic, self._on_presence)
        self.staff_mqtt = _staff_session(config)
        if self.staff_mqtt:
            self.mqtt.drive_with(self.staff_mqtt)
        self.service.attach(self.mqtt, self.staff_mqtt)

    def start(self) -> QueueServiceRunner:
        """Serves, unless its disk is full (StoreFull) or another service serves the office."""
        folder = self.config.store_path.parent
        if disk.free_bytes(folder) < disk.MIN_FREE_BYTES:
            self.mqtt.open()
            self._say_why_stopped(disk.DISK_FULL)
            raise StoreFull(
                f"only {disk.free_bytes(folder) // 1024} KB free for the store in "
                f"{disk.filesystem(folder)}; it needs {disk.MIN_FREE_BYTES // 2**20} MB"
            )
        rival.probe(self.config.broker, self.client_id, self.config.office.id, self.instance)
        self.mqtt.open()  # the service's worker thread drives the network
        self.checkpointer.start()
        self.service.start()
        engine = self.service.engine
        log.info(
            "queue service for %s (%s) running; store %s, day %s, seq %d",
            self.config.office.name,
            self.config.office.id,
            self.config.store_path,
            engine.day,
            engine.seq,
        )
        # Type=notify: systemd starts units ordered after us only now.
        systemd.notify("READY=1", f"STATUS=serving {self.config.office.id}, day {engine.day}")
        return self

    @property
    def instance(self) -> str:
        return self.service.instance

    def stop(self) -> None:
        systemd.notify("STOPPING=1")
        self.service.stop()
        # A clean stop says "offline" itself; the last will covers the unclean ones.
        # Yielding to a rival, it says nothing: the presence is the rival's now.
        if self.mqtt.connected and self.rival is None:
            goodbye = self.service.presence(False, reason=rival.STOPPED)
            self.mqtt.publish_and_wait(self.status_topic, goodbye)
        self.mqtt.close()
        self.checkpointer.stop()
        self.store.close()
        log.info("queue service stopped")

    def _on_fatal(self, exc: BaseException) -> None:
        """The worker stopped: a full disk is said in the presence first (devices show it)."""
        if disk.is_disk_full(exc):
            log.critical("the store's disk is full: %s", disk.filesystem(self.config.store_path))
            self._say_why_stopped(disk.DISK_FULL)
        self._fatal(exc)

    def _say_why_stopped(self, error: str) -> None:
        """Retained `online: false` with the error, then a clean disconnect (no last will)."""
        if not self.mqtt.connected:
            end = time.monotonic() + 5
            while not self.mqtt.connected and time.monotonic() < end:
                self.mqtt.poll(0.1)
        why = self.service.presence(False, error=error, message=disk.MESSAGE)
        if self.mqtt.connected:
            self.mqtt.publish_and_wait(self.status_topic, why)
        self.mqtt.close()

    def _on_presence(self, _topic: str, payload: bytes) -> None:
        body = rival.decode(payload)
        if body is not None and body.get("instance") != self.instance:
            self._other = body

    def _loop(self) -> None:
        """Once per worker loop: the watchdog, and whether to yield to a rival."""
        self.watchdog.alive()
        if self.rival is not None or self.mqtt.quick_losses < rival.RIVAL_LOSSES:
            return
        if rival.should_yield(self.service.presence(True), self._other):
            self.rival = AnotherQueueService(self.config.office.id, self._other)
            log.critical("%s", self.rival)
            systemd.notify(f"STATUS={self.rival}")
            self._on_rival()


class StoreFull(RuntimeError):
    """Too little free space for the store: the service does not start."""


def _staff_session(config: Config) -> MqttClient | None:
    """The session that hears only the counters and admin, or None (one session for all)."""
    if config.broker.username:
        # One fixed login for every client of this unit: a second session under
        # it could take the first one's place on a broker that binds the two.
        log.info("broker.username is set: counters and kiosks share one session")
        return None
    try:
        # Its PUBACKs go after the batch's event (QueueService._handle): off a call's path.
        return MqttClient(queue_staff_user(config.office.id), config.broker, ack_later=True)
    except ConfigError as err:
        log.warning(
            "no login for the counters' own session (%s); they share the kiosks' session, "
            "so a kiosk's burst can delay them. Run `antrean broker init` again to add it.",
            err,
        )
        return None


def _exit_for_restart(_exc: BaseException) -> None:
    # systemd (Restart=on-failure) starts us again from the committed store.
    logging.shutdown()
    os._exit(EXIT_SOFTWARE)


def run_queue_service(config: Config, stop: threading.Event | None = None) -> int:
    """Serves the office until SIGTERM/SIGINT (or `stop` is set); the exit status."""
    stop = stop or threading.Event()
    runner = QueueServiceRunner(config, on_rival=stop.set)
    # The config and the day loaded from the store live as long as the process:
    # frozen, the collections between batches (antrean.service) skip them.
    gc.collect()
    gc.freeze()
    try:
        runner.start()
    except (AnotherQueueService, StoreFull) as exc:
        log.critical("%s", exc)
        systemd.notify(f"STATUS={exc}")
        runner.store.close()
        # A full disk may be cleared: systemd tries again (RestartSec) and the
        # presence says why meanwhile. A rival stays: no restart.
        return rival.EXIT_RIVAL if isinstance(exc, AnotherQueueService) else EXIT_SOFTWARE

    def _signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _signal)
        signal.signal(signal.SIGINT, _signal)
    stop.wait()
    runner.stop()
    return rival.EXIT_RIVAL if runner.rival else 0
