"""The WAL is checkpointed beside the service's commits, never inside one."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from antrean.checkpoint import WalCheckpointer
from antrean.store import Store


def write_meta(store: Store, n: int) -> None:
    """n durable transactions, each as small as a call's meta row."""
    for i in range(n):
        store.db.execute("BEGIN IMMEDIATE")
        store.db.execute("INSERT OR REPLACE INTO meta VALUES (?,?)", ("seq", str(i)))
        store.db.execute("COMMIT")


def wal_frames(path: Path) -> tuple[int, int]:
    """(frames in the WAL, frames in the database file), asked on another connection.

    A PASSIVE checkpoint of a WAL already checkpointed moves nothing, so asking
    after the checkpointer stopped tells what it left.
    """
    db = sqlite3.connect(str(path))
    try:
        _busy, frames, done = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return frames, done
    finally:
        db.close()


def test_the_service_store_does_not_checkpoint_inside_its_commits(tmp_path: Path) -> None:
    store = Store(tmp_path / "antrean.db", autocheckpoint=False)
    try:
        assert store.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
        # Past SQLite's default of 1000 pages: an automatic checkpoint would have
        # run inside one of these commits and reset the WAL.
        write_meta(store, 1200)
        wal = tmp_path / "antrean.db-wal"
        assert wal.stat().st_size > 1000 * 4096
    finally:
        store.close()
    reopened = Store(tmp_path / "antrean.db")
    assert reopened.db.execute("SELECT value FROM meta WHERE key = 'seq'").fetchone() == ("1199",)
    reopened.close()


def test_the_checkpointer_moves_the_wal_into_the_file_while_commits_go_on(tmp_path: Path) -> None:
    path = tmp_path / "antrean.db"
    store = Store(path, autocheckpoint=False)
    checkpointer = WalCheckpointer(path, every_s=0.05).start()
    try:
        write_meta(store, 300)
        deadline = time.monotonic() + 10
        while checkpointer.checkpoints == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert checkpointer.checkpoints >= 1
        write_meta(store, 300)  # the WAL starts again from its beginning; commits go on
    finally:
        checkpointer.stop()
    frames, done = wal_frames(path)
    assert frames == done  # everything committed is in the database file
    assert store.db.execute("SELECT value FROM meta WHERE key = 'seq'").fetchone() == ("299",)
    store.close()


def test_the_default_store_keeps_sqlites_automatic_checkpoint(tmp_path: Path) -> None:
    # Tools that open the store briefly (reports, the doctor, tests) need no thread.
    store = Store(tmp_path / "antrean.db")
    try:
        assert store.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
    finally:
        store.close()
