"""The SQLite store: one file, one writer, every change durable before it is answered.

WAL with synchronous=FULL because a Pi loses power without warning. Start-up
reads only the current business day (indexed), so it does not grow with history.
"""

from __future__ import annotations

import json
import logging
import secrets
import sqlite3
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from antrean.bookings import Booking, BookingStatus
from antrean.calls import CallRecord
from antrean.domain import (
    SERVICE_TIME_WINDOW,
    CounterNumber,
    CounterStatus,
    ServiceCode,
    ServiceStatus,
    StoredDay,
    Ticket,
    TicketId,
    TicketStatus,
)
from antrean.events import AuditEntry
from antrean.progress import Attribution, Target
from antrean.stock import StockEntry
from antrean.sync_items import OutboxItem, SyncConflict, SyncRows
from antrean.visits import Visit, visit_from_dict

log = logging.getLogger(__name__)
TICKET_KEY = "ticket_key"  # meta row: the HMAC key of the tickets' phone-page tokens

# Each entry moves the schema one version up; never edit one that has shipped.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE tickets (
        id TEXT PRIMARY KEY,
        day TEXT NOT NULL,
        service TEXT NOT NULL,
        number INTEGER NOT NULL,
        code TEXT NOT NULL,
        priority INTEGER NOT NULL,
        status TEXT NOT NULL,
        issued_at TEXT NOT NULL,
        ord INTEGER NOT NULL,
        called_at TEXT,
        finished_at TEXT,
        counter INTEGER,
        recalls INTEGER NOT NULL DEFAULT 0,
        recalled_at TEXT,
        UNIQUE (day, code)
    );
    CREATE INDEX tickets_by_day ON tickets (day);
    CREATE INDEX tickets_served ON tickets (service, finished_at) WHERE status = 'served';
    CREATE TABLE counters (
        number INTEGER PRIMARY KEY,
        open INTEGER NOT NULL,
        current TEXT,
        normal_streak INTEGER NOT NULL
    );
    CREATE TABLE services (
        code TEXT PRIMARY KEY,
        open INTEGER NOT NULL,
        reason TEXT NOT NULL
    );
    CREATE TABLE commands (
        device TEXT NOT NULL,
        id TEXT NOT NULL,
        at TEXT NOT NULL,
        reply TEXT NOT NULL,
        PRIMARY KEY (device, id)
    );
    CREATE INDEX commands_by_time ON commands (at);
    """,
    # 2 (issue 14): the record of calls, the blank-card ledger, the drive's
    # targets and the kelurahan of each recording. Append-only tables.
    """
    CREATE TABLE calls (
        id INTEGER PRIMARY KEY,
        ticket TEXT NOT NULL,
        day TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('call', 'recall', 'no_show', 'requeue', 'transfer')),
        at TEXT NOT NULL,
        counter INTEGER,
        service TEXT NOT NULL
    );
    CREATE INDEX calls_by_day ON calls (day, ticket, kind);  -- covers the figures' GROUP BY
    CREATE TABLE stock (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('delivery', 'used', 'spoiled', 'correction')),
        count INTEGER NOT NULL,
        day TEXT NOT NULL,
        at TEXT NOT NULL,
        note TEXT NOT NULL,
        who TEXT NOT NULL,
        ticket TEXT
    );
    CREATE INDEX stock_by_day ON stock (day);
    CREATE TABLE kelurahan_targets (
        id INTEGER PRIMARY KEY,
        kelurahan TEXT NOT NULL,
        target INTEGER NOT NULL,
        at TEXT NOT NULL,
        who TEXT NOT NULL
    );
    CREATE TABLE progress (
        ticket TEXT PRIMARY KEY,
        day TEXT NOT NULL,
        at TEXT NOT NULL,
        kelurahan TEXT,
        source TEXT NOT NULL CHECK (source IN ('booking', 'visit', 'console', 'unknown'))
    );
    CREATE INDEX progress_by_day ON progress (day);
    """,
    # 3 (issue 12): bookings. No NIK: its HMAC (antrean.booking.nik_key) and
    # last four digits; name and phone are erased after the day (booking_purge).
    """
    CREATE TABLE bookings (
        code TEXT PRIMARY KEY,
        day TEXT NOT NULL,
        slot TEXT NOT NULL,
        service TEXT NOT NULL,
        nik_hash TEXT NOT NULL,
        nik_last4 TEXT NOT NULL,
        name TEXT,
        phone TEXT,
        kelurahan TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('booked', 'redeemed', 'cancelled')),
        booked_at TEXT NOT NULL,
        ticket TEXT,
        redeemed_at TEXT
    );
    CREATE INDEX bookings_by_day ON bookings (day, service, slot);
    CREATE INDEX bookings_named ON bookings (day) WHERE name IS NOT NULL OR phone IS NOT NULL;
    """,
    # 4 (issue 12): the booked lane. A redeemed booking's ticket keeps its
    # slot's start; a counter keeps its booked calls since its last walk-in.
    # A nik_per_day walk-in keeps its NIK's keyed hash (one number per day).
    """
    ALTER TABLE tickets ADD COLUMN booked_from TEXT;
    ALTER TABLE tickets ADD COLUMN nik_hash TEXT;
    ALTER TABLE counters ADD COLUMN booked_streak INTEGER NOT NULL DEFAULT 0;
    """,
    # 5 (issue 13): visits of the mobile unit. A ticket and a call carry their
    # visit; `origin` is the unit a synced row came from (NULL: this store's
    # own, the only rows the engine loads). On a unit, `outbox` is the log it
    # replays to the office; on the office, `sync_acks` is how far each
    # (unit, visit) has been applied, written in the same transaction.
    """
    ALTER TABLE tickets ADD COLUMN visit TEXT;
    ALTER TABLE tickets ADD COLUMN origin TEXT;
    ALTER TABLE calls ADD COLUMN visit TEXT;
    ALTER TABLE calls ADD COLUMN origin TEXT;
    CREATE INDEX tickets_by_visit ON tickets (visit) WHERE visit IS NOT NULL;
    CREATE TABLE visits (
        id TEXT PRIMARY KEY,
        unit TEXT NOT NULL,
        day TEXT NOT NULL,
        status TEXT NOT NULL,
        body TEXT NOT NULL
    );
    CREATE INDEX visits_by_day ON visits (day);
    CREATE TABLE outbox (
        visit TEXT NOT NULL,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (visit, seq)
    ) WITHOUT ROWID;
    CREATE TABLE sync_acks (
        unit TEXT NOT NULL,
        visit TEXT NOT NULL,
        acked INTEGER NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (unit, visit)
    );
    """,
    # 6 (issue 16): the log of published events, written in the batch's
    # transaction, so the office can replay to the central service what it
    # missed (the `replay` action); pruned after EVENT_LOG_DAYS.
    """
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY,
        day TEXT NOT NULL,
        body TEXT NOT NULL
    );
    CREATE INDEX events_by_day ON events (day);
    """,
    # 7 (issue 12): a booking nobody redeemed by its slot's start plus grace is
    # 'expired' (booked but did not come). SQLite cannot change a CHECK: the
    # table is copied into one that allows it.
    """
    CREATE TABLE bookings_new (
        code TEXT PRIMARY KEY,
        day TEXT NOT NULL,
        slot TEXT NOT NULL,
        service TEXT NOT NULL,
        nik_hash TEXT NOT NULL,
        nik_last4 TEXT NOT NULL,
        name TEXT,
        phone TEXT,
        kelurahan TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('booked', 'redeemed', 'cancelled', 'expired')),
        booked_at TEXT NOT NULL,
        ticket TEXT,
        redeemed_at TEXT
    );
    INSERT INTO bookings_new SELECT * FROM bookings;
    DROP TABLE bookings;
    ALTER TABLE bookings_new RENAME TO bookings;
    CREATE INDEX bookings_by_day ON bookings (day, service, slot);
    CREATE INDEX bookings_named ON bookings (day) WHERE name IS NOT NULL OR phone IS NOT NULL;
    CREATE INDEX tickets_with_nik ON tickets (day) WHERE nik_hash IS NOT NULL;
    """,
    # 8 (issue 15): who did each office action (open/close a service or a
    # counter, the running text, bookings, visits): the device and the user
    # it sent, as the stock ledger's `who`. Append-only, kept like the ledgers.
    """
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        day TEXT NOT NULL,
        at TEXT NOT NULL,
        who TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT NOT NULL
    );
    CREATE INDEX audit_by_day ON audit (day);
    """,
    # 9 (issue 13): a booking of a slot of a mobile unit's visit names the
    # visit; it is redeemed at the visit, on the unit (docs/booking.md).
    """
    ALTER TABLE bookings ADD COLUMN visit TEXT;
    """,
    # 10 (issue 13): a booking a unit redeemed that the office could not mark
    # (cancelled here after the unit left, or unknown): kept for staff to see
    # on /admin/unit and in the ack after a restart. Written once, in the
    # slice that brought the redemption, so (unit, visit, ticket) is its key.
    """
    CREATE TABLE sync_conflicts (
        unit TEXT NOT NULL,
        visit TEXT NOT NULL,
        ticket TEXT NOT NULL,
        booking TEXT,
        status TEXT NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (unit, visit, ticket)
    );
    """,
)
COMMAND_MEMORY_DAYS = 3  # a device retries within seconds; days is plenty for idempotency
# An office may be cut off from the centre for a week or more (a broken link in
# a remote kecamatan); a month covers that twice, at a few MB of SQLite.
EVENT_LOG_DAYS = 35


class Store:
    """The queue's durable state."""

    def __init__(self, path: Path | str, autocheckpoint: bool = True) -> None:
        """`autocheckpoint=False`: the caller checkpoints (antrean.checkpoint), not COMMIT."""
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, one per batch.
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA busy_timeout=5000")
        if not autocheckpoint:
            self.db.execute("PRAGMA wal_autocheckpoint=0")
        # Freed bytes are zeroed, so an erased name is gone from the file, not
        # just unlinked (issue 12); the pages are written anyway, no extra I/O.
        self.db.execute("PRAGMA secure_delete=ON")
        self.migrate()
        # Every remembered command key, so a new command's id check is a set
        # look-up; the table holds a few days of commands (thousands of keys).
        self._known: set[tuple[str, str]] = set(
            self.db.execute("SELECT device, id FROM commands").fetchall()
        )

    def close(self) -> None:
        self.db.close()

    @property
    def schema_version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def migrate(self) -> None:
        """Brings the schema to the newest version, one transaction per step."""
        version = self.schema_version
        if version > len(MIGRATIONS):
            raise RuntimeError(
                f"{self.path} has schema version {version}; this Antrean knows "
                f"{len(MIGRATIONS)}. Install the newer Antrean that wrote it."
            )
        if version < len(MIGRATIONS):  # one line for the whole way, a new store's too
            log.info("migrating %s from schema version %d to %d", self.path, version,
                     len(MIGRATIONS))  # fmt: skip
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            statements = [s for s in script.split(";") if s.strip()]
            self.db.execute("BEGIN IMMEDIATE")
            try:
                for statement in statements:
                    self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {number}")
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise

    # ---- start-up ------------------------------------------------------------

    def load(self, services: Iterable[str]) -> StoredDay:
        """The state of the last business day the service ran, for the engine."""
        meta = dict(self.db.execute("SELECT key, value FROM meta").fetchall())
        snap = StoredDay(seq=int(meta.get("seq", 0)), running_text=meta.get("running_text"))
        snap.ticket_key = self._ticket_key(meta.get(TICKET_KEY))
        if "clock_high" in meta:
            snap.clock_high = datetime.fromisoformat(meta["clock_high"])
        if "day" in meta:
            snap.day = date.fromisoformat(meta["day"])
            # A unit's synced tickets are history here, never today's queue.
            rows = self.db.execute(
                "SELECT * FROM tickets WHERE day = ? AND origin IS NULL", (meta["day"],)
            )
            snap.tickets = [_ticket(r) for r in rows.fetchall()]
        snap.counters = [
            CounterStatus(CounterNumber(n), bool(o), TicketId(c) if c else None, s, b)
            for n, o, c, s, b in self.db.execute("SELECT * FROM counters")
        ]
        snap.services = [
            ServiceStatus(ServiceCode(c), bool(o), r)
            for c, o, r in self.db.execute("SELECT * FROM services")
        ]
        for service in services:
            snap.service_times[service] = self.recent_service_times(service)
        self._load_ledgers(snap)
        return snap

    def _ticket_key(self, stored: str | None) -> bytes:
        """The key of the phone page's ticket tokens (antrean.tokens), made on first start."""
        if stored:
            return bytes.fromhex(stored)
        key = secrets.token_bytes(32)
        self.db.execute("INSERT INTO meta VALUES (?, ?)", (TICKET_KEY, key.hex()))
        return key

    def _load_ledgers(self, snap: StoredDay) -> None:
        """Issue 14: the card balance (a sum over a ledger of a few rows a day),
        the recent use (60 days, more than any rate window needs), the targets."""
        db = self.db
        balance = db.execute("SELECT COALESCE(SUM(count), 0) FROM stock").fetchone()[0]
        snap.stock_balance = int(balance)
        since = (snap.day or date.today()) - timedelta(days=60)
        rows = db.execute(
            "SELECT day, -SUM(count) FROM stock WHERE kind IN ('used', 'spoiled') AND day >= ?"
            " GROUP BY day",
            (since.isoformat(),),
        )
        snap.stock_use_by_day = {date.fromisoformat(d): int(n) for d, n in rows}
        rows = db.execute("SELECT kelurahan, target FROM kelurahan_targets ORDER BY id")
        snap.targets = dict(rows.fetchall())
        # Issue 12: bookings from a week back on (bounded by the booking horizon).
        since = (snap.day or date.today()) - timedelta(days=7)
        rows = db.execute(_SELECT_BOOKINGS, (str(since),))
        snap.bookings = [_booking(r) for r in rows.fetchall()]
        rows = db.execute("SELECT body FROM visits WHERE day >= ?", (str(since),))
        snap.visits = [visit_from_dict(json.loads(b)) for (b,) in rows]

    def recent_service_times(self, service: str) -> list[float]:
        """Durations (s) of the service's last served tickets, oldest first.

        This store's own only: a mobile unit's synced tickets (`origin` set)
        were served elsewhere, at another pace.
        """
        rows = self.db.execute(
            "SELECT called_at, finished_at FROM tickets INDEXED BY tickets_served"
            " WHERE status = 'served' AND service = ? AND called_at IS NOT NULL"
            " AND origin IS NULL"
            " ORDER BY finished_at DESC LIMIT ?",
            (service, SERVICE_TIME_WINDOW),
        ).fetchall()
        return [
            (datetime.fromisoformat(f) - datetime.fromisoformat(c)).total_seconds()
            for c, f in reversed(rows)
        ]

    # ---- commands --------------------------------------------------------------

    def reply_for(self, device: str, command_id: str) -> dict[str, Any] | None:
        """The reply a command already got, if it was seen before."""
        if (device, command_id) not in self._known:
            return None  # the common case, answered without touching the disk
        row = self.db.execute(
            "SELECT reply FROM commands WHERE device = ? AND id = ?", (device, command_id)
        ).fetchone()
        return json.loads(row[0]) if row else None

    def commit(
        self,
        *,
        tickets: Iterable[Ticket],
        counters: Iterable[CounterStatus],
        services: Iterable[ServiceStatus],
        meta: dict[str, str],
        replies: Iterable[tuple[str, str, str]],
        now: datetime,
        calls: Iterable[CallRecord] = (),
        stock: Iterable[StockEntry] = (),
        progress: Iterable[Attribution] = (),
        targets: Iterable[Target] = (),
        bookings: Iterable[Booking] = (),
        erase_names_before: date | None = None,
        visits: Iterable[Visit] = (),
        outbox: Iterable[OutboxItem] = (),
        events: Iterable[tuple[int, str, str]] = (),
        erase_niks_before: date | None = None,
        audit: Iterable[AuditEntry] = (),
    ) -> None:
        """Writes one batch of changes and the replies (their JSON) that acknowledge them.

        Atomically, in one transaction; an empty list writes nothing for its table.
        `erase_names_before` erases the names and phones of earlier days' bookings,
        `erase_niks_before` the NIK hashes of earlier days' walk-in tickets.
        `events` are (seq, day, the event's JSON as published): the replay log.
        """
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            # An upsert on the id only: a clash on (day, code) must fail loudly,
            # never replace another resident's ticket.
            at = now.isoformat()
            remembered = list(replies)
            rows = (
                (_UPSERT_TICKET, [_row(t) for t in tickets]),
                (
                    "INSERT OR REPLACE INTO counters VALUES (?,?,?,?,?)",
                    [
                        (c.number, int(c.open), c.current, c.normal_streak, c.booked_streak)
                        for c in counters
                    ],
                ),
                (
                    "INSERT OR REPLACE INTO services VALUES (?,?,?)",
                    [(s.code, int(s.open), s.reason) for s in services],
                ),
                ("INSERT OR REPLACE INTO meta VALUES (?,?)", list(meta.items())),
                (
                    "INSERT OR IGNORE INTO commands VALUES (?,?,?,?)",
                    [(d, i, at, r) for d, i, r in remembered],
                ),
            )
            for statement, values in rows:
                if values:  # one executemany per table that changed
                    db.executemany(statement, values)
            _append_ledgers(db, calls, stock, progress, targets)
            db.executemany(_UPSERT_BOOKING, [_booking_row(b) for b in bookings])
            _write_visits(db, visits)
            db.executemany("INSERT INTO outbox VALUES (?,?,?,?)", outbox)
            db.executemany("INSERT INTO events VALUES (?,?,?)", events)
            db.executemany(
                "INSERT INTO audit (day, at, who, action, subject) VALUES (?,?,?,?,?)",
                [(str(a.day), a.at.isoformat(), a.who, a.action, a.subject) for a in audit],
            )
            erased = _erase_names(db, erase_names_before)
            erased_niks = _erase_niks(db, erase_niks_before)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self._known.update((d, i) for d, i, _ in remembered)
        if erased or erased_niks:
            # The old pages are still in the WAL until it is checkpointed and cut.
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        if erased:
            log.info("erased the names and phones of %d past bookings", erased)
        if erased_niks:
            log.info("erased the NIK hashes of %d past tickets", erased_niks)

    def forget_old_commands(self, before: datetime) -> int:
        """Drops command ids older than the idempotency window."""
        db = self.db
        with db:
            cur = db.execute("DELETE FROM commands WHERE at < ?", (before.isoformat(),))
        if cur.rowcount:
            self._known = set(db.execute("SELECT device, id FROM commands").fetchall())
        return cur.rowcount

    # ---- issue 16: the event log the central service replays from ------------

    def events_after(self, seq: int, limit: int) -> list[str]:
        """The JSON of the logged events after `seq`, in order, at most `limit`."""
        rows = self.db.execute(
            "SELECT body FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit)
        )
        return [b for (b,) in rows]

    def drive_counts(self, start: date | None, today: date) -> dict[str, tuple[int, int, int]]:
        """kelurahan ('' unknown) -> recordings (since `start`, in the 7 days to `today`, today)."""
        week_from = today - timedelta(days=6)
        rows = self.db.execute(
            "SELECT COALESCE(kelurahan, ''), COUNT(*), SUM(day >= ?), SUM(day = ?) FROM progress"
            " WHERE day >= ? AND day <= ? GROUP BY 1",
            (str(week_from), str(today), str(start or date.min), str(today)),
        )
        return {k: (n, w, t) for k, n, w, t in rows}

    def oldest_event(self) -> int | None:
        """The lowest seq still in the log (older ones were pruned), or None."""
        return self.db.execute("SELECT MIN(seq) FROM events").fetchone()[0]  # type: ignore[no-any-return]

    def prune_events(self, before: date) -> int:
        """Drops the logged events of business days before `before`."""
        with self.db:
            return self.db.execute("DELETE FROM events WHERE day < ?", (str(before),)).rowcount

    # ---- reports --------------------------------------------------------------

    def tickets_of_day(self, day: date) -> list[Ticket]:
        """Every ticket of one business day, in issue order (history stays queryable)."""
        return _tickets_of_day(self.db, day)

    # ---- issue 13: the unit's outbox and the office's sync (antrean.sync) ------

    def outbox_heads(self) -> dict[str, int]:
        """The last outbox seq of each visit (the unit's next items follow them)."""
        return outbox_heads(self.db)

    def visit(self, visit_id: str) -> Visit | None:
        """A visit of any day (the office looks up the visit a unit syncs)."""
        row = self.db.execute("SELECT body FROM visits WHERE id = ?", (visit_id,)).fetchone()
        return visit_from_dict(json.loads(row[0])) if row else None

    def sync_acks(self) -> dict[str, dict[str, int]]:
        """unit -> visit -> the highest seq applied (office)."""
        out: dict[str, dict[str, int]] = {}
        for unit, visit, acked in self.db.execute("SELECT unit, visit, acked FROM sync_acks"):
            out.setdefault(unit, {})[visit] = acked
        return out

    def sync_conflicts(self) -> list[SyncConflict]:
        """Every booking conflict the units brought home, oldest first (office)."""
        return sync_conflicts(self.db)

    def apply_sync(self, unit: str, visit: str, acked: int, rows: SyncRows, now: datetime) -> None:
        """A unit's items applied with their ack, atomically (one transaction)."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(_UPSERT_TICKET, [(*_row(t)[:-1], unit) for t in rows.tickets])
            _append_ledgers(db, rows.calls, rows.stock, rows.progress, (), origin=unit)
            _write_visits(db, rows.visits)
            db.executemany(_UPSERT_BOOKING, [_booking_row(b) for b in rows.bookings])
            db.executemany(
                "INSERT OR IGNORE INTO sync_conflicts VALUES (?,?,?,?,?,?)",
                [(unit, *c[1:5], c.at.isoformat()) for c in rows.conflicts],
            )
            db.execute(
                "INSERT OR REPLACE INTO sync_acks VALUES (?,?,?,?)",
                (unit, visit, acked, now.isoformat()),
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise


class StoreReader:
    """The store opened read-only, for reports next to a running queue service.

    SQLite's `mode=ro`: it never writes, migrates or checkpoints, and a WAL
    reader does not block the service's writer. It reads the service's last
    commit, so a report may be a batch behind a command answered a moment ago.
    When the service is not running, SQLite may create the empty `-wal` and
    `-shm` files it needs to read a WAL store (owned like the store, also
    when run as root); the service uses and removes them as usual.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"no store at {self.path} (has the queue service run here?)")
        uri = f"{self.path.resolve().as_uri()}?mode=ro"
        self.db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self.db.execute("PRAGMA busy_timeout=5000")
        version = int(self.db.execute("PRAGMA user_version").fetchone()[0])
        if version != len(MIGRATIONS):
            self.db.close()
            raise RuntimeError(
                f"{self.path} has schema version {version}; this Antrean reads "
                f"version {len(MIGRATIONS)}. Run the queue service of this version once, "
                "or use the Antrean that wrote it."
            )

    def close(self) -> None:
        self.db.close()

    def tickets_of_day(self, day: date) -> list[Ticket]:
        """Every ticket of one business day, in issue order."""
        return _tickets_of_day(self.db, day)

    def ticket(self, day: date, code: str) -> Ticket | None:
        """One ticket of a business day by the code printed on it, or None."""
        row = self.db.execute(
            "SELECT * FROM tickets WHERE day = ? AND code = ?", (str(day), code)
        ).fetchone()
        return _ticket(row) if row else None


