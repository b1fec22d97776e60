"""A private Mosquitto on loopback, for the demo, the tests and the benchmarks.

Production units run Debian's mosquitto under systemd with broker_config/;
this starts one as a child process on a free port so nothing is shared.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from antrean_tools.broker.mosquitto_conf import MAX_QUEUED_BYTES, MAX_QUEUED_MESSAGES

log = logging.getLogger(__name__)

MOSQUITTO_PATHS = ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto")


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 0.2) -> bool:
    """Whether something accepts TCP connections there."""
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout):
        return True
    return False


def mosquitto_binary() -> str:
    """The mosquitto executable, or a clear error saying how to get it."""
    found = shutil.which("mosquitto") or next(
        (p for p in MOSQUITTO_PATHS if Path(p).exists()), None
    )
    if not found:
        raise RuntimeError(
            "mosquitto is not installed: run 'make test' or apt-get install mosquitto"
        )
    return found


def stop_process(proc: subprocess.Popen[bytes] | None) -> None:
    """SIGTERM (Mosquitto saves its database), then SIGKILL if it hangs."""
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class DevBroker:
    """Starts and stops a Mosquitto child process listening on 127.0.0.1:port."""

    def __init__(self, port: int | None = None, persistence: bool = False) -> None:
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self._dir = Path(tempfile.mkdtemp(prefix="antrean-mosquitto-"))
        self._persistence = persistence
        self._proc: subprocess.Popen[bytes] | None = None

    def config_text(self) -> str:
        lines = [
            f"listener {self.port} {self.host}",
            "allow_anonymous true",
            "set_tcp_nodelay true",  # see DESIGN.md: delayed ACKs cost ~40 ms per QoS 1 hop
            # As on a hub (broker_config/): a device's burst waits here for the service.
            f"max_queued_messages {MAX_QUEUED_MESSAGES}",
            f"max_queued_bytes {MAX_QUEUED_BYTES}",
            f"persistence {'true' if self._persistence else 'false'}",
            f"persistence_location {self._dir}/",
            f"log_dest file {self._dir}/mosquitto.log",
        ]
        return "\n".join(lines) + "\n"

    def start(self, timeout: float = 10) -> DevBroker:
        conf = self._dir / "mosquitto.conf"
        conf.write_text(self.config_text())
        self._proc = subprocess.Popen(
            [mosquitto_binary(), "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # Ctrl-C in a terminal signals its whole process group: the broker
            # must outlive the clients it serves, so only its owner stops it.
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while not port_open(self.host, self.port):
            if self._proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited at start; see {self._dir}/mosquitto.log")
            if time.monotonic() > deadline:
                raise RuntimeError(f"mosquitto did not listen on port {self.port}")
            time.sleep(0.02)
        log.info("mosquitto listening on %s:%d", self.host, self.port)
        return self

    def stop(self) -> None:
        stop_process(self._proc)
        self._proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> DevBroker:
        return self.start()

    def __exit__(
        self,
        _t: type[BaseException] | None,
        _e: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.cleanup()
