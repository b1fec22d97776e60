"""`antrean doctor`: checks a unit and says, for each problem, what to do about it.

For the technician after provisioning (docs/provisioning.md): the config, the
broker (with this unit's credentials), the queue service, the printer, audio,
the counter's inputs, the clock and the disk, each printed as OK, WARN or FAIL
with a fix.
Only files, processes and MQTT: no Kivy, escpos or GPIO libraries, so it runs
on every role. Which hardware matters comes from /etc/antrean/unit.toml,
written by provision.sh; without it every hardware problem is only a WARN.
"""

from __future__ import annotations

import argparse
import contextlib
import grp
import json
import logging
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import threading
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from antrean import protocol
from antrean.config import (
    CONFIG_HELP,
    Config,
    ConfigError,
    check_app_sections,
    config_path,
    load_config,
)
from antrean.disk import DISK_FULL, filesystem
from antrean.mqtt import MqttClient
from antrean_tools.broker.logins import check_logins, unit_users, user_may
from antrean_tools.doctor_secret import check_secret, needs_secret

UNIT_FILE = Path("/etc/antrean/unit.toml")
SERVICE_USER = "antrean"
# A clock before this year has not been set since the Pi booted (no battery).
PLAUSIBLE_YEAR = 2026
MIN_FREE_MB = 200  # a day of tickets is kilobytes; below this the SD card is nearly full
SCREEN_ROLES = ("hub", "portable")  # the kiosk (printer) runs on these
TIME_SERVER_ROLES = ("hub", "portable")  # chrony serves the office LAN (provision.sh)
# chrony's reference id when it serves its own clock (`local stratum`): 127.127.1.1.
LOCAL_REFERENCE = "7F7F0101"
UNSYNCED_REFERENCE = "00000000"  # chrony has no source yet
Runner = Callable[[list[str]], subprocess.CompletedProcess[str]]


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)


@dataclass(frozen=True, slots=True)
class Result:
    status: str  # OK, WARN or FAIL
    name: str
    detail: str
    fix: str = ""


