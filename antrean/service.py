"""The queue service: commands in over MQTT, engine, store, replies and state out.

One worker thread owns the engine, the store and the MQTT connections (it runs
the network loop itself, so a publish goes out at once). It takes commands in
batches: every command in a batch goes through the engine, the whole batch is
committed in one SQLite transaction (one fsync), and only then are the replies,
events and retained states published. A crash before the commit loses only
unanswered commands, which devices retry with the same id.

Staff first: the counters' and admin's commands come on a session of their
own (the broker keeps one queue per session, so a kiosk's burst cannot stand
in front of them there, nor its refusals in front of their replies), wait in a
lane of their own, and make the next batch whenever any wait; kiosk commands
go in batches of at most PUBLIC_BATCH. Each device has a token bucket (antrean.ratelimit);
past it, its commands are refused with `rate_limited` and not remembered.
"""

from __future__ import annotations

import gc
import logging
import math
import os
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any, Protocol

from antrean import __version__, protocol, wire
from antrean.booking import nik_key, office_secret
from antrean.config import Config
from antrean.domain import QueueError, Role
from antrean.engine import Changes, Clock, Engine
from antrean.protocol import Command
from antrean.ratelimit import RateLimit
from antrean.store import COMMAND_MEMORY_DAYS, EVENT_LOG_DAYS, Store
from antrean.sync import SyncDesk
from antrean.sync_items import Outbox

log = logging.getLogger(__name__)

PRUNE_EVERY_S = 3600  # forgetting old command ids is housekeeping, not urgent
BATCH_MAX = 256  # commands per transaction; bounds the latency of the last one in a burst
# Kiosk (and board) commands per batch, when no staff command waits: a
# counter's command that arrives during a kiosk's burst waits for at most this
# many, then goes first. Smaller batches cost more commits (an fsync each) and
# more rounds of state publishing when they issue; with 32 the issue
# throughput of bench/bench_issue_throughput.py (160 in flight) stayed the
# same as before, within the noise of four runs alternating with the old code.
PUBLIC_BATCH = 32
# How long the worker waits on the network before it checks the day rollover and
# opening hours, and notices stop(): short enough for both, long enough to idle.
TICK_S = 0.25
# Events per `replay` reply: about 700 bytes each, so a reply stays near 150 KB
# (quick over a slow link) and a week's gap is a few hundred round trips.
REPLAY_MAX = 200
# Just after the staff session (re)connects, one staff publish can come on both
# sessions, a few ms apart. The second copy is dropped within this window: far
# more than those ms, far less than a device's 5 s before it sends an id again.
TWICE_S = 1.0
# After a call's events, the longest wait for the broker's PUBACK of them
# before the replies and states follow: a round trip on the hub is about
# 0.3 ms; a broker that stalls costs a call at most this.
SETTLE_S = 0.005


class Bus(Protocol):
    """What the service needs of MQTT (antrean.mqtt.MqttClient provides it)."""

    def publish(
        self, topic: str, payload: dict[str, Any] | bytes, retain: bool = False, qos: int = 1
    ) -> bool:
        """Publish (QoS 1 unless told); False if it could not be handed to the broker."""

    def subscribe(
        self,
        topic_filter: str,
        handler: Callable[[str, bytes], None],
        accept_retained: bool = True,
    ) -> None:
        """Route matching messages to handler."""

    def poll(self, timeout: float, read: bool = True) -> None:
        """Run the network on the calling thread for up to `timeout` s (read=False: hold input)."""

    def send_acks(self) -> None:
        """PUBACKs held back for the messages received (MqttClient(ack_later=True))."""

    def corked(self) -> AbstractContextManager[None]:
        """Publishes made inside go to the broker together at its end (TCP_CORK)."""

    def settle(self, timeout: float) -> bool:
        """Runs the network until the broker acknowledged the last publish (at most timeout s)."""

    @property
    def connected(self) -> bool:
        """Connected, with every subscription in place."""


