"""A private PostgreSQL cluster on loopback, for the central service's tests and benchmarks.

Debian's `postgresql` package ships initdb and pg_ctl in
/usr/lib/postgresql/NN/bin. initdb refuses to run as root, so as root the
cluster is made and run as `nobody` (runuser), in a folder it owns; the
server listens on a free loopback port and its socket stays in that folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from antrean_testing.devbroker import free_port

PG_ROOT = Path("/usr/lib/postgresql")
USER = "antrean"  # the cluster's superuser (trust auth on loopback only)
UNPRIVILEGED = "nobody"


def pg_bin() -> Path:
    """The newest installed PostgreSQL's bin folder, or a clear error saying how to get it."""
    found = sorted(PG_ROOT.glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: run 'make test' (it installs postgresql)")
    return found[-1].parent


class DevPostgres:
    """initdb, start, stop (SIGTERM, or an immediate stop like a crash), restart, cleanup."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.bin = pg_bin()
        self.dir = Path(tempfile.mkdtemp(prefix="antrean-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self._as: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, UNPRIVILEGED)
            self._as = ["runuser", "-u", UNPRIVILEGED, "--"]
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", USER, "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-sync")  # fmt: skip

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user={USER} dbname=postgres connect_timeout=3"

    def _run(self, tool: str, *args: str) -> None:
        cmd = [*self._as, str(self.bin / tool), *args]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=self.dir)
        if done.returncode:
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr or done.stdout}")

    def start(self) -> DevPostgres:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w",
                  "-t", "30", "start")  # fmt: skip
        return self

    def stop(self, mode: str = "fast") -> None:
        """`fast` is a clean shutdown; `immediate` is like a crash (recovery at the next start)."""
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self, mode: str = "fast") -> None:
        self.stop(mode)
        self.start()

    def cleanup(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> DevPostgres:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.cleanup()
