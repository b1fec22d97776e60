"""What `antrean broker init`, `add-device` and `bridge` do, without the printing.

Idempotent: an existing CA and existing passwords are kept unless asked
(`renew_ca`, `new_passwords`); the access rules and the Mosquitto drop-in are
derived from the office config and rewritten every time.
"""

from __future__ import annotations

import logging
import os
import pwd
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from antrean import protocol
from antrean.config import Config
from antrean_tools.broker import acl, certs, enroll, passwords, transaction
from antrean_tools.broker.bridge import Bridge, render_bridge
from antrean_tools.broker.files import BrokerFiles, ProvisionError, broker_owner, write_file
from antrean_tools.broker.mosquitto_conf import LAN_PORT, LOCAL_PORT, render_conf

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class InitOptions:
    names: list[str] = field(default_factory=list)  # server certificate names
    ips: list[str] = field(default_factory=list)  # ... and addresses
    local_devices: list[str] = field(default_factory=list)  # devices that run on the hub
    owner: str | None = None  # who owns the hub's client password files
    renew_ca: bool = False
    renew_server_cert: bool = False
    new_passwords: bool = False
    local_port: int = LOCAL_PORT
    lan_port: int = LAN_PORT
    lan_bind: str | None = None


@dataclass
class InitResult:
    made_ca: bool = False
    made_server_cert: bool = False
    # user -> new password of a unit off the hub; never printed: it is in `enrollments`
    enrolled: dict[str, str] = field(default_factory=dict)
    enrollments: list[Path] = field(default_factory=list)  # enroll/{device}.enroll.toml, root only
    saved: list[Path] = field(default_factory=list)  # client password files written
    removed: list[str] = field(default_factory=list)  # users no longer in the config


def init(config: Config, files: BrokerFiles, opts: InitOptions) -> InitResult:
    """CA, server certificate, passwords, access rules and the drop-in, from the config.

    All or nothing: built in a copy beside the folder and renamed into place
    (antrean_tools.broker.transaction), so a power cut leaves the old folder or the new one.
    """
    users = acl.users(config)  # checks the device ids first: fail before writing anything
    unknown = [d for d in opts.local_devices if d not in users]
    if unknown:
        raise ProvisionError(f"not a device of this office: {', '.join(unknown)}")
    _check_owner(opts.owner)
    certs.check_ips(opts.ips)
    with transaction.rebuild(files.dir) as work:
        result = _init(config, BrokerFiles(work), files, opts, list(users))
    moved = [files.dir / p.relative_to(work) for p in result.saved]
    enrollments = [files.dir / p.relative_to(work) for p in result.enrollments]
    result.saved, result.enrollments = moved, enrollments
    return result


def _init(
    config: Config, files: BrokerFiles, final: BrokerFiles, opts: InitOptions, users: list[str]
) -> InitResult:
    """init's work on `files` (the copy); the drop-in names the paths of `final`."""
    _make_dirs(files)
    result = InitResult()
    has_key, has_cert = files.ca_key.exists(), files.ca_cert.exists()
    if has_key != has_cert and not opts.renew_ca:
        have, missing = (final.ca_key, final.ca_cert) if has_key else (final.ca_cert, final.ca_key)
        raise ProvisionError(
            f"{have} exists but {missing} does not; restore it from a backup, or pass "
            "--renew-ca to make a new CA (every device then needs the new ca.crt)"
        )
    if opts.renew_ca or not has_key:
        certs.make_ca(files, config.office.id)
        result.made_ca = True
    transaction.crash_point("ca")
    explicit = bool(opts.names or opts.ips)
    if result.made_ca or opts.renew_server_cert or explicit or not files.server_cert.exists():
        names, ips = (opts.names, opts.ips) if explicit else certs.hub_names()
        certs.make_server_cert(files, config.office.id, names, ips, broker_owner())
        result.made_server_cert = True
    transaction.crash_point("server-cert")

    old = passwords.read_password_file(files.password_file)
    office = config.office.id
    local = {protocol.queue_user(office), protocol.queue_staff_user(office), *opts.local_devices}
    table: dict[str, str] = {}
    for user in users:
        rotate = opts.new_passwords or user not in old
        if user in local and not files.client_password(user).exists():
            rotate = True  # a hub client needs its password in a file; only a new one can be
        if not rotate:
            table[user] = old[user]
            continue
        secret = passwords.new_password()
        table[user] = passwords.hash_password(secret)
        if user in local:
            result.saved.append(_save_client(files, user, secret, opts.owner))
        else:
            result.enrolled[user] = secret
    transaction.crash_point("passwords")
    result.removed = [u for u in old if u not in users]
    ports = (opts.local_port, opts.lan_port, opts.lan_bind)
    _write_broker_files(config, files, table, *ports, final=final)
    for user, secret in result.enrolled.items():
        result.enrollments.append(_enroll(config, files, user, secret, opts.lan_port))
    for user in result.removed:
        files.enrollment(user).unlink(missing_ok=True)
    return result


