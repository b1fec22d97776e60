"""A TCP proxy on loopback that can stall its traffic without closing a socket.

A network stall as a counter's link sees it: the TCP connection stays open
(the keepalive has not run out), nothing moves for a few seconds, then
everything sent meanwhile arrives at once. While stalled the proxy reads
nothing, so the bytes wait in the kernel's buffers as on a congested link.
`stall("down")` holds only what the broker sends (the command arrives and
runs, its reply does not); `drop()` closes every connection (the link known
to be down).
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time


class StallProxy:
    """Forwards 127.0.0.1:port to 127.0.0.1:target; `stall()` and `flow()` pause and resume."""

    def __init__(self, target: int) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._stalled: set[str] = set()  # "up" (client to broker), "down" (broker to client)
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        # A slow uplink (issue 13's sync over a poor link): bytes/s client to broker, or None.
        self.up_bytes_per_s: float | None = None
        threading.Thread(target=self._accept, daemon=True, name="stall-proxy").start()

    def stall(self, *directions: str) -> None:
        """Stops forwarding both ways, or only "up" or "down"."""
        with self._lock:
            self._stalled = set(directions or ("up", "down"))
        time.sleep(0.15)  # a pump already in select() picks the new set within 0.05 s

    def flow(self) -> None:
        with self._lock:
            self._stalled = set()

    def drop(self) -> None:
        """Closes every connection (the client sees its link go down and reconnects)."""
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for a, b in pairs:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def close(self) -> None:
        self._closed.set()
        self._listener.close()
        self.drop()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            for s in (client, upstream):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        peer = {client: upstream, upstream: client}
        try:
            while not self._closed.is_set():
                with self._lock:
                    stalled = set(self._stalled)
                sources = [s for s, d in ((client, "up"), (upstream, "down")) if d not in stalled]
                ready, _, _ = select.select(sources, [], [], 0.05) if sources else ([], [], [])
                if not sources:
                    self._closed.wait(0.05)
                for s in ready:
                    rate = self.up_bytes_per_s if s is client else None
                    data = s.recv(4096 if rate else 65536)
                    if not data:
                        return
                    peer[s].sendall(data)
                    if rate:
                        time.sleep(len(data) / rate)
        except (OSError, ValueError):
            return
        finally:
            for s in (client, upstream):
                s.close()
