"""Runs the queue service as a process: config, store, MQTT, signals."""

from __future__ import annotations

import logging
import signal
import threading
from datetime import UTC, datetime
from types import FrameType

from antrean import protocol
from antrean.config import Config
from antrean.mqtt import MqttClient, Will
from antrean.service import QueueService
from antrean.store import Store

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    """The production clock: aware UTC; office-local time is derived from it."""
    return datetime.now(UTC)


def run_queue_service(config: Config, stop: threading.Event | None = None) -> None:
    """Serves the office until SIGTERM/SIGINT (or `stop` is set)."""
    stop = stop or threading.Event()
    store = Store(config.store_path)
    service = QueueService(config, store, utc_now)
    office = config.office.id
    status = protocol.status_topic(office, protocol.QUEUE_DEVICE)
    client = MqttClient(
        client_id=f"antrean-queue-{office}",
        broker=config.broker,
        will=Will(status, service.presence(False)),
        on_connect=service.on_connected,
    )
    service.attach(client)
    service.start()
    client.start()
    log.info(
        "queue service for %s (%s) running; store %s, day %s, seq %d",
        config.office.name,
        office,
        config.store_path,
        service.engine.day,
        service.engine.seq,
    )

    def _signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _signal)
        signal.signal(signal.SIGINT, _signal)
    stop.wait()
    service.stop()
    # A clean stop says "offline" itself; the last will covers the unclean ones.
    if client.connected:
        client.publish_and_wait(status, service.presence(False))
    client.stop()
    store.close()
    log.info("queue service stopped")