@dataclass(slots=True)
class Doctor:
    """The checks, with everything they look at injectable for tests."""

    config_file: Path
    role: str | None = None  # hub, display, counter, portable; None: unknown
    counter: int = 0  # the counter this unit's buttons act for (a portable unit may have one)
    user: str = SERVICE_USER
    dev: Path = Path("/dev")
    timeout: float = 5.0
    # On a secured broker the user name is the client id, so a check that logs
    # in as a device disconnects that device for a moment: only when asked.
    login_as: str | None = None
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    run: Runner = _run
    config: Config | None = None

    def checks(self) -> Iterator[Result]:
        """Runs every check that applies to this unit, in the order a person fixes them."""
        yield self.check_config()
        if self.config is None:
            return  # the rest reads the config
        if self.role is not None:
            yield from self.check_logins()
        yield from self.check_broker_and_queue()
        if self._needs("printer"):
            yield self.check_printer()
            yield from self.check_scanner()
        if self._needs("audio"):
            yield self.check_audio()
        if self._needs("inputs"):
            yield from self.check_inputs()
        yield self.check_clock()
        web = self.check_web_cert()
        if web is not None:
            yield web
        yield self.check_store()
        if needs_secret(self.config, self.role):
            yield check_secret(self.config, self.role, self.user)
        if self.config.unit is not None:
            yield self.check_sync()

    def _needs(self, part: str) -> bool:
        wanted = {
            "printer": ("hub", "portable"),
            "audio": ("display",),
            "inputs": ("counter",),
        }[part]
        if part == "inputs" and self.counter:
            return True
        return self.role is None or self.role in wanted

    def hardware(self, name: str, detail: str, fix: str) -> Result:
        """A missing device: FAIL on a unit whose role needs it, WARN when the role is unknown."""
        return Result("WARN" if self.role is None else "FAIL", name, detail, fix)

    # ---- config, broker, queue -----------------------------------------------

    def check_config(self) -> Result:
        try:
            self.config_file.open("rb").close()
        except PermissionError:
            fix = "run: sudo antrean doctor"
            return Result("FAIL", "config", f"{self.config_file}: no permission to read it", fix)
        except OSError:
            pass  # load_config says what is wrong with a missing file
        try:
            config = load_config(self.config_file)
            check_app_sections(config)
        except ConfigError as exc:
            return Result("FAIL", "config", str(exc), "edit the file and run: antrean check-config")
        self.config = c = config
        return Result("OK", "config", f"{self.config_file}: office {c.office.id} ({c.office.name})")

    def check_logins(self) -> Iterator[Result]:
        """This unit's CA and passwords, as its service user reads them."""
        assert self.config is not None
        assert self.role is not None
        problems = check_logins(self.config, self.role, self.counter, self.user)
        for p in problems:
            yield Result("FAIL", "login", p.detail, p.fix)
        if not problems:
            users = ", ".join(unit_users(self.config, self.role, self.counter))
            yield Result("OK", "login", f"credentials of {users} readable by {self._who()}")

    def check_broker_and_queue(self) -> Iterator[Result]:
        assert self.config is not None
        b = self.config.broker
        where = f"{b.host}:{b.port}"
        try:
            with socket.create_connection((b.host, b.port), timeout=self.timeout):
                pass
        except OSError as exc:
            fix = (
                "sudo systemctl restart mosquitto; journalctl -u mosquitto"
                if self.role in SCREEN_ROLES
                else "is the hub on and on this network? check [broker] host in the config"
            )
            yield Result("FAIL", "broker", f"cannot reach {where}: {exc.strerror or exc}", fix)
            yield Result("FAIL", "queue", "not checked: no broker", "fix the broker first")
            return
        if b.tls_ca is not None:
            tls = self._tls_result(where)
            yield tls
            if tls.status == "FAIL":
                yield Result("FAIL", "queue", "not checked: no broker", "fix the broker first")
                return
        if b.password_file is not None and self.login_as is None:
            yield Result("OK", "broker", f"{where} answers; it needs a login per device")
            yield Result(
                "WARN",
                "queue",
                "not checked: that needs a login as one of this unit's devices, which "
                "disconnects the device for a moment",
                "run: antrean doctor --as DEVICE (e.g. kiosk-1) when a short drop is fine; "
                "on the hub: sudo systemctl status antrean-queue",
            )
            return
        status_topic = protocol.status_topic(self.config.office.id, protocol.QUEUE_DEVICE)
        got: dict[str, object] = {}
        arrived = threading.Event()

        def on_status(_topic: str, payload: bytes) -> None:
            with contextlib.suppress(ValueError):
                got.update(json.loads(payload))
            arrived.set()

        if self.login_as:
            who = b.username or self.login_as
            client = MqttClient(self.login_as, b)
        else:
            who = b.username or "anonymous"
            client = MqttClient(f"{b.username or 'antrean'}-doctor-{os.getpid()}", b)
        client.subscribe(status_topic, on_status)
        client.start()
        try:
            if not client.wait_connected(self.timeout):
                yield Result(
                    "FAIL",
                    "broker",
                    f"{where} answers but refused the MQTT connection as {who}",
                    "check [broker] username, password and tls_ca against the hub's broker",
                )
                yield Result("FAIL", "queue", "not checked: no broker", "fix the broker first")
                return
            yield Result("OK", "broker", f"{where}, connected as {who}")
            arrived.wait(self.timeout)
        finally:
            client.stop()
        yield self._queue_result(got, arrived.is_set())

    def _tls_result(self, where: str) -> Result:
        """The hub's certificate checked against the office CA, as a device checks it."""
        assert self.config is not None
        b = self.config.broker
        fix = "copy the hub's ca.crt to [broker] tls_ca; the host must be a name in its certificate"
        try:
            context = ssl.create_default_context(cafile=str(b.tls_ca))
            with (
                socket.create_connection((b.host, b.port), timeout=self.timeout) as raw,
                context.wrap_socket(raw, server_hostname=b.host),
            ):
                pass
        except (OSError, ssl.SSLError) as exc:
            return Result("FAIL", "broker", f"{where}: TLS failed: {exc}", fix)
        return Result("OK", "tls", f"{where}: the hub's certificate is signed by the office CA")

    def _queue_result(self, status: dict[str, object], arrived: bool) -> Result:
        fix = "on the hub: sudo systemctl status antrean-queue; journalctl -u antrean-queue"
        if not arrived:
            return Result("FAIL", "queue", "the queue service has never run on this broker", fix)
        if status.get("error") == DISK_FULL:
            return Result(
                "FAIL",
                "queue",
                "the queue service stopped: the disk of its store is full",
                "on the hub: antrean doctor (disk), free space there "
                "(sudo journalctl --vacuum-size=50M), then: sudo systemctl restart antrean-queue",
            )
        if status.get("online") is not True:
            return Result("FAIL", "queue", "the queue service is offline", fix)
        return Result("OK", "queue", f"queue service online (version {status.get('version')})")

    def check_web_cert(self) -> Result | None:
        """The office web's HTTPS certificate, when [web] names one (None: no HTTPS here)."""
        assert self.config is not None
        from antrean_tools.broker.webcert import cert_problems, public_host  # noqa: PLC0415
        from web.settings import SECTION, web_settings  # noqa: PLC0415 - no web framework

        if SECTION not in self.config.sections or self.role not in (None, *SCREEN_ROLES):
            return None  # the web runs on the hub; a display unit has the same config
        settings = web_settings(self.config)
        if settings.tls_cert is None or settings.tls_key is None:
            return None
        beside = settings.tls_cert.parent / "ca.crt"  # web-cert writes it beside the CA
        ca = beside if beside.is_file() else self.config.broker.tls_ca
        fix = (
            "sudo antrean broker web-cert --owner antrean --if-needed; "
            "sudo systemctl restart antrean-web"
        )
        if ca is None:
            return Result("FAIL", "web", f"no office CA beside {settings.tls_cert}", fix)
        host = public_host(self.config.text)
        problems = cert_problems(
            settings.tls_cert, settings.tls_key, ca, self.user, owner_only=False,
            want=[host] if host else [],
        )  # fmt: skip
        if problems:
            return Result("FAIL", "web", "; ".join(problems), fix)
        return Result(
            "OK", "web", f"{settings.tls_cert}: signed by the office CA, valid, "
            f"its key readable by {self._who()}",
        )  # fmt: skip

    # ---- devices ---------------------------------------------------------------

    def check_printer(self) -> Result:
        """The configured printer driver's own check (kiosk/printer/drivers/)."""
        assert self.config is not None
        # Imported here: a unit without a kiosk never asks, and the registry
        # and its drivers import no escpos, so this runs on every role.
        from kiosk.printer.registry import doctor_check  # noqa: PLC0415

        result: Result = doctor_check(self.config, self)
        return result

    def check_scanner(self) -> Iterator[Result]:
        """The kiosk's [kiosk.scanner] driver's own check, when the kiosk has one."""
        assert self.config is not None
        from kiosk.scanner.registry import doctor_check  # noqa: PLC0415 - as the printer's

        result: Result | None = doctor_check(self.config, self)
        if result is not None:
            yield result

    def result(self, status: str, name: str, detail: str, fix: str = "") -> Result:
        """A line of the report (for the checks of the apps' backends)."""
        return Result(status, name, detail, fix)

    def _who(self) -> str:
        """The service user, or who is asked instead on a machine without it."""
        try:
            pwd.getpwnam(self.user)
        except KeyError:
            return f"{_user_name(os.getuid())} (no user {self.user!r} here)"
        return self.user

    def writable(self, name: str, path: Path, what: str) -> Result:
        if user_can_write(path, self.user):
            return Result("OK", name, f"{path} is writable by {self._who()}")
        st = path.stat()
        owner = f"{_user_name(st.st_uid)}:{_group_name(st.st_gid)} {st.st_mode & 0o777:o}"
        return Result(
            "FAIL",
            name,
            f"{self.user} cannot write {path} ({owner})",
            f"sudo usermod -aG {_group_name(st.st_gid)} {self.user}; re-plug the "
            f"{what}; or run provision.sh again (udev rule)",
        )

    def check_audio(self) -> Result:
        """The configured voice player's own check (display_board/voice/players/)."""
        config = self._loaded()
        if config is None:
            return self.check_config()
        from display_board.voice.registry import doctor_check  # noqa: PLC0415 - as the printer's

        result: Result = doctor_check(config, self)
        return result

    def check_inputs(self) -> list[Result]:
        """The checks of this unit's counter's input sources (counter/inputs/)."""
        config = self._loaded()
        if config is None:
            return [self.check_config()]
        from counter.inputs.registry import doctor_checks  # noqa: PLC0415 - as the printer's

        results: list[Result] = doctor_checks(config, self.counter, self)
        return results

    def _loaded(self) -> Config | None:
        """The config, read now when a check is run on its own (not through checks())."""
        if self.config is None:
            self.check_config()
        return self.config

    # ---- clock and disk ----------------------------------------------------------

    def check_clock(self) -> Result:
        now = self.now()
        synced = self._output(["timedatectl", "show", "-p", "NTPSynchronized", "--value"]) == "yes"
        shown = now.strftime("%Y-%m-%d %H:%M UTC")
        set_it = "sudo date -s 'YYYY-MM-DD HH:MM' and sudo fake-hwclock save"
        if now.year < PLAUSIBLE_YEAR:
            return Result(
                "FAIL",
                "clock",
                f"the clock says {shown}: tickets would be numbered on the wrong day",
                f"connect to the internet (NTP), or: {set_it}",
            )
        if self.role in TIME_SERVER_ROLES:
            return self._hub_clock(shown, synced, set_it)
        if not synced:
            # The unit's server: the hub (provision.sh), or what timesyncd tries.
            server = self._output(["timedatectl", "show-timesync", "-p", "ServerName", "--value"])
            if not server and self.role is not None and self.config is not None:
                server = self.config.broker.host
            if not server:
                return Result(
                    "WARN",
                    "clock",
                    f"{shown}, not synchronized with NTP",
                    "check it against a phone; if wrong: sudo date -s 'YYYY-MM-DD HH:MM'",
                )
            return Result(
                "WARN",
                "clock",
                f"{shown}, not synchronized: no time yet from {server} (the hub)",
                f"is the hub on, with its clock right (antrean doctor there)? ping {server}; "
                "here: systemctl status systemd-timesyncd",
            )
        return Result("OK", "clock", f"{shown}, synchronized")

    def _hub_clock(self, shown: str, synced: bool, set_it: str) -> Result:
        """The hub's clock is the office's: chrony serves it to the LAN."""
        reference = self._output(["chronyc", "-n", "-c", "tracking"]).split(",")
        if reference[0] == LOCAL_REFERENCE:
            # Offline: chrony serves the hub's own clock (local stratum 10).
            return Result(
                "OK",
                "clock",
                f"{shown}, served to the office from this hub's own clock (no internet "
                f"time server); check it against a phone, if wrong: {set_it}",
            )
        if reference[0] not in ("", UNSYNCED_REFERENCE) and len(reference) > 1:
            return Result(
                "OK", "clock", f"{shown}, synchronized with {reference[1]}, served to the office"
            )
        if synced:
            return Result("OK", "clock", f"{shown}, synchronized")
        return Result(
            "WARN",
            "clock",
            f"{shown}, not synchronized: the units take this hub's time",
            f"systemctl status chrony; check it against a phone; if wrong: {set_it}",
        )

    def _output(self, argv: list[str]) -> str:
        """A command's stripped output, "" when it fails or is not installed."""
        try:
            out = self.run(argv)
        except (FileNotFoundError, subprocess.TimeoutExpired):
            return ""
        return out.stdout.strip() if out.returncode == 0 else ""

    def check_store(self) -> Result:
        assert self.config is not None
        folder = self.config.store_path.parent
        if not folder.is_dir():
            return Result(
                "FAIL",
                "disk",
                f"{folder} (the store's folder) does not exist",
                "run provision.sh again; or fix [store] path",
            )
        free_mb = shutil.disk_usage(folder).free // 2**20
        where = f"{folder} (filesystem {filesystem(folder)})"
        if not user_can_write(folder, self.user):
            return Result(
                "FAIL",
                "disk",
                f"{self.user} cannot write {folder}",
                f"sudo chown {self.user}: {folder}",
            )
        if free_mb < MIN_FREE_MB:
            return Result(
                "FAIL",
                "disk",
                f"only {free_mb} MB free in {where}",
                "sudo journalctl --vacuum-size=50M; remove old files; a bigger SD card",
            )
        return Result("OK", "disk", f"{free_mb} MB free in {where}, writable by {self._who()}")

    def check_sync(self) -> Result:
        """A mobile unit (issue 13): has everything it did reached the office?"""
        from antrean_tools.sync_cli import status  # noqa: PLC0415 - only on a unit

        assert self.config is not None
        try:
            s = status(self.config)
        except (OSError, RuntimeError) as exc:
            return Result("WARN", "sync", f"cannot read the store: {exc}")
        heard = s["heard_at"] or "never"
        if s["refused"]:
            r = s["refused"]
            return Result(
                "FAIL", "sync",
                f"the office refused {r.get('visit')} item {r.get('seq')}: {r.get('code')} "
                f"{r.get('message')}; the unit keeps it",
                "[office] id as the hub's (see the message); antrean sync status"
                if r.get("code") == "other_office"
                else "the office adds the unit/visit (antrean visit plan, [mobile] units); "
                "antrean sync status",
            )  # fmt: skip
        if s["waiting"]:
            waiting = ", ".join(f"{v}: {n} items" for v, n in sorted(s["waiting"].items()))
            return Result(
                "WARN", "sync", f"not yet at the office ({waiting}); last ack {heard}",
                "bring the unit onto the office network; antrean-sync must run (antrean sync run)",
            )  # fmt: skip
        return Result("OK", "sync", f"everything reached the office (last ack {heard})")