def outbox_heads(db: sqlite3.Connection) -> dict[str, int]:
    """The last outbox seq of each visit."""
    return dict(db.execute("SELECT visit, MAX(seq) FROM outbox GROUP BY visit").fetchall())


def unit_visits(db: sqlite3.Connection, unit: str) -> list[Visit]:
    """Every visit of `unit` in the store (the unit's sync follows the office's plan)."""
    rows = db.execute("SELECT body FROM visits WHERE unit = ? ORDER BY day, id", (unit,))
    return [visit_from_dict(json.loads(r[0])) for r in rows]


def sync_conflicts(db: sqlite3.Connection, unit: str | None = None) -> list[SyncConflict]:
    """The conflicts of one unit, or of all, oldest first (the service and the web's reader)."""
    found = db.execute(
        "SELECT unit, visit, ticket, booking, status, at FROM sync_conflicts"
        " WHERE ? IS NULL OR unit = ? ORDER BY at, ticket",
        (unit, unit),
    )
    return [SyncConflict(u, v, TicketId(t), b, s, datetime.fromisoformat(a))
            for u, v, t, b, s, a in found]  # fmt: skip


def outbox_after(db: sqlite3.Connection, visit: str, seq: int, limit: int) -> list[OutboxItem]:
    """The visit's outbox items after `seq`, in order (read by the unit's sync client)."""
    rows = db.execute(
        "SELECT visit, seq, kind, body FROM outbox WHERE visit = ? AND seq > ? ORDER BY seq"
        " LIMIT ?",
        (visit, seq, limit),
    )
    return [OutboxItem(*r) for r in rows]


