"""Staff accounts of the web, its login throttle and its audit, in a small SQLite file.

This file is the web's own (the queue's store stays the queue service's,
with one writer). Passwords are hashed with scrypt (memory-hard, in the
standard library): N=2**14, r=8, p=1 is 16 MB and about 50 ms on a Pi 4, so
a stolen file costs an attacker that much per guess.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SCRYPT_MAXMEM = 64 * 1024 * 1024
MIN_PASSWORD = 8
# Failed logins of one name or one address within WINDOW_S: after FREE_TRIES
# each further try waits LOCK_S, so guessing runs at a few tries a minute.
FREE_TRIES = 5
WINDOW_S = 15 * 60
LOCK_S = 30


class WebRole(enum.StrEnum):
    """What a person may do in the web (not a device role)."""

    KEPALA = "kepala"  # office head: dashboard and reports
    PETUGAS = "petugas"  # staff: dashboard and admin
    TEKNISI = "teknisi"  # technician: dashboard, devices and users


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: WebRole


class UserError(ValueError):
    """A user that cannot be added as asked (the message is for the technician)."""


SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    hash TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    at TEXT NOT NULL,
    user TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL,
    command TEXT NOT NULL,
    outcome TEXT NOT NULL
);
"""


def hash_password(password: str, salt: bytes | None = None) -> str:
    """`scrypt$N$r$p$salt$hash` (hex), for the users table."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, maxmem=SCRYPT_MAXMEM
    )
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    """Whether the password matches a stored hash (in constant time)."""
    try:
        _name, n, r, p, salt, digest = stored.split("$")
        got = hashlib.scrypt(
            password.encode(),
            salt=bytes.fromhex(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=SCRYPT_MAXMEM,
        )
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), digest)


# A hash to check against when the name is unknown, so that an unknown name
# takes as long as a wrong password and does not tell which names exist.
_DUMMY = hash_password(secrets.token_hex(8))


class Users:
    """The users file: accounts and the audit of what they did."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()

        columns = {row[1] for row in self._db.execute("PRAGMA table_info(users)")}
        if "disabled" not in columns:  # files made before accounts could be disabled
            self._db.execute("ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0")

    def close(self) -> None:
        self._db.close()

    def add(self, name: str, role: WebRole, password: str) -> User:
        """A new account; UserError when the name is taken or the password too short."""
        name = name.strip()
        if not name_ok(name):
            raise UserError("a name is 1-40 letters, digits, '.' or '-'")
        if len(password) < MIN_PASSWORD:
            raise UserError(f"a password has at least {MIN_PASSWORD} characters")
        with self._lock:
            try:
                self._db.execute(
                    "INSERT INTO users (name, role, hash, created) VALUES (?,?,?,?)",
                    (name, role.value, hash_password(password), _now()),
                )
            except sqlite3.IntegrityError as exc:
                raise UserError(f"user {name!r} exists already") from exc
        return User(name, role)

    def verify(self, name: str, password: str) -> User | None:
        """The user when name and password match, else None (in about the same time)."""
        with self._lock:
            row = self._db.execute(
                "SELECT name, role, hash FROM users WHERE name = ? AND NOT disabled", (name,)
            ).fetchone()
        if row is None:
            check_password(password, _DUMMY)
            return None
        return User(row[0], WebRole(row[1])) if check_password(password, row[2]) else None

    def get(self, name: str) -> User | None:
        """The active account of this name (a session's user may be disabled since)."""
        with self._lock:
            row = self._db.execute(
                "SELECT name, role FROM users WHERE name = ? AND NOT disabled", (name,)
            ).fetchone()
        return User(row[0], WebRole(row[1])) if row else None

    def accounts(self) -> list[tuple[str, WebRole, str, bool]]:
        """Every account: (name, role, created, disabled), by name."""
        with self._lock:
            rows = self._db.execute(
                "SELECT name, role, created, disabled FROM users ORDER BY name"
            ).fetchall()
        return [(n, WebRole(r), c, bool(d)) for n, r, c, d in rows]

    def set_password(self, name: str, password: str) -> bool:
        """A new password (the old one stops working); False when there is no such account."""
        if len(password) < MIN_PASSWORD:
            raise UserError(f"a password has at least {MIN_PASSWORD} characters")
        digest = hash_password(password)
        with self._lock:
            done = self._db.execute("UPDATE users SET hash = ? WHERE name = ?", (digest, name))
        return done.rowcount == 1

    def set_disabled(self, name: str, disabled: bool) -> bool:
        """Disables (no login, its sessions end) or enables an account; False when unknown."""
        with self._lock:
            done = self._db.execute(
                "UPDATE users SET disabled = ? WHERE name = ?", (int(disabled), name)
            )
        return done.rowcount == 1

    def audit(self, user: str, action: str, detail: str, command: str, outcome: str) -> None:
        """One admin action: who, what, the command id the store remembers, and how it went."""
        with self._lock:
            self._db.execute(
                "INSERT INTO audit VALUES (?,?,?,?,?,?)",
                (_now(), user, action, detail, command, outcome),
            )

    def audit_rows(self, limit: int = 50) -> list[tuple[str, ...]]:
        """The newest audit rows first: (at, user, action, detail, command, outcome)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM audit ORDER BY rowid DESC LIMIT ?", (limit,)
            ).fetchall()
        return [tuple(r) for r in rows]

    def audit_between(self, start: datetime, end: datetime, limit: int) -> list[tuple[str, ...]]:
        """Audit rows from `start` up to `end` (aware times), newest first, as audit_rows."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM audit WHERE at >= ? AND at < ? ORDER BY rowid DESC LIMIT ?",
                (_iso(start), _iso(end), limit),
            ).fetchall()
        return [tuple(r) for r in rows]


def name_ok(name: str) -> bool:
    """1-40 letters, digits, '.' or '-'."""
    return 0 < len(name) <= 40 and name.replace(".", "").replace("-", "").isalnum()


def _now() -> str:
    return _iso(datetime.now(UTC))


def _iso(at: datetime) -> str:
    # UTC text compares in time order; milliseconds order a web row after the
    # store's row of the same command on /audit (web/audit.py merges the two).
    return at.astimezone(UTC).isoformat(timespec="milliseconds")


class LoginThrottle:
    """Failed logins per name and per address; past FREE_TRIES, a wait before the next."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def wait_s(self, *keys: str) -> int:
        """Seconds before any of these keys may try again (0: now)."""
        now = self._clock()
        wait = 0.0
        with self._lock:
            for key in keys:
                recent = [t for t in self._failures.get(key, []) if now - t < WINDOW_S]
                self._failures[key] = recent
                if len(recent) >= FREE_TRIES:
                    wait = max(wait, recent[-1] + LOCK_S - now)
        return max(0, int(wait + 0.999))

    def failed(self, *keys: str) -> None:
        now = self._clock()
        with self._lock:
            for key in keys:
                self._failures.setdefault(key, []).append(now)

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(name, None)
