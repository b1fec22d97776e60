"""Another queue service for the same office: found at start-up, yielded to at run time.

Two services for one office would hand out the same numbers from two stores.
They log in with one client id (the office broker forces the login name as
client id), so the broker gives the session to whichever connected last and
drops the other, which reconnects and drops the first: each sees only "lost
the broker". So a service checks before it serves: it connects with that
client id alone (a probe that publishes nothing a device reads) and waits
briefly; a live service drops the probe at once by reconnecting, a stale
presence left by a crashed or frozen predecessor (of the same unit, after a
power cut) does not. Two services that both got past the probe (the broker
was away when one started) find each other by the same take-overs at run
time, and the one that started later yields.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

from antrean import protocol
from antrean.config import BrokerConfig
from antrean.mqtt import MqttClient

log = logging.getLogger(__name__)

# How long the probe holds the session when a predecessor's presence says it
# may still run. A live service reconnects within one worker tick (0.25 s),
# which drops the probe; a few ticks more cover a busy Pi.
PROBE_S = 1.5
CONNECT_S = 5.0  # no broker within this: serve anyway; the run-time check covers it
# Take-overs in a row that make a running service look for its rival (with
# the back-off after each, about 2 s of fighting).
RIVAL_LOSSES = 5
EXIT_RIVAL = 78  # sysexits EX_CONFIG: the unit has RestartPreventExitStatus=78
STOPPED = "stopped"  # `reason` of the presence a clean stop publishes


class AnotherQueueService(RuntimeError):
    """Another live queue service holds this office's session on the broker."""

    def __init__(self, office: str, presence: dict[str, Any] | None) -> None:
        where = ""
        if presence and presence.get("host"):
            where = f" (on {presence['host']}, pid {presence.get('pid', '?')})"
        super().__init__(
            f"another queue service for office {office!r} is running{where}: two services "
            "would issue the same numbers from two stores. Stop one of them; this one stops."
        )
        self.presence = presence


def decode(payload: bytes) -> dict[str, Any] | None:
    """A presence payload, or None (empty or not a JSON object)."""
    try:
        body = json.loads(payload)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def nobody_serving(presence: dict[str, Any] | None) -> bool:
    """No presence at all, or the goodbye of a clean stop: no service can be running."""
    return presence is None or (not presence.get("online") and presence.get("reason") == STOPPED)


def should_yield(mine: dict[str, Any], other: dict[str, Any] | None) -> bool:
    """Whether this service gives way to the other: the later start yields.

    A rival that says nothing of its start (an older version) never yields, so
    this one does; one that is not known at all might be a device misnamed
    `queue`, so this one keeps serving (and keeps warning).
    """
    if other is None:
        return False
    if not isinstance(other.get("started"), int | float):
        return True
    return (other["started"], str(other.get("instance"))) < (mine["started"], mine["instance"])


def probe(broker: BrokerConfig, client_id: str, office: str, instance: str) -> None:
    """Raises AnotherQueueService if a live service holds the office's session."""
    seen: list[dict[str, Any] | None] = []
    barrier = threading.Event()
    status = protocol.status_topic(office, protocol.QUEUE_DEVICE)
    # A reply topic no device reads: its echo says the retained presence (sent
    # on subscribe, before it) has arrived, or that there is none.
    echo = protocol.reply_topic(office, f"probe-{instance}")
    client = MqttClient(client_id, broker)
    client.subscribe(status, lambda _t, payload: seen.append(decode(payload)))
    client.subscribe(echo, lambda _t, _p: barrier.set(), accept_retained=False)
    client.open()
    try:
        _watch(client, office, seen, barrier, echo)
    finally:
        client.close()


def _watch(
    client: MqttClient,
    office: str,
    seen: list[dict[str, Any] | None],
    barrier: threading.Event,
    echo: str,
) -> None:
    connect_by = time.monotonic() + CONNECT_S
    end: float | None = None
    sent = False
    while True:
        client.poll(0.05)
        if client.quick_losses >= 2:
            raise AnotherQueueService(office, _last(seen))
        now = time.monotonic()
        if not client.connected:
            sent = False
            if end is None and now > connect_by:
                log.warning("could not check for another queue service: no broker yet")
                return
            continue
        end = end or now + PROBE_S
        if not sent:
            barrier.clear()
            client.publish(echo, {"probe": True})
            sent = True
        if barrier.is_set() and client.quick_losses == 0 and nobody_serving(_last(seen)):
            return  # nobody has served here, or the last one said goodbye: no wait
        if now > end:
            return


def _last(seen: list[dict[str, Any] | None]) -> dict[str, Any] | None:
    return seen[-1] if seen else None
