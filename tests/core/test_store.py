"""The SQLite store: durable settings, migrations, atomic batches, start-up from today only."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from antrean.domain import ServiceCode, Ticket, TicketId, TicketStatus
from antrean.store import MIGRATIONS, Store


def ticket(day: str, code: str, order: int, status: TicketStatus = TicketStatus.WAITING) -> Ticket:
    return Ticket(
        id=TicketId(f"{day}/{code}"),
        day=date.fromisoformat(day),
        service=ServiceCode(code[0]),
        number=int(code[1:]),
        code=code,
        priority=False,
        status=status,
        issued_at=datetime(2026, 11, 26, 2, tzinfo=UTC),
        order=order,
    )


def commit(store: Store, *tickets: Ticket, day: str = "2026-11-26") -> None:
    store.commit(
        tickets=tickets,
        counters=[],
        services=[],
        meta={"seq": "1", "day": day, "running_text": ""},
        replies=[("kiosk-1", f"c-{t.code}", '{"ok": true}') for t in tickets],
        now=datetime(2026, 11, 26, 2, tzinfo=UTC),
    )


def test_durability_settings_and_schema_version(tmp_path: Path) -> None:
    store = Store(tmp_path / "a.db")
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert store.schema_version == len(MIGRATIONS)
    store.close()
    Store(tmp_path / "a.db").close()  # reopening migrates nothing


def test_a_newer_schema_is_refused_clearly(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "new.db")
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.close()
    with pytest.raises(RuntimeError, match="Install the newer Antrean"):
        Store(tmp_path / "new.db")


def test_a_failed_batch_leaves_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path / "a.db")
    commit(store, ticket("2026-11-26", "A001", 1))
    # Same day and code under another id breaks UNIQUE(day, code): the batch rolls back.
    bad = ticket("2026-11-26", "A001", 2).replace(id=TicketId("other"))
    with pytest.raises(sqlite3.IntegrityError):
        commit(store, ticket("2026-11-26", "A002", 3), bad)
    assert [t.code for t in store.tickets_of_day(date(2026, 11, 26))] == ["A001"]
    assert store.reply_for("kiosk-1", "c-A002") is None
    assert store.reply_for("kiosk-1", "c-A001") == {"ok": True}
    store.close()


def test_start_up_loads_only_the_last_business_day(tmp_path: Path) -> None:
    store = Store(tmp_path / "a.db")
    commit(store, ticket("2026-11-25", "A001", 1, TicketStatus.SERVED), day="2026-11-25")
    commit(store, ticket("2026-11-26", "A001", 1), ticket("2026-11-26", "C001", 2))
    snap = store.load("ABCD")
    assert snap.day == date(2026, 11, 26)
    assert sorted(t.code for t in snap.tickets) == ["A001", "C001"]
    assert len(store.tickets_of_day(date(2026, 11, 25))) == 1  # history stays queryable
    store.close()


def test_a_mobile_units_synced_tickets_stay_out_of_the_offices_service_times(
    tmp_path: Path,
) -> None:
    # A unit's service times were measured at a posyandu, not at these counters.
    store = Store(tmp_path / "antrean.db")
    at = datetime(2026, 11, 26, 2, 5, tzinfo=UTC)
    served = ticket("2026-11-26", "A001", 1, TicketStatus.SERVED)
    served = served.replace(called_at=datetime(2026, 11, 26, 2, tzinfo=UTC), finished_at=at)
    commit(store, served)
    store.db.execute(
        "INSERT INTO tickets SELECT 'x/KA001', day, service, number, 'KA001', priority, status,"
        " issued_at, ord + 1, called_at, '2026-11-26T03:00:00+00:00', counter, recalls,"
        " recalled_at, booked_from, nik_hash, 'visit-1', 'unit-1' FROM tickets"
    )
    assert store.recent_service_times("A") == [300.0]
    store.close()