def _write_visits(db: sqlite3.Connection, visits: Iterable[Visit]) -> None:
    db.executemany(
        "INSERT OR REPLACE INTO visits VALUES (?,?,?,?,?)",
        [(v.id, v.unit, str(v.day), v.status.value, json.dumps(v.as_dict())) for v in visits],
    )


def _append_ledgers(
    db: sqlite3.Connection,
    calls: Iterable[CallRecord],
    stock: Iterable[StockEntry],
    progress: Iterable[Attribution],
    targets: Iterable[Target],
    origin: str | None = None,
) -> None:
    """Issue 14's append-only rows, inside the batch's transaction (`origin`: a unit's)."""
    db.executemany(
        "INSERT INTO calls (ticket, day, kind, at, counter, service, visit, origin)"
        " VALUES (?,?,?,?,?,?,?,?)",
        [
            (c.ticket, str(c.day), c.kind.value, c.at.isoformat(), c.counter, c.service, c.visit,
             origin)
            for c in calls
        ],
    )  # fmt: skip
    db.executemany(
        "INSERT INTO stock (kind, count, day, at, note, who, ticket) VALUES (?,?,?,?,?,?,?)",
        [
            (e.kind.value, e.count, str(e.day), e.at.isoformat(), e.note, e.who, e.ticket)
            for e in stock
        ],
    )
    db.executemany(
        "INSERT OR REPLACE INTO progress VALUES (?,?,?,?,?)",
        [(a.ticket, str(a.day), a.at.isoformat(), a.kelurahan, a.source.value) for a in progress],
    )
    db.executemany(
        "INSERT INTO kelurahan_targets (kelurahan, target, at, who) VALUES (?,?,?,?)",
        [(t.kelurahan, t.target, t.at.isoformat(), t.who) for t in targets],
    )


