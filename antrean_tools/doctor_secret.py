"""`antrean doctor`'s line for the office secret: the HMAC key of every stored NIK hash.

The queue service keys each NIK hash with it (antrean/booking.py). A NIK has
no checksum and a small number space: whoever reads the secret can reverse
every stored hash by trying all NIKs, so only the service's user may read it
(mode 600, its own file). Provisioning makes it on the hub (lib.sh
put_secret); this check says what is wrong with it, in Indonesian and
English, and how to put it right without making a new one (a new key would
orphan every stored hash).
"""

from __future__ import annotations

import os
import pwd
from typing import TYPE_CHECKING

from antrean.booking import SECRET_BYTES, secret_problem
from antrean.config import Config

if TYPE_CHECKING:
    from antrean_tools.doctor import Result

QUEUE_ROLES = ("hub", "portable")  # the units that run the queue service
NAME = "secret"
WHAT = "kunci rahasia kantor"  # "the office's secret key"


def needs_secret(config: Config, role: str | None) -> bool:
    """A hub always has one; elsewhere (a laptop) only when the office books or asks NIKs."""
    if role is not None:
        return role in QUEUE_ROLES
    return bool(config.booking.capacity) or any(s.nik_per_day for s in config.services)


def check_secret(config: Config, role: str | None, user: str) -> Result:
    """There, mode 600, owned by the service's user, not empty, a whole key."""
    from antrean_tools.doctor import Result  # noqa: PLC0415 - doctor imports this module

    path = config.booking.secret_file
    remake = "run provision.sh again on this unit (it makes the secret: mode 600, owner antrean)"
    if not path.is_file():
        # A laptop makes it at the first import; a hub's services cannot (read-only /etc).
        return Result(
            "WARN" if role is None else "FAIL",
            NAME,
            f"{WHAT} tidak ada / the office secret {path} does not exist",
            remake,
        )
    st = path.stat()
    if st.st_mode & 0o777 != 0o600:
        return Result(
            "FAIL",
            NAME,
            f"{WHAT} bisa dibaca pengguna lain / the office secret {path} has mode "
            f"{st.st_mode & 0o777:o}, not 600 (whoever reads it can reverse the NIK hashes)",
            f"sudo chmod 600 {path}",
        )
    uid, owner = _owner(user)
    if st.st_uid != uid:
        return Result(
            "FAIL",
            NAME,
            f"{WHAT} bukan milik {owner} / the office secret {path} is owned by "
            f"{_name(st.st_uid)}, not {owner}: the queue service cannot read it",
            f"sudo chown {owner}: {path}",
        )
    try:
        text = path.read_text(encoding="ascii", errors="replace")
    except PermissionError:
        return Result(
            "WARN", NAME, f"cannot read the office secret {path} as {_name(os.getuid())}",
            "run as root: sudo antrean doctor",
        )  # fmt: skip
    problem = secret_problem(text)
    if problem == "empty":  # it never keyed a hash: making it again loses nothing
        return Result(
            "FAIL", NAME, f"{WHAT} kosong / the office secret {path} is empty",
            f"sudo rm {path}; then {remake}",
        )  # fmt: skip
    if problem:
        return Result(
            "FAIL", NAME, f"{WHAT} rusak / the office secret {path} is {problem}",
            "restore it from the backup taken with the store; a new secret orphans every "
            "stored NIK hash (then: sudo rm it and run provision.sh again)",
        )  # fmt: skip
    return Result(
        "OK", NAME, f"office secret {path}: {SECRET_BYTES * 8}-bit key, mode 600, owner {owner}"
    )


def _owner(user: str) -> tuple[int, str]:
    """The service user's uid and name; on a machine without it (a laptop), whoever runs this."""
    try:
        return pwd.getpwnam(user).pw_uid, user
    except KeyError:
        return os.getuid(), _name(os.getuid())


def _name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)