def check(config: Config, files: BrokerFiles, local_devices: list[str]) -> list[str]:
    """What is missing or wrong in the broker's folder (empty: complete and consistent)."""
    wanted = [files.ca_cert, files.ca_key, files.server_cert, files.server_key,
              files.password_file, files.acl_file, files.conf]  # fmt: skip
    missing = [f"{p} is missing" for p in wanted if not p.exists()]
    if missing:
        return missing
    problems = []
    try:
        certs.openssl("verify", "-CAfile", str(files.ca_cert), str(files.server_cert))
    except certs.CertError as exc:
        problems.append(f"{files.server_cert} is not signed by {files.ca_cert}: {exc}")
    table = passwords.read_password_file(files.password_file)
    users = acl.users(config)
    problems += [f"{files.password_file} has no user {u}" for u in users if u not in table]
    for user in [protocol.queue_user(config.office.id), *local_devices]:
        path = files.client_password(user)
        if not path.exists():
            problems.append(f"{path} is missing")
        elif user in table and not passwords.check_password(path.read_text().strip(), table[user]):
            problems.append(f"{path} does not match {files.password_file}")
    if files.acl_file.read_text(encoding="utf-8") != acl.acl_text(config):
        problems.append(f"{files.acl_file} is not the office config's (run init again)")
    return problems


def add_device(
    config: Config,
    files: BrokerFiles,
    device: str,
    save: bool = False,
    owner: str | None = None,
    host: str | None = None,
) -> Path:
    """New credentials for one device (the old password stops working at the next reload).

    Returns the file that holds the new password: clients/DEVICE.password with
    `save` or when the device already has one there (it runs on the hub), else
    its enrollment file enroll/DEVICE.enroll.toml, with `host` as the hub's name in it.
    """
    users = acl.users(config)
    _check_owner(owner)
    if device not in users:
        known = ", ".join(d.id for d in config.devices)
        raise ProvisionError(
            f"{device!r} is not in {config.source}; add a [[device]] for it first (known: {known})"
        )
    if not files.ca_cert.exists() or not files.conf.exists():
        raise ProvisionError(f"{files.dir} is not set up yet; run `antrean broker init` first")
    table = passwords.read_password_file(files.password_file)
    secret = passwords.new_password()
    table[device] = passwords.hash_password(secret)
    ports = _ports(files)
    _write_broker_files(config, files, {u: table[u] for u in users if u in table}, *ports)
    if save or files.client_password(device).exists():
        return _save_client(files, device, secret, owner)
    return _enroll(config, files, device, secret, ports[1], host)


def write_bridge(files: BrokerFiles, bridge: Bridge, restart_timeout: tuple[int, int]) -> Path:
    """The bridge section (antrean_bridge.conf), with the central CA copied beside it."""
    if not files.conf.exists():
        raise ProvisionError(f"{files.dir} is not set up yet; run `antrean broker init` first")
    if bridge.ca_file:
        copy = files.dir / "central-ca.crt"
        if bridge.ca_file.resolve() != copy.resolve():
            shutil.copyfile(bridge.ca_file, copy)
            os.chmod(copy, 0o644)
        bridge = Bridge(bridge.office, bridge.host, bridge.port, bridge.username,
                        bridge.password, copy)  # fmt: skip
    write_file(files.bridge_conf, render_bridge(bridge, restart_timeout), 0o600, broker_owner())
    return files.bridge_conf


def closed_parents(folder: Path) -> list[Path]:
    """Parents of `folder` that other users cannot walk through (Mosquitto would fail)."""
    return [p for p in folder.resolve().parents if p.exists() and not p.stat().st_mode & 0o001]


def _check_owner(owner: str | None) -> None:
    if owner is None:
        return
    try:
        pwd.getpwnam(owner)
    except KeyError:
        raise ProvisionError(f"--owner {owner}: no such user on this unit") from None


def _make_dirs(files: BrokerFiles) -> None:
    # Mosquitto (user mosquitto) and the hub's apps must be able to walk in;
    # each secret file has its own tight mode.
    for d in (files.dir, files.clients):
        d.mkdir(parents=True, exist_ok=True)
        os.chmod(d, 0o755)  # noqa: S103 - folders only; the files in them are 0600


def _enroll(
    config: Config, files: BrokerFiles, device: str, secret: str, port: int, host: str | None = None
) -> Path:
    names = certs.cert_names(files.server_cert)
    if host is not None and host not in names:
        raise ProvisionError(f"--host {host}: not a name in the hub's certificate ({names})")
    e = enroll.Enrollment(
        office=config.office.id,
        device=device,
        host=host or enroll.default_host(names),
        port=port,
        names=names,
        password=secret,
        ca_pem=files.ca_cert.read_text(encoding="utf-8"),
    )
    return enroll.save(files, e)


def _save_client(files: BrokerFiles, user: str, secret: str, owner: str | None) -> Path:
    path = files.client_password(user)
    write_file(path, secret + "\n", 0o600, owner)
    return path


def _write_broker_files(
    config: Config,
    files: BrokerFiles,
    table: dict[str, str],
    local_port: int,
    lan_port: int,
    lan_bind: str | None,
    final: BrokerFiles | None = None,
) -> None:
    """The password file, access rules and drop-in; the drop-in names `final`'s paths."""
    owner = broker_owner()
    write_file(files.password_file, passwords.password_file_text(table), 0o600, owner)
    write_file(files.acl_file, acl.acl_text(config), 0o600, owner)
    conf = render_conf(final or files, local_port, lan_port, lan_bind)
    write_file(files.conf, conf, 0o644)


def _ports(files: BrokerFiles) -> tuple[int, int, str | None]:
    """The listeners of the drop-in already there (loopback first, then LAN), kept as they are."""
    found = [
        line.split()[1:]
        for line in files.conf.read_text(encoding="utf-8").splitlines()
        if line.startswith("listener ")
    ]
    if len(found) != 2:
        raise ProvisionError(f"{files.conf} does not have its two listeners; run init again")
    (local, _), (lan, *bind) = found
    return int(local), int(lan), bind[0] if bind else None
