"""`antrean broker`: set up the office broker's security on the hub.

init        CA, server certificate, passwords, access rules, Mosquitto drop-in (all
            or nothing: a power cut leaves the old folder or the new one)
web-cert    the office web's HTTPS certificate, signed by the same CA
web-config  the office config with [web] tls_cert/tls_key added (for provisioning)
check       is the folder complete and consistent (after a power cut, say)?
enroll      a new password for one unit's device, in its enrollment file
join        on a display or counter unit: install its enrollment file
bridge      a bridge to a central broker

No password is ever printed: a unit's password is in its enrollment file
(/etc/antrean/broker/enroll/DEVICE.enroll.toml on the hub, root only), which the
technician carries to the unit.
"""

from __future__ import annotations

import argparse
import getpass
import ipaddress
import os
import pwd
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from antrean.config import CONFIG_HELP, ROOT_HELP, Config, config_path, load_config
from antrean_tools.broker import certs, enroll, webcert
from antrean_tools.broker.bridge import RESTART_TIMEOUT, Bridge, parse_address
from antrean_tools.broker.files import DEFAULT_DIR, BrokerFiles, ProvisionError, write_file
from antrean_tools.broker.mosquitto_conf import LAN_PORT, LOCAL_PORT
from antrean_tools.broker.provision import (
    InitOptions,
    InitResult,
    add_device,
    check,
    closed_parents,
    init,
    write_bridge,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The three subcommands and their options."""
    sub = parser.add_subparsers(dest="broker_command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--config", help=CONFIG_HELP)
        p.add_argument("--out", type=Path, default=DEFAULT_DIR,
                       help=f"the broker's folder (default {DEFAULT_DIR})")  # fmt: skip

    def names(p: argparse.ArgumentParser, who: str) -> None:
        """--name and --ip: what the certificate is valid for."""
        flags = (("--name", "HOST", "a name", "its hostname"),
                 ("--ip", "ADDR", "an address", "its current ones"))  # fmt: skip
        for flag, meta, what, default in flags:
            text = f"{what} {who} use for the hub (repeat; default: {default})"
            p.add_argument(flag, action="append", default=[], metavar=meta, help=text)

    i = sub.add_parser("init", help="CA, server certificate, passwords, access rules, drop-in")
    common(i)
    names(i, "devices")
    i.add_argument(
        "--local",
        action="append",
        default=[],
        metavar="DEVICE",
        help="a device that runs on the hub: its password goes to clients/, not the screen",
    )
    i.add_argument("--owner", help="user that owns the clients/ password files (the apps' user)")
    i.add_argument(
        "--renew-ca",
        action="store_true",
        help="make a new CA (every device then needs the new ca.crt)",
    )
    i.add_argument(
        "--renew-server-cert",
        action="store_true",
        help="issue a new server certificate (devices need nothing new)",
    )
    i.add_argument("--new-passwords", action="store_true", help="give every user a new password")
    i.add_argument("--local-port", type=int, default=LOCAL_PORT, help="loopback listener port")
    i.add_argument("--lan-port", type=int, default=LAN_PORT, help="TLS listener port")
    i.add_argument("--lan-bind", metavar="ADDR", help="listen for the LAN on this address only")
    i.add_argument("--link", type=Path, metavar="DIR",
                   help="also link the drop-in into DIR (e.g. /etc/mosquitto/conf.d)")  # fmt: skip

    _web_parsers(sub, common, names)

    for name in ("enroll", "add-device"):  # add-device: the older name
        a = sub.add_parser(name, help="a new password for one device, in its enrollment file")
        common(a)
        a.add_argument("device", help="the device id, as in the office config")
        a.add_argument(
            "--save",
            action="store_true",
            help="write the password to clients/DEVICE.password instead (a hub device)",
        )
        a.add_argument("--owner", help="user that owns the saved password file")
        a.add_argument("--host", help="the hub's name for the unit (one in its certificate)")
        a.add_argument("--copy-to", type=Path, metavar="DIR",
                       help="also copy the enrollment file there (a USB stick)")  # fmt: skip

    c = sub.add_parser("check", help="is the broker's folder complete and consistent?")
    common(c)
    c.add_argument("--local", action="append", default=[], metavar="DEVICE",
                   help="a device that runs on the hub (password in clients/)")  # fmt: skip

    j = sub.add_parser("join", help="install an enrollment file on this unit (CA, password)")
    j.add_argument("file", type=Path, help="the DEVICE.enroll.toml made on the hub")
    j.add_argument("--config", help=CONFIG_HELP)
    j.add_argument("--root", type=Path, default=Path("/"), help=ROOT_HELP)

    b = sub.add_parser("bridge", help="bridge the office's topics to a central broker")
    common(b)
    b.add_argument(
        "--address",
        required=True,
        metavar="HOST[:PORT]",
        help="the central broker (TLS; port 8883 by default)",
    )
    b.add_argument("--ca", type=Path, help="the central broker's CA (default: the system's CAs)")
    b.add_argument("--username", required=True, help="this office's user on the central broker")
    b.add_argument(
        "--password-file",
        required=True,
        metavar="FILE",
        help="a file with that user's password, or - to type it",
    )
    b.add_argument("--link", type=Path, metavar="DIR",
                   help="also link the section into DIR (e.g. /etc/mosquitto/conf.d)")  # fmt: skip


def _web_parsers(sub: Any, common: Callable[..., None], names: Callable[..., None]) -> None:
    """web-cert and web-config: the office web's HTTPS."""
    w = sub.add_parser("web-cert", help="the office web's HTTPS certificate (after init)")
    common(w)
    names(w, "phones and PCs")
    w.add_argument("--owner", help="user that owns web.key: the one antrean web runs as")
    keep = (f"keep a certificate that is still good (signed by this CA, not ending within "
            f"{webcert.RENEW_DAYS} days, matching its key, naming public_url)")  # fmt: skip
    w.add_argument("--if-needed", action="store_true", help=keep)
    wc = sub.add_parser(
        "web-config", help="print the config with [web] tls_cert/tls_key added when it needs them"
    )
    common(wc)


def run(args: argparse.Namespace) -> int:
    """Runs one broker subcommand; a problem to fix gives exit status 2 and a message."""
    if args.broker_command == "web-config":  # before the check that it answers
        files = BrokerFiles(args.out)
        text = config_path(args.config).read_text(encoding="utf-8")
        sys.stdout.write(webcert.with_web_tls(text, files.web_cert, files.web_key))
        return 0
    config = load_config(config_path(args.config))
    try:
        if args.broker_command == "join":
            return _join(config, args)
        files = BrokerFiles(args.out)
        if args.broker_command == "check":
            return _check(config, files, args.local)
        if args.broker_command == "init":
            return _init(config, files, args)
        if args.broker_command == "web-cert":
            return _web_cert(config, files, args)
        if args.broker_command in ("enroll", "add-device"):
            return _add_device(config, files, args)
        return _bridge(config, files, args)
    except PermissionError as exc:
        print(f"antrean broker: {exc} (run it as root: sudo antrean broker ...)", file=sys.stderr)
        return 2
    except (ProvisionError, certs.CertError, ValueError, OSError) as exc:
        print(f"antrean broker: {exc}", file=sys.stderr)
        return 2


def _init(config: Config, files: BrokerFiles, args: argparse.Namespace) -> int:
    opts = InitOptions(
        names=args.name,
        ips=args.ip,
        local_devices=args.local,
        owner=args.owner,
        renew_ca=args.renew_ca,
        renew_server_cert=args.renew_server_cert,
        new_passwords=args.new_passwords,
        local_port=args.local_port,
        lan_port=args.lan_port,
        lan_bind=args.lan_bind,
    )
    result = init(config, files, opts)
    if args.link:
        _link(args.link, files.conf)
    _report_init(files, result)
    for folder in closed_parents(files.dir):
        print(f"warning: {folder} is closed to other users; Mosquitto (user mosquitto) "
              f"cannot reach {files.dir} through it: chmod o+x {folder}")  # fmt: skip
    return 0


def _report_init(files: BrokerFiles, result: InitResult) -> None:
    print(f"broker files in {files.dir}")
    print(f"  CA            {files.ca_cert} ({'new' if result.made_ca else 'kept'})")
    state = "new" if result.made_server_cert else "kept"
    print(f"  server cert   {files.server_cert} ({state})")
    for line in certs.describe(files.server_cert).splitlines():
        print(f"                {line.strip()}")
    print(f"  access rules  {files.acl_file}")
    print(f"  passwords     {files.password_file} (hashes only)")
    print(f"  drop-in       {files.conf}")
    for path in result.saved:
        print(f"  saved         {path}")
    for user in result.removed:
        print(f"  removed user  {user} (no longer in the office config)")
    if result.enrollments:
        print(f"  enrollments   {files.enroll}/ (root only; each holds a unit's password)")
        for path in result.enrollments:
            print(f"                {path.name}")
    print("next: sudo systemctl restart mosquitto")
    if result.enrollments:
        print(f"      copy {files.enroll}/DEVICE.enroll.toml to a USB stick for each other unit;")
        print("      on the unit: sudo antrean broker join DEVICE.enroll.toml")
        print("      (or provision.sh --enroll DEVICE.enroll.toml)")
    if result.made_ca:
        print("      a new CA: every unit off the hub needs a new enrollment (broker enroll)")


def _web_cert(config: Config, files: BrokerFiles, args: argparse.Namespace) -> int:
    if not files.ca_key.exists():
        raise ProvisionError(f"no office CA in {files.dir}: run antrean broker init first")
    found_names, found_ips = certs.hub_names()
    names, ips = args.name or found_names, args.ip or found_ips
    public = webcert.public_host(config.text)
    if public and public not in names + ips:  # the QR's address: phones check it
        (ips if _is_ip(public) else names).append(public)
    if args.if_needed:
        user = args.owner or _current_user()
        want = [public] if public else []
        problems = webcert.cert_problems(
            files.web_cert, files.web_key, files.ca_cert, user, owner_only=True, want=want
        )
        if not problems:
            print(f"kept the web certificate {files.web_cert} (still good)")
            return 0
        print(f"a new web certificate: {problems[0]}")
    certs.make_server_cert(files, config.office.id, names, ips, args.owner, web=True)
    print(f"made the web certificate {files.web_cert}, key {files.web_key}")
    print(certs.describe(files.web_cert).rstrip())
    print(f'in [web]: tls_cert = "{files.web_cert}"  tls_key = "{files.web_key}"')
    return 0


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _current_user() -> str:
    return pwd.getpwuid(os.geteuid()).pw_name


def _add_device(config: Config, files: BrokerFiles, args: argparse.Namespace) -> int:
    path = add_device(config, files, args.device, args.save, args.owner, args.host)
    print(f"new password of {args.device} in {path} (root only; not shown)")
    if args.copy_to and path.parent == files.enroll:
        copy = args.copy_to / path.name
        write_file(copy, path.read_text(encoding="utf-8"), 0o600)
        print(f"copied it to {copy}: take it to the unit, then delete it there")
    if path.parent == files.enroll:
        print(f"on the unit: sudo antrean broker join {path.name}  (or provision.sh --enroll)")
    print("next: sudo systemctl restart mosquitto  (a restart also drops the old session)")
    return 0


def _check(config: Config, files: BrokerFiles, local: list[str]) -> int:
    problems = check(config, files, local)
    for p in problems:
        print(f"antrean broker: {p}", file=sys.stderr)
    if problems:
        print("antrean broker: run `sudo antrean broker init` to complete it", file=sys.stderr)
        return 1
    print(f"{files.dir}: complete")
    return 0


def _join(config: Config, args: argparse.Namespace) -> int:
    e = enroll.parse(args.file)
    changed = enroll.join(config, e, args.root)
    for path in changed:
        print(f"installed {path}")
    if not changed:
        print(f"{e.device}: the CA and password are already in place")
    print(f"the unit logs in as {e.device} to {e.host}:{e.port}; delete {args.file} from the stick")
    return 0


def _bridge(config: Config, files: BrokerFiles, args: argparse.Namespace) -> int:
    host, port = parse_address(args.address)
    if args.password_file == "-":  # noqa: S105 - "-" means stdin, not a password
        password = getpass.getpass("central broker password: ")
    else:
        password = Path(args.password_file).read_text(encoding="utf-8").strip()
    if not password or any(c.isspace() for c in password):
        raise ProvisionError("the central broker password is empty or has spaces in it")
    bridge = Bridge(config.office.id, host, port, args.username, password, args.ca)
    path = write_bridge(files, bridge, RESTART_TIMEOUT)
    if args.link:
        _link(args.link, path)
    print(f"wrote {path}: antrean/v1/{config.office.id}/# goes out to {host}:{port}")
    print("next: sudo systemctl restart mosquitto")
    return 0


def _link(conf_d: Path, target: Path) -> None:
    link = conf_d / target.name
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(target)
    print(f"linked {link} -> {target}")