_SELECT_BOOKINGS = """
    SELECT code, day, slot, service, nik_hash, nik_last4, name, phone, kelurahan, status,
        booked_at, ticket, redeemed_at, visit
    FROM bookings WHERE day >= ?
"""
_UPSERT_BOOKING = """
    INSERT INTO bookings (code, day, slot, service, nik_hash, nik_last4, name, phone, kelurahan,
        status, booked_at, ticket, redeemed_at, visit) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)
    ON CONFLICT (code) DO UPDATE SET
        name = excluded.name, phone = excluded.phone, status = excluded.status,
        ticket = excluded.ticket, redeemed_at = excluded.redeemed_at
"""


def _booking_row(b: Booking) -> tuple[Any, ...]:
    return (
        b.code, str(b.day), b.slot, b.service, b.nik_hash, b.nik_last4, b.name, b.phone,
        b.kelurahan, b.status.value, b.booked_at.isoformat(), b.ticket,
        b.redeemed_at.isoformat() if b.redeemed_at else None, b.visit,
    )  # fmt: skip


def _booking(r: tuple[Any, ...]) -> Booking:
    return Booking(
        r[0], date.fromisoformat(r[1]), r[2], ServiceCode(r[3]), r[4], r[5], r[6], r[7], r[8],
        BookingStatus(r[9]), datetime.fromisoformat(r[10]), TicketId(r[11]) if r[11] else None,
        datetime.fromisoformat(r[12]) if r[12] else None, r[13],
    )  # fmt: skip


