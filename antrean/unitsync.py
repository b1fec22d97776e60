"""The mobile unit's sync client (issue 13): replays its outbox to the office until acknowledged.

It reads the unit's store (read-only; the unit's queue service stays its one
writer) and publishes each visit's outbox items, in order, in chunks on
`sync/{unit}/up` of the office's broker. The office's retained ack on
`sync/{unit}/ack` says how far each visit is applied; after every connect,
and whenever the ack stops moving for RESEND_S, the client sends again from
there. Nothing depends on a broker queue: the outbox is the ledger, and a
chunk lost anywhere (a link cut, a broker or office restart, this process
killed) is simply sent again.

Before a trip it also follows the office's plan: the office's retained
`state/visits`, filtered to this unit, is handed to `on_schedule` (the
command line plans and cancels on the unit's own queue service with it,
antrean.visits.follow_plan), on its own thread so the replay never waits
on it. What it last heard is kept in a small state
file beside the store, for `antrean doctor` and `antrean sync status`.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from antrean import protocol
from antrean.config import Config, UnitConfig
from antrean.mqtt import MqttClient
from antrean.store import StoreReader, outbox_after, outbox_heads
from antrean.sync import other_office_words

log = logging.getLogger(__name__)

CHUNK_ITEMS = 100  # items per message: ~30 KB (the office commits it in slices, antrean.sync)
WINDOW_ITEMS = 400  # sent ahead of the ack: keeps the link busy, bounds a resend
RESEND_S = 3.0  # no ack progress this long with items out: send again from the ack
ACK_WAIT_S = 2.0  # after a connect, wait this long for the retained ack before sending
PLAN_RETRY_S = 10.0  # the unit's queue service did not take the plan: try again this often
REFUSED_RETRY_S = 30.0  # a refused visit is tried again this often (the office may be fixed)
STATUS_EVERY_S = 60.0  # the unit's retained status is refreshed this often: "last seen"
TICK_S = 0.1


def state_path(config: Config) -> Path:
    """The sync client's state file, beside the unit's store."""
    return config.store_path.with_name(config.store_path.stem + ".sync.json")


def read_state(config: Config) -> dict[str, Any] | None:
    """What the sync client last heard from the office, or None if it never ran."""
    try:
        data: dict[str, Any] = json.loads(state_path(config).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data


def waiting_items(heads: dict[str, int], acked: dict[str, int]) -> dict[str, int]:
    """Per visit, the items the office has not acknowledged yet."""
    return {v: head - acked.get(v, 0) for v, head in heads.items() if head > acked.get(v, 0)}


class UnitSync:
    """Replays a unit's outbox to its office; start() and stop()."""

    def __init__(
        self,
        config: Config,
        clock: Callable[[], datetime] | None = None,
        on_schedule: Callable[[dict[str, Any]], object] | None = None,
        on_bookings: Callable[[dict[str, Any]], object] | None = None,
    ) -> None:
        if config.unit is None or config.unit.home is None:
            raise ValueError(f"{config.source}: [unit] with home_host is needed to sync")
        self.config = config
        self.unit: UnitConfig = config.unit
        self.office = config.office.id
        self.clock = clock or (lambda: datetime.now(UTC))
        self.reader = StoreReader(config.store_path)
        self.mqtt = MqttClient(
            client_id=protocol.sync_user(self.unit.id),
            broker=config.unit.home,
            on_connect=self._on_connect,
        )
        self.mqtt.subscribe(protocol.sync_topic(self.office, self.unit.id, "ack"), self._on_ack)
        # Which office this hub serves: a unit set up for another office hears
        # no ack on its own topics, so it tells itself, and the hub, why.
        self.mqtt.subscribe(protocol.state_topic("+", "office"), self._on_hub_office)
        self._hubs: set[str] = set()  # office ids whose state/office this broker holds
        self.on_schedule = on_schedule
        self._schedule: dict[str, Any] | None = None  # the office's state/visits, not yet followed
        self._schedule_due = threading.Event()
        if on_schedule is not None:
            visits = protocol.state_topic(self.office, "visits")
            self.mqtt.subscribe(visits, self._on_schedule)
        # The office's bookings of this unit's visits (code hashes), taken in after the plan.
        self.on_bookings = on_bookings
        self._carried: dict[str, Any] | None = None  # the last heard
        if on_bookings is not None:
            carried = protocol.sync_topic(self.office, self.unit.id, "bookings")
            self.mqtt.subscribe(carried, self._on_bookings)
        self._lock = threading.Lock()
        self.acked: dict[str, int] = {}
        self.refused: dict[str, Any] | None = None
        self._sent: dict[str, int] = {}  # visit -> the last seq sent since the ack
        self._moved: dict[str, float] = {}  # visit -> monotonic time the ack last moved
        self._connected_at = 0.0
        self._heard_ack = False
        self._refused_at = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.chunks_sent = 0
        self._status: tuple[str, dict[str, int], float] | None = None  # topic, heads, when

    def start(self) -> UnitSync:
        self.mqtt.start()
        self._thread = threading.Thread(target=self._run, name="unit-sync", daemon=True)
        self._thread.start()
        if self.on_schedule is not None:
            threading.Thread(target=self._follow, name="unit-plan", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._schedule_due.set()
        if self._thread:
            self._thread.join(10)
        self.mqtt.stop()
        self.reader.close()

    def waiting(self) -> dict[str, int]:
        """Items per visit the office has not acknowledged (as far as this client knows)."""
        with self._lock:
            return waiting_items(outbox_heads(self.reader.db), self.acked)

    # ---- network thread ------------------------------------------------------

    def _on_connect(self) -> None:
        with self._lock:
            self._sent = {}  # whatever was in flight may be lost: from the ack again
            self._connected_at = time.monotonic()
            self._heard_ack = False
            self._status = None  # the office hears this unit's heads again at once

    def _on_ack(self, _topic: str, payload: bytes) -> None:
        try:
            body = json.loads(payload)
            acked = {str(v): int(n) for v, n in body["acked"].items()}
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("sync: an ack that cannot be read: %r", payload[:200])
            return
        now = time.monotonic()
        with self._lock:
            for visit, seq in acked.items():
                if seq != self.acked.get(visit):
                    self._moved[visit] = now
                if seq < self.acked.get(visit, 0):
                    self._sent[visit] = seq  # the office went back (a restored store): resend
            self.acked = acked
            self._heard_ack = True
            refused = body.get("refused")
            if refused:
                self._refused_at = now
            if refused and refused != self.refused:
                log.error(
                    "sync: the office refused %s item %s: %s %s; the unit keeps it",
                    refused.get("visit"), refused.get("seq"), refused.get("code"),
                    refused.get("message"),
                )  # fmt: skip
            self.refused = refused
        self._save_state()

    def _on_hub_office(self, topic: str, _payload: bytes) -> None:
        with self._lock:
            self._hubs.add(topic.split("/")[2])

    def _other_hub(self) -> str | None:
        """The hub's office id when this broker serves another office than the unit's."""
        with self._lock:
            return None if self.office in self._hubs or not self._hubs else min(self._hubs)

    def _refuse_home(self, hub: str) -> None:
        """Set up for another office: nothing is sent, and the unit's status says why."""
        refused = {"code": "other_office", "message": other_office_words(self.office, hub),
                   "visit": None, "seq": None, "office": self.office}  # fmt: skip
        with self._lock:
            changed, self.refused = self.refused != refused, refused
        if changed:
            log.error("sync: %s; the unit keeps everything", refused["message"])
            self._save_state()

    def _on_schedule(self, _topic: str, payload: bytes) -> None:
        if (body := _listing(payload, "visits")) is not None:
            with self._lock:
                self._schedule = body
            self._schedule_due.set()

    def _on_bookings(self, _topic: str, payload: bytes) -> None:
        if (body := _listing(payload, "bookings")) is not None:
            with self._lock:
                self._carried = body
            self._schedule_due.set()

    def _follow(self) -> None:
        """Hands each new schedule to on_schedule, then the bookings; a failure is retried.

        The bookings go after every schedule too: those of a visit the unit
        did not hold yet are taken once the plan has put it there.
        """
        assert self.on_schedule is not None
        while not self._stop.is_set():
            self._schedule_due.wait()
            self._schedule_due.clear()
            with self._lock:
                schedule, self._schedule = self._schedule, None
                carried = self._carried
            if self._stop.is_set():
                continue
            try:
                if schedule is not None:
                    self.on_schedule(schedule)
                if carried is not None and self.on_bookings is not None:
                    self.on_bookings(carried)  # it sends only what the unit lacks
            except Exception as exc:
                log.warning("sync: could not follow the office's plan (%s); trying again", exc)
                with self._lock:
                    self._schedule = self._schedule or schedule  # a newer one wins
                if not self._stop.wait(PLAN_RETRY_S):
                    self._schedule_due.set()

    # ---- the client's thread -------------------------------------------------

    def _run(self) -> None:
        while not self._stop.wait(TICK_S):
            if not self.mqtt.connected:
                continue
            with self._lock:
                settling = (
                    not self._heard_ack and time.monotonic() - self._connected_at < ACK_WAIT_S
                )
            hub = None if settling else self._other_hub()
            try:
                self._publish_status(hub or self.office)
            except Exception:
                log.exception("sync: could not publish the unit's status; trying again")
            if settling:
                continue
            if hub is not None:
                self._refuse_home(hub)
                continue
            try:
                self._send_due()
            except Exception:
                log.exception("sync: could not read the outbox; trying again")

    def _send_due(self) -> None:
        heads = outbox_heads(self.reader.db)
        now = time.monotonic()
        for visit, head in sorted(heads.items()):
            with self._lock:
                acked = self.acked.get(visit, 0)
                if head <= acked or self._held(visit, now):
                    continue
                sent = max(self._sent.get(visit, acked), acked)
                if sent > acked and now - self._moved.get(visit, 0) > RESEND_S:
                    log.info("sync: no ack for %s past %d; sending again", visit, acked)
                    sent = acked
                    self._moved[visit] = now
            while sent < head and sent - acked < WINDOW_ITEMS:
                items = outbox_after(self.reader.db, visit, sent, CHUNK_ITEMS)
                if not items:
                    break
                self.mqtt.publish(self._topic, self._chunk(visit, items))
                self.chunks_sent += 1
                sent = items[-1].seq
            with self._lock:
                self._sent[visit] = sent
                self._moved.setdefault(visit, now)

    def _publish_status(self, office: str) -> None:
        """The retained sync/{unit}/status: the outbox heads, so the office sees what waits.

        Sent after each connect (before any chunk), when a head moves, and
        every STATUS_EVERY_S; the office web shows heads minus acks. `office`
        is the hub's: for a unit set up for another office, the status goes
        where the hub's office reads it, naming the unit's office.
        """
        heads, now = outbox_heads(self.reader.db), time.monotonic()
        topic = protocol.sync_topic(office, self.unit.id, "status")
        with self._lock:
            last = self._status
            if last is not None and last[:2] == (topic, heads) and now - last[2] < STATUS_EVERY_S:
                return
            self._status = (topic, heads, now)
        body = {
            "unit": self.unit.id,
            "office": self.office,
            "heads": heads,
            "at": self.clock().isoformat(timespec="milliseconds"),
        }
        self.mqtt.publish(topic, body, retain=True)

    def _held(self, visit: str, now: float) -> bool:
        """A refused visit waits REFUSED_RETRY_S before it is tried again."""
        refused = self.refused
        if not refused or refused.get("visit") not in (visit, None):
            return False
        return now - self._refused_at < REFUSED_RETRY_S

    @property
    def _topic(self) -> str:
        return protocol.sync_topic(self.office, self.unit.id, "up")

    def _chunk(self, visit: str, items: list[Any]) -> bytes:
        body = {
            "office": self.office,
            "unit": self.unit.id,
            "prefix": self.unit.prefix,
            "visit": visit,
            "items": [{"seq": i.seq, "kind": i.kind, "body": json.loads(i.body)} for i in items],
        }
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()

    def _save_state(self) -> None:
        with self._lock:
            state = {
                "unit": self.unit.id,
                "office": self.office,
                "acked": dict(self.acked),
                "refused": self.refused,
                "heard_at": self.clock().isoformat(timespec="seconds"),
            }
        path = state_path(self.config)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, path)  # a power cut leaves the old file or the new, never half


def _listing(payload: bytes, key: str) -> dict[str, Any] | None:
    """The office's retained schedule (`visits`) or bookings (`bookings`), if readable."""
    try:
        body = json.loads(payload)
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get(key), list):
        log.warning("sync: %s that cannot be read: %r", key, payload[:200])
        return None
    return body
