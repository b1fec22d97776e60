"""sd_notify without a dependency: tell systemd we are ready and still alive.

systemd passes a unix datagram socket in $NOTIFY_SOCKET to a `Type=notify`
service; a datagram "READY=1" ends start-up and "WATCHDOG=1" resets the
`WatchdogSec=` timer. Without the variable (tests, a shell) every call is a
no-op, so the queue service runs the same way everywhere.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

log = logging.getLogger(__name__)


def notify(*fields: str) -> bool:
    """Sends "KEY=value" lines to systemd; False when not run by systemd or on error."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):  # abstract namespace: a leading NUL byte
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.sendto("\n".join(fields).encode("utf-8"), address)
    except OSError as exc:
        log.warning("sd_notify to %s failed: %s", address, exc)
        return False
    return True


def watchdog_interval() -> float | None:
    """Seconds between WATCHDOG=1 pings (half of WatchdogSec), or None if not watched."""
    usec = os.environ.get("WATCHDOG_USEC", "")
    pid = os.environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if pid and pid != str(os.getpid()):  # meant for another process (we were forked)
        return None
    return int(usec) / 2e6


class Watchdog:
    """Pings systemd's watchdog from a loop, at most once per interval.

    Call `alive()` from the loop that must not get stuck (the queue worker):
    if that loop hangs, the pings stop and systemd kills and restarts the
    service. Calling it more often than needed is cheap (one clock read).
    """

    def __init__(self, interval: float | None = None) -> None:
        self.interval = interval if interval is not None else watchdog_interval()
        self._last = -float("inf")
        self._lock = threading.Lock()

    def alive(self) -> None:
        if self.interval is None:
            return
        now = time.monotonic()
        with self._lock:
            if now - self._last < self.interval:
                return
            self._last = now
        notify("WATCHDOG=1")