def _erase_names(db: sqlite3.Connection, before: date | None) -> int:
    if before is None:
        return 0
    cur = db.execute(
        "UPDATE bookings SET name = NULL, phone = NULL"
        " WHERE day < ? AND (name IS NOT NULL OR phone IS NOT NULL)",
        (str(before),),
    )
    return cur.rowcount


def _erase_niks(db: sqlite3.Connection, before: date | None) -> int:
    """A walk-in's NIK hash is for its own day's one-number rule only."""
    if before is None:
        return 0
    cur = db.execute(
        "UPDATE tickets SET nik_hash = NULL WHERE day < ? AND nik_hash IS NOT NULL",
        (str(before),),
    )
    return cur.rowcount


def _tickets_of_day(db: sqlite3.Connection, day: date) -> list[Ticket]:
    rows = db.execute("SELECT * FROM tickets WHERE day = ? ORDER BY ord", (str(day),))
    return [_ticket(r) for r in rows.fetchall()]


_UPSERT_TICKET = """
    INSERT INTO tickets VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
    ON CONFLICT (id) DO UPDATE SET
        service = excluded.service, status = excluded.status, called_at = excluded.called_at,
        finished_at = excluded.finished_at, counter = excluded.counter,
        recalls = excluded.recalls, recalled_at = excluded.recalled_at
"""


