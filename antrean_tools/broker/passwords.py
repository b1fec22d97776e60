"""Mosquitto's password file, written directly in its PBKDF2-SHA512 format.

A line is `user:$7$iterations$salt$hash` (base64 salt of 12 bytes, base64
hash of 64 bytes), exactly what `mosquitto_passwd` writes; no need to run it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from pathlib import Path

# mosquitto_passwd's own default. The passwords are random (144 bits), so
# guessing is hopeless whatever the count; a low count keeps a Pi's connect fast.
ITERATIONS = 101
SALT_BYTES = 12
PASSWORD_BYTES = 18  # 24 URL-safe characters, easy to copy, 144 bits
_USER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def new_password() -> str:
    """A random password: 24 characters from A-Z a-z 0-9 - _."""
    return secrets.token_urlsafe(PASSWORD_BYTES)


def hash_password(password: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """The `$7$...` hash Mosquitto 2.0 checks a password against."""
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    b64 = base64.b64encode
    return f"$7${iterations}${b64(salt).decode()}${b64(digest).decode()}"


def check_password(password: str, hashed: str) -> bool:
    """Whether `password` matches a `$7$` hash (for tests and `antrean broker` checks)."""
    parts = hashed.split("$")
    if len(parts) != 5 or parts[1] != "7":
        return False
    salt, want = base64.b64decode(parts[3]), base64.b64decode(parts[4])
    got = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, int(parts[2]))
    return hmac.compare_digest(got, want)


def read_password_file(path: Path) -> dict[str, str]:
    """user -> hash, in file order; an absent file is empty."""
    if not path.exists():
        return {}
    users: dict[str, str] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        user, sep, hashed = line.partition(":")
        if not sep or not _USER.fullmatch(user):
            raise ValueError(f"{path}:{n}: not a 'user:hash' line")
        users[user] = hashed
    return users


def password_file_text(users: dict[str, str]) -> str:
    """The file for these users (user -> hash)."""
    for user in users:
        if not _USER.fullmatch(user):
            raise ValueError(f"not a usable MQTT user name: {user!r}")
    return "".join(f"{user}:{hashed}\n" for user, hashed in users.items())
