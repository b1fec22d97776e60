"""Real Mosquitto processes set up by `antrean broker`, for the broker tests.

`HubBroker` is the office hub: `antrean broker init` output in a folder,
included from a main config shaped like Debian's /etc/mosquitto/mosquitto.conf
(persistence location, log file, include_dir), on free loopback ports.
`CentralBroker` stands in for the central broker of the bridge tests: TLS
with its own CA, one user per office.

When the tests run as root, Mosquitto drops to the `mosquitto` user as on a
hub, so the folders are world-traversable and the files it reads are given to
it by `antrean broker` itself, exactly as in production.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from antrean.broker import acl, certs, passwords
from antrean.broker.files import BrokerFiles, broker_owner, chown, write_file
from antrean.broker.provision import InitOptions, InitResult, init
from antrean.config import BrokerConfig, Config
from antrean.devbroker import free_port, mosquitto_binary, port_open


def open_dir(prefix: str) -> Path:
    """A temporary folder the broker's own user can walk into."""
    d = Path(tempfile.mkdtemp(prefix=prefix))
    d.chmod(0o755)
    return d


class MosquittoProcess:
    """One mosquitto child process with a given main config; waits for its ports."""

    def __init__(self, root: Path, ports: list[int]) -> None:
        self.root = root
        self.ports = ports
        self.log = root / "mosquitto.log"
        self._proc: subprocess.Popen[bytes] | None = None

    def main_conf(self) -> str:
        raise NotImplementedError

    def start(self, timeout: float = 10) -> None:
        conf = self.root / "mosquitto.conf"
        conf.write_text(self.main_conf())
        db = self.root / "db"
        db.mkdir(exist_ok=True)
        chown(db, broker_owner())  # Mosquitto writes its database as its own user
        self.log.touch()
        chown(self.log, broker_owner())
        self._proc = subprocess.Popen(
            [mosquitto_binary(), "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while not all(port_open("127.0.0.1", p) for p in self.ports):
            if self._proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {self.log_text()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"mosquitto did not listen: {self.log_text()}")
            time.sleep(0.02)

    def stop(self) -> None:
        if self._proc and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    def reload(self) -> None:
        """SIGHUP: Mosquitto reads its password and ACL files again."""
        assert self._proc is not None
        self._proc.send_signal(signal.SIGHUP)
        time.sleep(0.3)  # the reload is asynchronous; nothing to wait on but its log

    def log_text(self) -> str:
        with contextlib.suppress(OSError):
            return self.log.read_text(errors="replace")[-3000:]
        return ""

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class HubBroker(MosquittoProcess):
    """The office hub's broker, configured by `antrean broker init`."""

    def __init__(self, config: Config, local_devices: tuple[str, ...] = ()) -> None:
        root = open_dir("antrean-hub-")
        self.local_port, self.lan_port = free_port(), free_port()
        super().__init__(root, [self.local_port, self.lan_port])
        self.config = config
        self.files = BrokerFiles(root / "etc-antrean-broker")
        self.opts = InitOptions(
            names=["localhost"],
            ips=["127.0.0.1"],
            local_devices=list(local_devices),
            local_port=self.local_port,
            lan_port=self.lan_port,
            lan_bind="127.0.0.1",
        )
        self.result: InitResult = init(config, self.files, self.opts)
        self.conf_d = root / "conf.d"  # /etc/mosquitto/conf.d
        self.conf_d.mkdir()
        (self.conf_d / "antrean.conf").symlink_to(self.files.conf)

    def main_conf(self) -> str:
        # Debian 12's /etc/mosquitto/mosquitto.conf, with the paths moved here.
        return (
            f"persistence true\npersistence_location {self.root}/db/\n"
            f"log_dest file {self.log}\ninclude_dir {self.root}/conf.d\n"
        )

    def password(self, user: str) -> str:
        """A user's password: printed by init, or saved in clients/ for hub users."""
        if user in self.result.printed:
            return self.result.printed[user]
        return self.files.client_password(user).read_text().strip()

    def lan(self, user: str | None = None, password: str | None = None) -> BrokerConfig:
        """Broker settings of a unit on the LAN: TLS with the office CA."""
        return BrokerConfig(
            host="127.0.0.1",
            port=self.lan_port,
            username=user,
            password=password if password is not None else (user and self.password(user)),
            tls_ca=self.files.ca_cert,
        )

    def loopback(self, user: str) -> BrokerConfig:
        return BrokerConfig(port=self.local_port, username=user, password=self.password(user))

    @property
    def queue_user(self) -> str:
        return acl.queue_user(self.config.office.id)


class CentralBroker(MosquittoProcess):
    """A central broker: TLS with its own CA, a user per office, a dashboard reader."""

    DASHBOARD = "dashboard"

    def __init__(self, office: str) -> None:
        root = open_dir("antrean-central-")
        self.port = free_port()
        super().__init__(root, [self.port])
        self.files = BrokerFiles(root / "pki")
        self.files.dir.mkdir()
        self.files.dir.chmod(0o755)
        certs.make_ca(self.files, "central")
        certs.make_server_cert(self.files, "central", ["localhost"], ["127.0.0.1"], broker_owner())
        self.office = office
        self.office_password = passwords.new_password()
        self.dashboard_password = passwords.new_password()
        users = {
            office: passwords.hash_password(self.office_password),
            self.DASHBOARD: passwords.hash_password(self.dashboard_password),
        }
        owner = broker_owner()
        write_file(self.files.password_file, passwords.password_file_text(users), 0o600, owner)
        rules = (
            f"user {office}\ntopic write antrean/v1/{office}/#\n"
            f"user {self.DASHBOARD}\ntopic read antrean/v1/#\n"
            "pattern write $SYS/broker/connection/%c/state\n"
        )
        write_file(self.files.acl_file, rules, 0o600, owner)

    def main_conf(self) -> str:
        f = self.files
        return (
            f"log_dest file {self.log}\nper_listener_settings true\nset_tcp_nodelay true\n"
            f"persistence true\npersistence_location {self.root}/db/\n"
            f"listener {self.port} 127.0.0.1\ncafile {f.ca_cert}\ncertfile {f.server_cert}\n"
            f"keyfile {f.server_key}\nallow_anonymous false\npassword_file {f.password_file}\n"
            f"acl_file {f.acl_file}\n"
        )

    def office_login(self) -> BrokerConfig:
        """The office's own user on the central broker (the bridge's)."""
        return BrokerConfig(
            port=self.port,
            username=self.office,
            password=self.office_password,
            tls_ca=self.files.ca_cert,
        )

    def dashboard(self) -> BrokerConfig:
        return BrokerConfig(
            port=self.port,
            username=self.DASHBOARD,
            password=self.dashboard_password,
            tls_ca=self.files.ca_cert,
        )


def wait_for(predicate: object, timeout: float, what: str) -> None:
    """Polls predicate() until true or fails the test with `what`."""
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def running_as_root() -> bool:
    return os.geteuid() == 0
