"""Writes the store's WAL back into the database file, beside the service and not in its way.

SQLite's automatic checkpoint runs inside the COMMIT that takes the WAL past
1000 pages: that one commit copies every page back and fsyncs the database
file too. Measured with bench/bench_call_latency.py, about one call in a
hundred paid for it (the service's commit p99 9.5 ms against 0.6 ms at p50,
and the call's p99 with it). The queue service turns the automatic checkpoint
off (Store(autocheckpoint=False)) and this thread checkpoints on a connection
of its own. A PASSIVE checkpoint never takes the write lock, so a commit never
waits for it; SQLite keeps a checkpoint crash-safe, so a power cut in the
middle of one loses nothing that was committed.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger(__name__)

EVERY_S = 1.0  # a WAL of one second of calls is a few pages; nothing waits on it


class WalCheckpointer:
    """A thread that checkpoints the store at `path` every EVERY_S seconds until stop()."""

    def __init__(self, path: Path, every_s: float = EVERY_S) -> None:
        self.path = path
        self.every_s = every_s
        self.checkpoints = 0  # completed checkpoints that moved frames (for tests and logs)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> WalCheckpointer:
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        try:
            db.execute("PRAGMA busy_timeout=100")
            last: tuple[int, int] = (0, 0)
            while not self._stop.wait(self.every_s):
                try:
                    # (busy, frames in the WAL, frames in the database file)
                    _busy, frames, done = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error as exc:
                    # A full disk or a locked file: the service's own commit says so
                    # and stops; here, try again next time.
                    log.warning("WAL checkpoint failed: %s", exc)
                    continue
                if done and (frames, done) != last:
                    self.checkpoints += 1
                last = (frames, done)
        finally:
            db.close()
