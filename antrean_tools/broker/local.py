"""A private office broker secured by `antrean broker`, for tests and benchmarks.

Like antrean_testing.devbroker, but with the real thing: `antrean broker init` output
in a folder, included from a main config shaped like Debian's
/etc/mosquitto/mosquitto.conf (persistence location, log file, include_dir),
with both listeners on free loopback ports.

When run as root, Mosquitto drops to the `mosquitto` user as on a hub, so the
folders are world-traversable and the files it reads are given to it by
`antrean broker` itself, exactly as in production.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from antrean import protocol
from antrean.config import BrokerConfig, Config
from antrean_testing.devbroker import free_port, mosquitto_binary, port_open, stop_process
from antrean_tools.broker.files import BrokerFiles, broker_owner, chown
from antrean_tools.broker.provision import InitOptions, InitResult, init


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
        """The text of the main mosquitto.conf."""
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
        stop_process(self._proc)
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


class SecuredBroker(MosquittoProcess):
    """An office hub's broker on free loopback ports, configured by `antrean broker init`."""

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
        """A user's password: in its enrollment file, or saved in clients/ for hub users."""
        if user in self.result.enrolled:
            return self.result.enrolled[user]
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
        """Broker settings of a program on the hub: the loopback listener."""
        return BrokerConfig(port=self.local_port, username=user, password=self.password(user))

    @property
    def queue_user(self) -> str:
        return protocol.queue_user(self.config.office.id)
