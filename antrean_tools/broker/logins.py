"""Can this unit's programs log in to the hub? Their credentials, checked as their user sees them.

The hub's broker takes logins only (TLS on the LAN), so a unit whose
password file or CA is missing, or readable by root only, provisions fine
and then fails in a loop. `antrean check-config --role` and `antrean doctor`
ask this module first.
"""

from __future__ import annotations

import grp
import os
import pwd
from dataclasses import dataclass
from pathlib import Path

from antrean.config import Config
from antrean.domain import Role
from antrean.protocol import queue_user

LOOPBACK = ("127.0.0.1", "localhost", "::1")
HUB_ROLES = ("hub", "portable")


@dataclass(frozen=True, slots=True)
class Problem:
    detail: str
    fix: str


def unit_users(config: Config, role: str, counter: int = 0) -> list[str]:
    """The MQTT users of the programs this role runs (each logs in as its own name)."""
    users: list[str] = []
    if role in HUB_ROLES:
        users.append(queue_user(config.office.id))
        wanted = config.sections.get("kiosk", {}).get("device")
        kiosks = [d.id for d in config.devices if d.role is Role.KIOSK]
        users += [wanted] if isinstance(wanted, str) else kiosks[:1]
    if role == "display":
        users += [d.id for d in config.devices if d.role is Role.BOARD][:1]
    if counter:
        users += [d.id for d in config.devices if d.role is Role.COUNTER and d.counter == counter][
            :1
        ]
    return [config.broker.username or u for u in users]


def check_logins(
    config: Config, role: str, counter: int = 0, user: str = "antrean", root: Path = Path("/")
) -> list[Problem]:
    """What stops this unit's programs from logging in; empty when nothing does."""
    b = config.broker
    problems: list[Problem] = []
    hub_help = "on the hub: sudo antrean broker enroll DEVICE; here: sudo antrean broker join FILE"
    if role not in HUB_ROLES and b.host not in LOOPBACK and b.tls_ca is None:
        problems.append(
            Problem(
                f"[broker] host is {b.host} but no tls_ca: the hub takes only TLS on the LAN",
                f'add tls_ca = "/etc/antrean/broker/ca.crt" to [broker]; {hub_help}',
            )
        )
    if b.tls_ca is not None:
        problems += _readable(root, b.tls_ca, user, "the office CA (tls_ca)", hub_help)
    if b.password_file is None:
        if b.password is None:
            problems.append(
                Problem(
                    "[broker] has no password_file: the hub's broker takes logins only",
                    'add password_file = "/etc/antrean/broker/clients/{user}.password"; '
                    + hub_help,
                )
            )
        return problems
    for name in unit_users(config, role, counter):
        path = Path(str(b.password_file).replace("{user}", name))
        problems += _readable(root, path, user, f"the password of {name}", hub_help)
    return problems


def _readable(root: Path, path: Path, user: str, what: str, fix: str) -> list[Problem]:
    target = root / path.relative_to(path.anchor)
    try:
        empty = target.stat().st_size == 0
    except OSError as exc:
        return [Problem(f"{what}: {path}: {exc.strerror}", fix)]
    if empty:
        return [Problem(f"{what}: {path} is empty", fix)]
    if not user_can_read(target, user):
        st = target.stat()
        return [
            Problem(
                f"{what}: {user} cannot read {path} ({_owner(st)} {st.st_mode & 0o777:o})",
                f"sudo chown root:{user} {path}; sudo chmod 640 {path} (or join again)",
            )
        ]
    return []


def user_can_read(path: Path, user: str) -> bool:
    """Whether `user` may read `path`, and walk through every folder on the way to it."""
    return user_may(path, user, 4, through_parents=True)


def user_may(path: Path, user: str, want: int, through_parents: bool = False) -> bool:
    """Whether `user` has `want` (4 read, 2 write) on `path` by its mode bits (root: always).

    When that user does not exist here (a development machine), asks for the
    user running the check instead.
    """
    try:
        pw = pwd.getpwnam(user)
    except KeyError:
        return os.access(path, os.R_OK if want == 4 else os.W_OK)
    if pw.pw_uid == 0:
        return True
    groups = {pw.pw_gid} | {g.gr_gid for g in grp.getgrall() if user in g.gr_mem}

    def allows(st: os.stat_result, bit: int) -> bool:
        if st.st_uid == pw.pw_uid:
            return bool(st.st_mode & (bit << 6))
        if st.st_gid in groups:
            return bool(st.st_mode & (bit << 3))
        return bool(st.st_mode & bit)

    parents = path.resolve().parents if through_parents else ()
    return allows(path.stat(), want) and all(allows(p.stat(), 1) for p in parents)


def _owner(st: os.stat_result) -> str:
    try:
        user = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        user = str(st.st_uid)
    try:
        group = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        group = str(st.st_gid)
    return f"{user}:{group}"
