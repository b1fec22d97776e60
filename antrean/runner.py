"""Runs the queue service as a process: config, store, MQTT, signals."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from types import FrameType

from antrean import protocol, systemd
from antrean.broker.acl import queue_staff_user, queue_user
from antrean.config import Config, ConfigError
from antrean.engine import Clock
from antrean.mqtt import MqttClient, Will
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
    ) -> None:
        self.config = config
        self.store = Store(config.store_path)
        self.watchdog = systemd.Watchdog()
        # Production ends the process so systemd restarts it from the store;
        # tests pass a hook that fails the test instead of ending pytest.
        fatal = on_fatal or _exit_for_restart
        self.service = QueueService(
            config, self.store, clock, on_fatal=fatal, on_loop=self.watchdog.alive
        )
        office = config.office.id
        self.status_topic = protocol.status_topic(office, protocol.QUEUE_DEVICE)
        self.mqtt = MqttClient(
            client_id=queue_user(office),
            broker=config.broker,
            will=Will(self.status_topic, self.service.presence(False)),
            on_connect=self.service.on_connected,
            max_inflight=SERVICE_INFLIGHT,
            max_queued=SERVICE_QUEUED,
        )
        self.staff_mqtt = _staff_session(config)
        if self.staff_mqtt:
            self.mqtt.drive_with(self.staff_mqtt)
        self.service.attach(self.mqtt, self.staff_mqtt)

    def start(self) -> QueueServiceRunner:
        self.mqtt.open()  # the service's worker thread drives the network
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

    def stop(self) -> None:
        systemd.notify("STOPPING=1")
        self.service.stop()
        # A clean stop says "offline" itself; the last will covers the unclean ones.
        if self.mqtt.connected:
            self.mqtt.publish_and_wait(self.status_topic, self.service.presence(False))
        self.mqtt.close()
        self.store.close()
        log.info("queue service stopped")


def _staff_session(config: Config) -> MqttClient | None:
    """The session that hears only the counters and admin, or None (one session for all)."""
    if config.broker.username:
        # One fixed login for every client of this unit: a second session under
        # it could take the first one's place on a broker that binds the two.
        log.info("broker.username is set: counters and kiosks share one session")
        return None
    try:
        return MqttClient(queue_staff_user(config.office.id), config.broker)
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


def run_queue_service(config: Config, stop: threading.Event | None = None) -> None:
    """Serves the office until SIGTERM/SIGINT (or `stop` is set)."""
    stop = stop or threading.Event()
    runner = QueueServiceRunner(config).start()

    def _signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _signal)
        signal.signal(signal.SIGINT, _signal)
    stop.wait()
    runner.stop()