def user_can_write(path: Path, user: str) -> bool:
    """Whether `user` may write `path` by its mode bits (root: always)."""
    return user_may(path, user, 2)


def read_unit(unit_file: Path) -> tuple[str | None, int]:
    """The role and counter provision.sh wrote, or (None, 0) on a machine it did not set up."""
    try:
        unit = tomllib.loads(unit_file.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None, 0
    role, counter = unit.get("role"), unit.get("counter", 0)
    return (role if isinstance(role, str) else None), (counter if isinstance(counter, int) else 0)


def _user_name(uid: int) -> str:
    with contextlib.suppress(KeyError):
        return pwd.getpwuid(uid).pw_name
    return str(uid)


def _group_name(gid: int) -> str:
    with contextlib.suppress(KeyError):
        return grp.getgrgid(gid).gr_name
    return str(gid)


# ---- the subcommand (APP_COMMANDS) ---------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help=CONFIG_HELP)
    parser.add_argument(
        "--role",
        choices=("hub", "display", "counter", "portable"),
        help=f"this unit's role (default: from {UNIT_FILE})",
    )
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for the broker")
    parser.add_argument(
        "--as",
        dest="login_as",
        metavar="DEVICE",
        help="on a secured broker, log in as this device to check the queue service "
        "(disconnects that device for a moment)",
    )


def run(args: argparse.Namespace) -> int:
    """Prints every check; exit status 1 when any FAILs."""
    if not args.verbose:  # the checks speak for themselves; connection chatter is noise here
        logging.getLogger("antrean.mqtt").setLevel(logging.WARNING)
    role, counter = read_unit(UNIT_FILE)
    doctor = Doctor(
        config_file=config_path(args.config),
        role=args.role or role,
        counter=counter,
        timeout=args.timeout,
        login_as=args.login_as,
    )
    failed = False
    for r in doctor.checks():
        print(f"{r.status:<4}  {r.name:<8} {r.detail}")  # noqa: T201 - the command's output
        if r.status != "OK" and r.fix:
            print(f"{'':<6}{'':<8} fix: {r.fix}")  # noqa: T201
        failed |= r.status == "FAIL"
    return 1 if failed else 0