def _row(t: Ticket) -> tuple[Any, ...]:
    return (
        t.id,
        t.day.isoformat(),
        t.service,
        t.number,
        t.code,
        int(t.priority),
        t.status.value,
        t.issued_at.isoformat(),
        t.order,
        t.called_at.isoformat() if t.called_at else None,
        t.finished_at.isoformat() if t.finished_at else None,
        t.counter,
        t.recalls,
        t.recalled_at.isoformat() if t.recalled_at else None,
        t.booked_from.isoformat() if t.booked_from else None,
        t.nik_hash,
        t.visit,
        None,  # origin: this store's own ticket
    )


def _ticket(r: tuple[Any, ...]) -> Ticket:
    return Ticket(
        id=TicketId(r[0]),
        day=date.fromisoformat(r[1]),
        service=ServiceCode(r[2]),
        number=r[3],
        code=r[4],
        priority=bool(r[5]),
        status=TicketStatus(r[6]),
        issued_at=datetime.fromisoformat(r[7]),
        order=r[8],
        called_at=datetime.fromisoformat(r[9]) if r[9] else None,
        finished_at=datetime.fromisoformat(r[10]) if r[10] else None,
        counter=CounterNumber(r[11]) if r[11] is not None else None,
        recalls=r[12],
        recalled_at=datetime.fromisoformat(r[13]) if r[13] else None,
        booked_from=datetime.fromisoformat(r[14]) if r[14] else None,
        nik_hash=r[15],
        visit=r[16],
    )
