"""Enrollment files: what a display or counter unit needs to log in to the hub.

The hub keeps only hashes of device passwords, so a unit's password exists
in plain text in one place: its enrollment file, written by `antrean broker
init` (for every device that does not run on the hub) and by `antrean broker
enroll DEVICE` (a new password), in /etc/antrean/broker/enroll/ (root only).
It holds the office CA, the password and the hub's address. The technician
carries it to the unit (a USB stick), where `antrean broker join FILE`
(provision.sh --enroll FILE) installs the CA and the password at the paths
the unit's config names, the password readable by the service user only.
"""

from __future__ import annotations

import grp
import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from antrean.config import Config
from antrean_tools.broker.files import BrokerFiles, ProvisionError, write_file

SERVICE_GROUP = "antrean"  # the units' services run as antrean:antrean


@dataclass(frozen=True, slots=True)
class Enrollment:
    office: str
    device: str
    host: str  # the name the unit should use for the hub
    port: int  # the hub's TLS listener
    names: tuple[str, ...]  # every name and address in the hub's certificate
    password: str
    ca_pem: str


def render(e: Enrollment) -> str:
    """The file's text (TOML); json.dumps gives valid TOML strings for these values."""
    names = ", ".join(json.dumps(n) for n in e.names)
    return (
        f"# Antrean enrollment of device {e.device} (office {e.office}).\n"
        "# SECRET: it holds the device's password. On the unit run\n"
        "#   sudo antrean broker join THIS-FILE   (or provision.sh --enroll THIS-FILE)\n"
        "# then delete it from the USB stick.\n"
        f"office = {json.dumps(e.office)}\n"
        f"device = {json.dumps(e.device)}\n"
        f"host = {json.dumps(e.host)}\n"
        f"port = {e.port}\n"
        f"names = [{names}]\n"
        f"password = {json.dumps(e.password)}\n"
        f'ca = """\n{e.ca_pem.strip()}\n"""\n'
    )


def parse(path: Path) -> Enrollment:
    """Reads an enrollment file; a clear ProvisionError when it is not one."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        e = Enrollment(
            office=str(data["office"]),
            device=str(data["device"]),
            host=str(data["host"]),
            port=int(data["port"]),
            names=tuple(str(n) for n in data["names"]),
            password=str(data["password"]),
            ca_pem=str(data["ca"]),
        )
    except OSError as exc:
        raise ProvisionError(f"{path}: cannot read it: {exc.strerror}") from exc
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ProvisionError(f"{path} is not an enrollment file ({exc})") from exc
    if "BEGIN CERTIFICATE" not in e.ca_pem or not e.password:
        raise ProvisionError(f"{path} is incomplete (no CA or no password); enroll again")
    return e


def save(files: BrokerFiles, e: Enrollment) -> Path:
    """Writes the hub's copy, root only (0600 in a 0700 folder)."""
    files.enroll.mkdir(mode=0o700, exist_ok=True)
    os.chmod(files.enroll, 0o700)
    path = files.enrollment(e.device)
    write_file(path, render(e), 0o600)
    return path


def default_host(names: tuple[str, ...]) -> str:
    """The name units should use: a .local or DNS name before an address, never loopback."""
    usable = [n for n in names if n not in ("localhost", "127.0.0.1", "::1")]
    by_kind = sorted(usable, key=lambda n: (not n.endswith(".local"), n[:1].isdigit()))
    return by_kind[0] if by_kind else (names[0] if names else "localhost")


def join(config: Config, e: Enrollment, root: Path = Path("/")) -> list[Path]:
    """Installs the CA and the password where `config` says; returns the files it changed."""
    b = config.broker
    where = config.source
    if e.office != config.office.id:
        raise ProvisionError(
            f"this enrollment is for office {e.office!r}, {where} is office {config.office.id!r}"
        )
    if config.device(e.device) is None:
        raise ProvisionError(f"device {e.device!r} is not in {where}; add its [[device]] first")
    missing = []
    if b.tls_ca is None:
        missing.append('tls_ca = "/etc/antrean/broker/ca.crt"')
    if b.password_file is None:
        missing.append('password_file = "/etc/antrean/broker/clients/{user}.password"')
    if missing:
        raise ProvisionError(f"{where} [broker] needs: {'; '.join(missing)}")
    if b.host not in e.names:
        raise ProvisionError(
            f'{where} [broker] host is "{b.host}", a name the hub\'s certificate does not '
            f'have ({", ".join(e.names)}); set host = "{e.host}"'
        )
    if b.port != e.port:
        raise ProvisionError(f"{where} [broker] port is {b.port}; the hub listens on {e.port}")
    if b.username and b.username != e.device:
        raise ProvisionError(f"{where} [broker] username is {b.username!r}, not {e.device!r}")
    assert b.tls_ca is not None
    assert b.password_file is not None
    password = Path(str(b.password_file).replace("{user}", e.device))
    changed = []
    if _install(root, b.tls_ca, e.ca_pem.strip() + "\n", 0o644, None):
        changed.append(b.tls_ca)
    if _install(root, password, e.password + "\n", 0o640, SERVICE_GROUP):
        changed.append(password)
    return changed


def _install(root: Path, path: Path, text: str, mode: int, group: str | None) -> bool:
    """Writes root/path as root:group with `mode` unless it is already exactly that."""
    target = root / path.relative_to(path.anchor)
    gid = _gid(group)
    try:
        st = target.stat()
        same = (
            target.read_text(encoding="utf-8") == text
            and st.st_mode & 0o7777 == mode
            and (gid is None or st.st_gid == gid)
        )
    except OSError:
        same = False
    if same:
        return False
    for parent in reversed(target.parents):
        if not parent.exists():
            parent.mkdir(mode=0o755)
    write_file(target, text, mode)
    if gid is not None:
        os.chown(target, 0, gid)
    return True


def _gid(group: str | None) -> int | None:
    """The group's id when we are root and it exists (not on a development machine)."""
    if group is None or os.geteuid() != 0:
        return None
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        return None
