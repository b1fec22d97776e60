"""The central service: the central broker's office topics in, PostgreSQL out, gaps replayed.

paho's thread only sorts each message into its office's lane (a bounded
deque); one worker takes the lanes in turn, a batch of each, and writes each
batch in one transaction (central.ingest). So a flood from one office fills
only its own lane (past LANE_MAX its messages are dropped and counted: they
become a gap the office replays if they were real), and a garbage message is
kept aside without holding up the others.

Nothing is acknowledged to anyone: the broker's copy is transport, the
office's store is the ledger. Whatever the centre misses (it was killed, the
bridge dropped, PostgreSQL was away and the lane overflowed) is a gap between
`contiguous` and the office's `head`; once it has stood for GAP_WAIT_S the
service sends the office a `replay` on `cmd/central`, which the bridge lets in.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass

import psycopg

from antrean import protocol
from antrean.config import CENTRAL_DEVICE
from antrean.mqtt import MqttClient
from central import ingest
from central.config import CentralConfig
from central.ingest import Conn, Cursor, Message
from central.schema import migrate

log = logging.getLogger(__name__)

BATCH = 500  # messages of one office per transaction: one commit per few hundred rows
LANE_MAX = 20_000  # a busy office's whole morning fits; a flood beyond it is dropped
# A gap must stand this long before it is asked for: the bridge's catch-up
# after a cut, or events still in flight, fill most gaps by themselves.
GAP_WAIT_S = 2.0
REPLY_WAIT_S = 10.0  # a replay unanswered this long is asked again (link down, office busy)
RECONNECT_S = (0.5, 5.0)  # PostgreSQL away: try again at first quickly, then every 5 s
IDLE_S = 0.1
UNKNOWN = "?"  # the lane of topics from offices not in the config


@dataclass(slots=True)
class _Asked:
    id: str
    after: int
    at: float


class CentralService:
    """Every configured office's events, state and presence into PostgreSQL."""

    def __init__(self, config: CentralConfig) -> None:
        self.config = config
        self.offices = frozenset(config.offices)
        self._lanes: dict[str, deque[Message]] = {o: deque() for o in config.offices}
        self._lanes[UNKNOWN] = deque()
        self._dropped: dict[str, int] = dict.fromkeys(self._lanes, 0)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._asked: dict[str, _Asked] = {}
        self._gap_since: dict[str, float] = {}
        self.cursors: dict[str, Cursor] = {}
        self.conn: Conn | None = None
        self.written = 0  # messages handled (for the bench and the log)
        self.mqtt = MqttClient(config.client_id, config.broker)
        root = protocol.ROOT
        for topic in (
            f"{root}/+/event/#",
            f"{root}/+/state/#",
            f"{root}/+/device/+/status",
            f"{root}/+/reply/{CENTRAL_DEVICE}",
        ):
            self.mqtt.subscribe(topic, self.on_message)
        self._thread = threading.Thread(target=self._run, name="central-worker", daemon=True)

    def start(self) -> CentralService:
        self._connect()
        self.mqtt.start()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=30)
        self.mqtt.stop()
        if self.conn is not None:
            self.conn.close()

    # ---- paho's thread -------------------------------------------------------------

    def on_message(self, topic: str, payload: bytes) -> None:
        """Sorts a message into its office's lane (never blocks on the database)."""
        parts = topic.split("/")
        office = parts[2] if len(parts) > 3 and parts[2] in self.offices else UNKNOWN
        with self._lock:
            lane = self._lanes[office]
            if len(lane) >= LANE_MAX:
                self._dropped[office] += 1
                return
            lane.append(Message(topic, payload))
        self._wake.set()

    # ---- the worker ------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            busy = False
            for office in list(self._lanes):
                batch = self._take(office)
                if batch:
                    busy = True
                    self._write(office, batch)
            self._report_drops()
            self._ask_for_gaps()
            if not busy:
                self._wake.wait(IDLE_S)
                self._wake.clear()

    def _take(self, office: str) -> list[Message]:
        with self._lock:
            lane = self._lanes[office]
            return [lane.popleft() for _ in range(min(BATCH, len(lane)))]

    def _write(self, office: str, batch: list[Message]) -> None:
        """One office's batch, kept and tried again until PostgreSQL takes it."""
        wait = RECONNECT_S[0]
        while not self._stop.is_set():
            try:
                conn = self._connection()
                if office == UNKNOWN:
                    for m in batch:
                        ingest.quarantine_alone(conn, None, m, "not an office of this centre")
                else:
                    self._ingest(conn, self.cursors[office], batch)
                self.written += len(batch)
                return
            except psycopg.OperationalError as exc:
                log.warning("PostgreSQL is away (%s); keeping %d messages", exc, len(batch))
                self._drop_connection()
                self._stop.wait(wait)
                wait = min(wait * 2, RECONNECT_S[1])

    def _ingest(self, conn: Conn, cur: Cursor, batch: list[Message]) -> None:
        saved = (cur.contiguous, cur.lost, cur.head, cur.flagged)
        try:
            ingest.ingest(conn, cur, batch)
        except psycopg.OperationalError:
            cur.contiguous, cur.lost, cur.head, cur.flagged = saved
            cur.replies.clear()
            raise
        except psycopg.Error as exc:
            # A value PostgreSQL refused: find the message one at a time, keep it aside.
            log.warning("office %s: batch refused (%s); one message at a time", cur.office, exc)
            cur.contiguous, cur.lost, cur.head, cur.flagged = saved
            cur.replies.clear()
            for m in batch:
                try:
                    ingest.ingest(conn, cur, [m])
                except psycopg.OperationalError:
                    raise
                except psycopg.Error as one:
                    cur.replies.clear()
                    ingest.quarantine_alone(conn, cur, m, f"refused by PostgreSQL: {one}")
        asked = self._asked.get(cur.office)
        if asked is not None and any(_is_reply(m, asked.id) for m in batch):
            del self._asked[cur.office]  # answered: the next page may be asked at once
            self._gap_since[cur.office] = 0.0

    def _ask_for_gaps(self) -> None:
        now = time.monotonic()
        for office, cur in self.cursors.items():
            if cur.head <= cur.contiguous:
                self._gap_since.pop(office, None)
                continue
            since = self._gap_since.setdefault(office, now)
            asked = self._asked.get(office)
            if asked is not None:
                if asked.after == cur.contiguous and now - asked.at < REPLY_WAIT_S:
                    continue
            elif now - since < GAP_WAIT_S:
                continue
            if not self.mqtt.connected:
                continue
            cmd_id = f"replay-{uuid.uuid4().hex[:12]}"
            command = {"id": cmd_id, "action": "replay", "args": {"after": cur.contiguous}}
            self.mqtt.publish(protocol.cmd_topic(office, CENTRAL_DEVICE), command)
            self._asked[office] = _Asked(cmd_id, cur.contiguous, now)
            log.info("office %s: asked for the events after %d (it has %d)", office,
                     cur.contiguous, cur.head)  # fmt: skip

    def _report_drops(self) -> None:
        with self._lock:
            dropped = {o: n for o, n in self._dropped.items() if n}
            for o in dropped:
                self._dropped[o] = 0
        for office, n in dropped.items():
            log.warning("office %s: a flood; dropped %d messages past %d waiting", office, n,
                        LANE_MAX)  # fmt: skip
            note = Message(f"{protocol.ROOT}/{office}/(flood)", str(n).encode())
            cur = self.cursors.get(office)
            try:
                ingest.quarantine_alone(self._connection(), cur, note, f"flood: {n} dropped")
            except psycopg.OperationalError:
                self._drop_connection()

    # ---- PostgreSQL ------------------------------------------------------------------

    def _connect(self) -> Conn:
        conn: Conn = psycopg.connect(self.config.dsn)
        migrate(conn)
        cursors = ingest.load_cursors(conn, self.config.offices)
        for office, cur in cursors.items():
            known = self.cursors.get(office)
            if known is not None:
                cur.head = max(cur.head, known.head)  # memory knows the latest word
        self.cursors = cursors
        self.conn = conn
        return conn

    def _connection(self) -> Conn:
        if self.conn is None or self.conn.closed:
            self.conn = None
            return self._connect()
        return self.conn

    def _drop_connection(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except psycopg.Error:
                log.debug("closing a broken connection", exc_info=True)
        self.conn = None


def _is_reply(m: Message, cmd_id: str) -> bool:
    return m.topic.endswith(f"/reply/{CENTRAL_DEVICE}") and cmd_id.encode() in m.payload


def run_central(config: CentralConfig, stop: threading.Event) -> int:
    """Runs until `stop` is set; the exit status."""
    service = CentralService(config)
    try:
        service.start()
    except psycopg.OperationalError as exc:
        log.critical("cannot reach PostgreSQL (central.dsn): %s", exc)
        return 69  # EX_UNAVAILABLE: systemd tries again
    log.info("central service running for %s", ", ".join(config.offices))
    stop.wait()
    service.stop()
    return 0
