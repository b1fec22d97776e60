"""Where the broker's files live, and how secrets are written (mode, owner, atomically)."""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import tempfile
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DIR = Path("/etc/antrean/broker")
MOSQUITTO_USER = "mosquitto"  # Debian's broker drops root and runs as this user


class ProvisionError(RuntimeError):
    """Something the technician must fix first; the message says what."""


@dataclass(frozen=True, slots=True)
class BrokerFiles:
    """The files `antrean broker init` writes, all in one folder."""

    dir: Path

    @property
    def ca_cert(self) -> Path:
        return self.dir / "ca.crt"  # public: copy it to every device

    @property
    def ca_key(self) -> Path:
        return self.dir / "ca.key"  # only for issuing certificates; root only

    @property
    def server_cert(self) -> Path:
        return self.dir / "server.crt"

    @property
    def server_key(self) -> Path:
        return self.dir / "server.key"

    @property
    def web_cert(self) -> Path:
        return self.dir / "web.crt"  # the office web's HTTPS (antrean broker web-cert)

    @property
    def web_key(self) -> Path:
        return self.dir / "web.key"  # owned by the apps' user, who runs the web

    @property
    def password_file(self) -> Path:
        return self.dir / "passwd"  # Mosquitto's password file: hashes only

    @property
    def acl_file(self) -> Path:
        return self.dir / "acl"

    @property
    def conf(self) -> Path:
        return self.dir / "antrean.conf"  # linked into /etc/mosquitto/conf.d/

    @property
    def bridge_conf(self) -> Path:
        # Linked as /etc/mosquitto/conf.d/antrean_bridge.conf: Mosquitto reads
        # conf.d in name order and "_" sorts after ".", so the bridge section
        # comes after antrean.conf's settings (include_dir works only there).
        return self.dir / "antrean_bridge.conf"

    @property
    def clients(self) -> Path:
        return self.dir / "clients"  # passwords of the clients that run on this unit

    def client_password(self, user: str) -> Path:
        return self.clients / f"{user}.password"

    @property
    def enroll(self) -> Path:
        return self.dir / "enroll"  # one file per unit off the hub; root only (passwords)

    def enrollment(self, device: str) -> Path:
        return self.enroll / f"{device}.enroll.toml"


def write_file(path: Path, text: str, mode: int, owner: str | None = None) -> None:
    """Writes atomically with `mode` from the first byte; chowns to `owner` when root.

    A secret never exists on disk with wider permissions, and a crash leaves
    either the old file or the new one, never half of one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        chown(Path(tmp), owner)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def chown(path: Path, owner: str | None) -> None:
    """Gives the file to `owner` (and its group) if we are root and the user exists."""
    if owner is None or os.geteuid() != 0:
        return
    try:
        entry = pwd.getpwnam(owner)
    except KeyError:
        return
    os.chown(path, entry.pw_uid, entry.pw_gid)


def broker_owner() -> str | None:
    """The user Mosquitto runs as, if it exists here (files it reads are given to it)."""
    try:
        pwd.getpwnam(MOSQUITTO_USER)
        grp.getgrnam(MOSQUITTO_USER)
    except KeyError:
        return None
    return MOSQUITTO_USER