@dataclass(slots=True)
class _Batch:
    """Replies and changes of the commands handled together in one transaction."""

    # (device, id to remember or None, the reply's JSON): encoded once, for the
    # store and for the wire.
    replies: list[tuple[str, str | None, str]] = field(default_factory=list)
    changes: Changes = field(default_factory=Changes)
    seen: dict[tuple[str, str], str] = field(default_factory=dict)
    calls_changed: bool = False  # state/calls (the board's history) to republish
    drive_changed: bool = False  # state/drive: a unit's synced recordings came in
    bookings_changed: bool = False  # sync/{unit}/bookings: a unit's redemptions came in
    # (seq, day, JSON) of the batch's events: encoded once, logged and published.
    events: list[tuple[int, str, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _SyncChunk:
    """A unit's chunk of items (issue 13), applied when no command waits."""

    unit: str
    payload: bytes
    status: bool = False  # the unit's retained sync/{unit}/status, not its items


_REPUBLISH = object()  # queued by on_connect: publish all retained state again
_SYNC_SLICE = object()  # the worker's own: apply the next slice of a unit's chunk
_STOP = object()
STAFF_ROLES = frozenset({Role.COUNTER, Role.ADMIN, Role.WEB})  # served before kiosks (and boards)


class QueueService:
    """The one authority for an office's numbers."""

    def __init__(
        self,
        config: Config,
        store: Store,
        clock: Clock,
        on_fatal: Callable[[BaseException], None] | None = None,
        on_loop: Callable[[], None] | None = None,
    ) -> None:
        self.config = config
        self.office = config.office.id
        self.store = store
        self.clock = clock
        self.engine = Engine(config, clock, store.load(s.code for s in config.services))
        # Walk-ins' NIKs (nik_per_day) and phone bookings' (book) are hashed here.
        if config.booking.capacity or any(s.nik_per_day for s in config.services):
            self.engine.nik_key = partial(nik_key, office_secret(config.booking.secret_file))
        self.bus: Bus | None = None
        self.staff_bus: Bus | None = None
        # Commands (topic, payload, monotonic arrival) and the worker's own items.
        self._staff: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._public: queue.SimpleQueue[object] = queue.SimpleQueue()
        self.staff_devices = frozenset(d.id for d in config.devices if d.role in STAFF_ROLES)
        self.rate_limit = RateLimit(config.rules.device_rate_per_s, config.rules.device_burst)
        self._thread: threading.Thread | None = None
        self._published_refusals: dict[str, Any] = {}
        self._on_fatal = on_fatal
        # Called once per worker loop (about every TICK_S): the systemd watchdog
        # ping, so that a stuck worker stops the pings and gets the service restarted.
        self._on_loop = on_loop or (lambda: None)
        self.instance = uuid.uuid4().hex[:12]
        self.started = round(time.time(), 3)  # wall clock: compared across hosts
        self._started_mono = time.monotonic()  # uptime must not jump with the clock
        self._meta_saved: dict[str, str] = {}  # meta rows as last committed
        self._erase_due = True  # issue 12: names of old bookings, at start and each new day
        # issue 13: a unit numbers its visit's changes into its outbox; the
        # office applies its units' chunks (antrean.sync) after every command.
        self._sync: queue.SimpleQueue[object] = queue.SimpleQueue()
        self.outbox = Outbox(store.outbox_heads()) if config.unit else None
        self.sync_desk = SyncDesk(config, store, self.engine.bookings) if config.units else None
        # Staff commands the kiosks' session brought while the staff session was
        # not connected: (topic, payload) -> arrival, until the staff copy comes.
        self._early: dict[tuple[str, bytes], float] = {}

    # ---- wiring ----------------------------------------------------------------

    def presence(self, online: bool, **why: str) -> dict[str, Any]:
        """Payload of device/queue/status (online now, offline as the last will).

        `instance` and `started` tell this process from another service of the
        office, and from its own stale presence after a crash; `why` adds
        `reason` (a clean stop) or `error` and `message` (a stop on a fault).
        """
        return {
            "online": online,
            "role": "queue",
            "version": __version__,
            "instance": self.instance,
            "started": self.started,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            **why,
        }

    def attach(self, bus: Bus, staff_bus: Bus | None = None) -> None:
        """Subscribes to the office's command topics; the staff devices' also on `staff_bus`.

        `bus` publishes everything and hears every device; `staff_bus`, a second
        session polled with it, hears only the counters' and admin's command
        topics and answers them.
        """
        self.bus, self.staff_bus = bus, staff_bus
        bus.subscribe(protocol.cmd_topic(self.office, "+"), self.on_command, accept_retained=False)
        staff = sorted(self.staff_devices) if staff_bus is not None else []
        for device in staff:
            assert staff_bus is not None
            topic = protocol.cmd_topic(self.office, device)
            staff_bus.subscribe(topic, self.on_staff_command, accept_retained=False)
        if self.sync_desk is not None:
            up = protocol.sync_topic(self.office, "+", "up")
            bus.subscribe(up, self.on_sync, accept_retained=False)
            status = protocol.sync_topic(self.office, "+", "status")
            bus.subscribe(status, self.on_sync_status)  # retained: heard again at each start

    def on_connected(self) -> None:
        """Called on every (re)connect: state is republished from the worker thread."""
        self._staff.put(_REPUBLISH)

    def on_command(self, topic: str, payload: bytes) -> None:
        """Called from the network loop (MqttClient.poll): queues the command for a batch."""
        if _device_of(topic, self.office) in self.staff_devices:
            if self.staff_bus is not None and self.staff_bus.connected:
                return  # the staff session has brought it already (or will)
            self._staff.put((topic, payload, time.monotonic(), False))
        else:
            self._public.put((topic, payload, time.monotonic(), False))

    def on_staff_command(self, topic: str, payload: bytes) -> None:
        """A counter's or admin's command from the staff session."""
        self._staff.put((topic, payload, time.monotonic(), True))

    def on_sync(self, topic: str, payload: bytes) -> None:
        """A unit's chunk (issue 13): queued behind every command, applied a slice at a time."""
        self._sync.put(_SyncChunk(topic.split("/")[-2], payload))

    def on_sync_status(self, topic: str, payload: bytes) -> None:
        """A unit's outbox heads (issue 13): it names the office the unit is set up for."""
        self._sync.put(_SyncChunk(topic.split("/")[-2], payload, status=True))

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="queue-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._staff.put(_STOP)
        if self._thread:
            self._thread.join(timeout=10)

    # ---- worker thread -----------------------------------------------------------

    def _run(self) -> None:
        last_prune = -math.inf
        while True:
            self._on_loop()
            self._receive()
            # Staff commands make a batch of their own, so their replies do not
            # wait for kiosk commands either; kiosk commands fill the next one.
            items = (
                _take(self._staff, BATCH_MAX)
                or _take(self._public, PUBLIC_BATCH)
                or self._sync_work()  # a unit's history waits for the office's residents
            )
            stop = _STOP in items
            if stop:
                items = items[: items.index(_STOP)]
            try:
                self._handle(items)
            except Exception as exc:
                # The engine moved on but the store may not have: memory and disk
                # could differ. Stop serving; a restart rebuilds from the store.
                log.critical("the queue worker failed; stopping the service", exc_info=True)
                if self._on_fatal:
                    self._on_fatal(exc)
                return
            if stop:
                return
            _collect_garbage_due()
            if time.monotonic() - last_prune > PRUNE_EVERY_S:
                last_prune = time.monotonic()
                self._forget_old_commands()

    def _receive(self) -> None:
        """Waits up to a tick for messages (not while some wait), then reads what else arrived.

        Kiosk commands are read only while fewer than a batch wait: the rest of
        a burst waits in the broker, while the staff session is always read.
        """
        if self.bus is None:
            time.sleep(TICK_S)
            return
        waiting = self._staff.qsize() + self._public.qsize() + self._sync.qsize()
        waiting += int(self.sync_desk is not None and self.sync_desk.busy)
        self.bus.poll(0 if waiting else TICK_S, read=self._public.qsize() < BATCH_MAX)
        # paho reads about one packet per poll; keep reading while a burst lasts.
        # While a staff command waits, only the staff session: the kiosks'
        # session's copy of it (and kiosk commands) are read after its batch.
        while waiting < (now := self._staff.qsize() + self._public.qsize()) < BATCH_MAX:
            waiting = now
            self.bus.poll(0, read=self._staff.empty())

    def _handle(self, items: list[object]) -> None:
        batch = _Batch()
        rollover = self.engine.tick()
        batch.changes.absorb(rollover)
        batch.calls_changed = bool(rollover.events)
        batch.drive_changed = bool(rollover.events)  # a new day: "today" and the week move
        if self._erase_due or rollover.events:  # the daily housekeeping
            self._erase_due = False
            batch.changes.absorb(self.engine.booking_purge())
        republish = False
        for item in items:
            if item is _REPUBLISH:
                republish = True
            elif isinstance(item, tuple):
                self._command(batch, *item)
            elif isinstance(item, _SyncChunk):
                assert self.sync_desk is not None
                if item.status:
                    if self.sync_desk.hear_status(item.unit, item.payload):
                        self._publish_ack(item.unit)
                elif self.sync_desk.receive(item.unit, item.payload, self.engine.visits):
                    self._apply_sync(batch)
                else:
                    self._publish_ack(item.unit)  # refused whole: the ack says why
            elif item is _SYNC_SLICE:
                self._apply_sync(batch)
        batch.events = [
            (e.seq, str(e.day), wire.dumps(wire.event(e))) for e in batch.changes.events
        ]
        if batch.changes.changed or any(i is not None for _, i, _ in batch.replies):
            self._commit(batch)
        if republish:
            self.publish_all_state()
        self._publish(batch)
        if self.staff_bus is not None:
            # A counter's command is acknowledged to the broker only now, after
            # its event: the PUBACK is one more write that need not come first.
            self.staff_bus.send_acks()
        self._republish_changed_refusals()

    def _command(
        self, batch: _Batch, topic: str, payload: bytes, received: float, via_staff: bool
    ) -> None:
        device = _device_of(topic, self.office)
        if device is None:
            log.warning("dropped a command on %s: no device id in the topic", topic)
            return
        if self._brought_twice(device, topic, payload, received, via_staff):
            log.debug("dropped the staff session's copy of %s from %s", topic, device)
            return
        try:
            command = protocol.parse_command(self.config, device, payload)
        except QueueError as err:
            # Refused before it could change anything: answered, not remembered,
            # so junk from unknown devices does not fill the command table.
            cmd_id = err.details.get("id")
            log.info("refused %s from %s: %s", cmd_id, device, err)
            batch.replies.append((device, None, wire.dumps(wire.reply_error(cmd_id, err))))
            return
        if not self._allowed(device, received):
            # Not remembered: the same id sent again later runs (or gets its answer).
            limited = QueueError(
                "rate_limited",
                "Terlalu banyak perintah dari perangkat ini. Coba lagi sebentar lagi.",
                retry_after_s=self.rate_limit.retry_after_s(device),
            )
            batch.replies.append((device, None, wire.dumps(wire.reply_error(command.id, limited))))
            return
        earlier = self._earlier(batch, device, command.id)
        if earlier is not None:
            log.info("repeated command %s from %s: answering as before", command.id, device)
            batch.replies.append((device, None, earlier))
            return
        reply = self._execute(batch, command)
        remembered = None if command.action.read_only else command.id
        batch.seen[(device, command.id)] = reply
        batch.replies.append((device, remembered, reply))

    def _brought_twice(
        self, device: str, topic: str, payload: bytes, received: float, via_staff: bool
    ) -> bool:
        """The staff session's copy of a publish the kiosks' session brought first.

        Answering both would answer the device twice (a read-only command afresh,
        the others from the remembered reply). A copy that never comes (the
        publish reached the broker before the staff subscription) is forgotten.
        """
        early = self._early
        if early:
            for key in [k for k, at in early.items() if received - at > TWICE_S]:
                del early[key]
        if via_staff:
            return early.pop((topic, payload), None) is not None
        if device in self.staff_devices and self.staff_bus is not None:
            early[(topic, payload)] = received
        return False

    def _allowed(self, device: str, received: float) -> bool:
        """The device's token bucket; one log line when it starts and stops being refused."""
        limit = self.rate_limit
        if not limit.take(device, received):
            if limit.refused(device) == 1:
                log.warning(
                    "%s sends more than %g commands/s (%d at once): refusing with rate_limited",
                    device, limit.rate_per_s, limit.burst,
                )  # fmt: skip
            return False
        if refused := limit.burst_ended(device, received):
            log.warning("%s is within its rate again; %d commands were refused", device, refused)
        return True

    def _earlier(self, batch: _Batch, device: str, cmd_id: str) -> str | None:
        if (device, cmd_id) in batch.seen:
            return batch.seen[(device, cmd_id)]
        stored = self.store.reply_for(device, cmd_id)
        return wire.dumps(stored) if stored is not None else None

    def _execute(self, batch: _Batch, command: Command) -> str:
        return wire.dumps(self._reply(batch, command))

    def _reply(self, batch: _Batch, command: Command) -> dict[str, Any]:
        action = command.action
        args: object = "(personal data)" if action.personal else command.args
        if not action.personal and any(action.args[k].personal for k in command.args):
            args = {k: "****" if action.args[k].personal else v for k, v in command.args.items()}
        log.debug("%s from %s: %s %s", command.id, command.device.id, action.name, args)
        self.engine.actor = command.device.id  # issue 14: ledger entries name their device
        try:
            if action.on_service:
                result: dict[str, Any] = getattr(self, action.runner)(**command.args)
                return wire.reply_ok(command.id, result)
            changes: Changes = getattr(self.engine, action.runner)(**command.args)
        except QueueError as err:
            log.info("%s %s from %s refused: %s", action.name, command.id, command.device.id, err)
            return wire.reply_error(command.id, err)
        batch.changes.absorb(changes)
        batch.calls_changed |= action.changes_calls and bool(changes.tickets)
        return wire.reply_ok(command.id, wire.result(changes.result))

    # ---- the actions that only the service can answer (see antrean.actions) -------

    def snapshot(self) -> dict[str, Any]:
        """Everything a client needs to draw itself."""
        return wire.snapshot(self.engine)

    def status(self) -> dict[str, Any]:
        """Which queue service this is and how long it has run, for staff and the doctor."""
        return {
            "office": self.office,
            "version": __version__,
            "uptime_s": round(time.monotonic() - self._started_mono, 3),
            "schema_version": self.store.schema_version,
            "instance": self.instance,
        }

    def replay(self, after: int, limit: int = REPLAY_MAX) -> dict[str, Any]:
        """The logged events after seq `after` (issue 16), for the central service's gaps.

        `oldest` is the first seq the log still holds (older ones are pruned),
        `last` the office's latest, so the centre knows what it can still get.
        """
        if after < 0 or limit < 1:
            raise QueueError("bad_request", "after must be 0 or more and limit 1 or more")
        bodies = self.store.events_after(after, min(limit, REPLAY_MAX))
        return {
            "events": [wire.loads(b) for b in bodies],
            "oldest": self.store.oldest_event(),
            "last": self.engine.seq,
        }

    def _sync_work(self) -> list[object]:
        """The next slice of a unit's chunk, or the next chunk, when no command waits."""
        if self.sync_desk is not None and self.sync_desk.busy:
            return [_SYNC_SLICE]
        return _take(self._sync, 1)

    def _apply_sync(self, batch: _Batch) -> None:
        """Applies a slice of a unit's chunk in a transaction of its own, then acknowledges it."""
        assert self.sync_desk is not None
        e = self.engine
        done = self.sync_desk.step(self.clock())
        if done is None:
            return
        unit, applied = done
        for visit in applied.visits:
            e.visits[visit.id] = visit  # stored already, with the items
            batch.changes.visits_changed = True
        for entry in applied.stock:  # the unit's cards used: the office's balance, stored already
            e.stock.add(entry)
            batch.changes.stock_changed = True
        for booking in applied.bookings:  # redeemed at the visit: stored already
            e.bookings.put(booking)
            batch.bookings_changed = True
        batch.drive_changed |= bool(applied.progress)  # its recordings are in the store now
        self._publish_ack(unit)

    def _publish_ack(self, unit: str) -> None:
        if self.sync_desk is not None and self.bus is not None:
            ack = self.sync_desk.ack(unit, self.clock())
            self.bus.publish(protocol.sync_topic(self.office, unit, "ack"), ack, retain=True)

    def _commit(self, batch: _Batch) -> None:
        out, e = batch.changes, self.engine
        meta = {"seq": str(e.seq), "day": str(e.day), "running_text": e.running_text}
        if e.clock_high is not None:  # a unit (issue 13): the clock's floor
            meta["clock_high"] = e.clock_high.isoformat()
        outbox = []
        if self.outbox is not None and self.config.unit is not None:
            outbox = self.outbox.items(
                out.tickets.values(), out.calls, out.progress, out.visits.values(),
                self.config.unit.id, out.stock, e.open_visit, out.bookings.values(),
            )  # fmt: skip
        # Only the rows that changed: the seq moves with every event, the rest rarely.
        changed_meta = {k: v for k, v in meta.items() if self._meta_saved.get(k) != v}
        self.store.commit(
            tickets=out.tickets.values(),
            counters=[e.counters[n] for n in out.counters],
            services=[e.services[s] for s in out.service_rows],
            meta=changed_meta,
            replies=[(d, i, r) for d, i, r in batch.replies if i is not None],
            now=self.clock(),
            calls=out.calls,
            stock=out.stock,
            progress=out.progress,
            targets=out.targets,
            bookings=out.bookings.values(),
            erase_names_before=out.erase_names_before,
            erase_niks_before=out.erase_niks_before,
            visits=out.visits.values(),
            outbox=outbox,
            events=batch.events,
            audit=out.audit,
        )
        self._meta_saved.update(changed_meta)

    # ---- publishing --------------------------------------------------------------

    def _publish(self, batch: _Batch, everything: bool = False) -> None:
        """Events first (boards react to them), then replies, then the retained states."""
        bus, office, out = self.bus, self.office, batch.changes
        if bus is None:
            return
        # A call's `served` and `called` in one send: the second need not wait
        # for the first's trip through the loopback to the broker.
        with bus.corked():
            for event, (_seq, _day, body) in zip(out.events, batch.events, strict=True):
                bus.publish(protocol.event_topic(office, event.kind), body.encode())
        if batch.calls_changed and self._public.empty() and self._staff.empty():
            # A call: the rest waits until the broker has taken its events (the
            # PUBACK, about 0.3 ms), then lets the processes that woke for them
            # (the broker, a board on this machine) run first. On the hub's few
            # cores the replies' and states' publishing, and the broker's
            # fan-out of them, otherwise stand between the events and the
            # boards: in bench/bench_call_latency.py one call in ten reached
            # the board about 1 ms later. Not while commands wait (a burst):
            # the PUBACK is then behind them in the socket, and the cores busy.
            bus.settle(SETTLE_S)
            os.sched_yield()
        with bus.corked():  # the rest in as few sends as fit, as the events
            staff = self.staff_bus if self.staff_bus and self.staff_bus.connected else bus
            for device, _id, reply in batch.replies:
                # A staff reply on the staff session: not behind a kiosk burst's refusals.
                via = staff if device in self.staff_devices else bus
                via.publish(protocol.reply_topic(office, device), reply.encode())
            self._publish_states(bus, batch, everything)

    def _publish_states(self, bus: Bus, batch: _Batch, everything: bool) -> None:
        """The retained states the batch changed (all of them: `everything`)."""
        office, out, e = self.office, batch.changes, self.engine
        services = [s.code for s in self.config.services] if everything else sorted(out.services)
        for code in services:
            self._publish_service(code)
        counters = [c.number for c in self.config.counters] if everything else sorted(out.counters)
        for number in counters:
            state = wire.counter_state(e, number)
            bus.publish(protocol.state_topic(office, "counter", number), state, retain=True)
        if everything or batch.calls_changed:
            bus.publish(protocol.state_topic(office, "calls"), wire.calls_state(e), True)
        if e.card_services and (everything or out.stock_changed):  # issue 14
            bus.publish(protocol.state_topic(office, "stock"), e.stock_view(), retain=True)
        if everything or out.office_changed:
            bus.publish(protocol.state_topic(office, "office"), wire.office_state(e), True)
        if everything or out.visits_changed:  # issue 13
            bus.publish(protocol.state_topic(office, "visits"), wire.visits_state(e), True)
        if self.config.units and (
            everything
            or out.visits_changed
            or batch.bookings_changed
            or any(b.visit for b in out.bookings.values())
        ):  # issue 13: each unit's visits' bookings, for it to carry
            for unit in self.config.units:
                topic = protocol.sync_topic(office, unit, "bookings")
                bus.publish(topic, wire.unit_bookings(e, unit), retain=True)
        # issue 16: for the centre; counted in the store (a unit's recordings too).
        # Only when a count moved: every call changes state/office, and this is a
        # query over the drive's recordings, kept off the calls that record nothing.
        if everything or out.progress or out.targets or batch.drive_changed:
            counts = self.store.drive_counts(e.config.drive.start, e.day)
            bus.publish(protocol.state_topic(office, "drive"), wire.drive_progress(e, counts), True)

    def _publish_service(self, code: str) -> None:
        if self.bus is not None:
            state = wire.service_state(self.engine, code)
            self.bus.publish(protocol.state_topic(self.office, "service", code), state, True)

    def publish_all_state(self) -> None:
        """Publishes every retained state topic and this service's presence."""
        if self.bus is None:
            return
        self._publish(_Batch(), everything=True)
        for unit in self.config.units:  # issue 13: a restarted office says how far it got
            self._publish_ack(unit)
        self.bus.publish(
            protocol.status_topic(self.office, protocol.QUEUE_DEVICE), self.presence(True), True
        )
        log.info("published the state of office %s (seq %d)", self.office, self.engine.seq)

    def _republish_changed_refusals(self) -> None:
        # Opening hours and the quota change what a kiosk may offer without any
        # event; republish a service's state when its refusal changes.
        now = self.clock()
        for s in self.config.services:
            refusal = self.engine.refusal(s.code, now)
            current = refusal.as_dict() if refusal else None
            if s.code in self._published_refusals and self._published_refusals[s.code] != current:
                self._publish_service(s.code)
            self._published_refusals[s.code] = current

    def _forget_old_commands(self) -> None:
        removed = self.store.forget_old_commands(self.clock() - timedelta(days=COMMAND_MEMORY_DAYS))
        if removed:
            log.info("forgot %d command ids older than %d days", removed, COMMAND_MEMORY_DAYS)
        pruned = self.store.prune_events(self.engine.day - timedelta(days=EVENT_LOG_DAYS))
        if pruned:
            log.info("pruned %d logged events older than %d days", pruned, EVENT_LOG_DAYS)


def _collect_garbage_due() -> None:
    """The collection the interpreter would start soon, run now, between batches.

    Python collects when allocations pass a threshold, as likely in the middle
    of a call as anywhere, and a collection of the older generations takes
    milliseconds. Run here, once a batch is out, no command waits for it.
    gc.collect(n) moves the counts as the automatic collection does. The full
    collection is left to the interpreter's own rule (it waits until the heap
    grew by a quarter) unless the start-up heap is frozen (`antrean queue`
    does it), which makes a full collection cheap.
    """
    counts, thresholds = gc.get_count(), gc.get_threshold()
    if not thresholds[0] or counts[0] < thresholds[0] // 2:
        return  # automatic collection is off, or not due for a while
    oldest = 2 if gc.get_freeze_count() else 1
    generation = 0
    while generation < oldest and counts[generation + 1] + 1 >= thresholds[generation + 1]:
        generation += 1
    gc.collect(generation)


def _take(lane: queue.SimpleQueue[object], most: int) -> list[object]:
    """Up to `most` items waiting in the lane, without waiting."""
    items: list[object] = []
    while len(items) < most:
        try:
            items.append(lane.get_nowait())
        except queue.Empty:
            break
    return items


def _device_of(topic: str, office: str) -> str | None:
    prefix = protocol.cmd_topic(office, "")
    if not topic.startswith(prefix):
        return None
    device = topic[len(prefix) :]
    return device if device and "/" not in device else None
