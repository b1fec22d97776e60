"""A simulated printer at the far end of a real serial line (a pty) or TCP port 9100.

The kiosk's real drivers (python-escpos Serial, Network) talk to it as to a
printer. Like firmware, it takes the bytes one by one, keeps them, and
answers each DLE EOT n with one byte the moment the command has arrived;
`answer(n)` says which (a SimPrinter's `realtime_status`, or a table a test
writes from the ESC/POS manual). With `baud` it takes bytes no faster than a
serial line at that speed (10 bits a byte), so replies queue behind a
ticket's bytes as on a real line. `vanish()` closes the TCP port and every
connection (a printer switched off); `back()` listens on the same port again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
import tty
from collections.abc import Callable

log = logging.getLogger(__name__)

DLE, EOT = 0x10, 0x04
CHUNK = 64  # bytes taken per read: small, so a paced line keeps a byte's timing


class LinePrinter:
    """The firmware side; serve it with `on_pty()` or `on_tcp()`."""

    def __init__(self, answer: Callable[[int], bytes], baud: int | None = None) -> None:
        self.answer = answer
        self.byte_s = 10 / baud if baud else 0.0
        self.received = bytearray()
        self.arrivals: list[tuple[int, float]] = []  # (bytes received so far, perf_counter)
        self.queries: list[int] = []  # each DLE EOT n, in order
        self.path = ""  # the serial device (on_pty)
        self.port = 0  # the TCP port (on_tcp)
        self._pending = b""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._closers: list[Callable[[], None]] = []
        self._server: socket.socket | None = None
        self._conns: list[socket.socket] = []

    # ---- transports ---------------------------------------------------------------

    def on_pty(self) -> LinePrinter:
        """Opens a pty pair; the kiosk opens `path` as its serial device."""
        master, slave = os.openpty()
        tty.setraw(slave)
        self.path = os.ttyname(slave)

        def write(reply: bytes) -> None:
            os.write(master, reply)

        def serve() -> None:
            while not self._stop.is_set():
                try:
                    chunk = os.read(master, CHUNK)
                except OSError:
                    return
                self._take(chunk, write)

        self._closers += [lambda: os.close(master), lambda: os.close(slave)]
        threading.Thread(target=serve, name="fake-serial-printer", daemon=True).start()
        return self

    def on_tcp(self, port: int = 0) -> LinePrinter:
        """Listens on 127.0.0.1 (`port`, 0 for a free one); one connection at a time."""
        server = socket.create_server(("127.0.0.1", port))  # SO_REUSEADDR on POSIX
        self._server = server
        self.port = server.getsockname()[1]
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()
        return self

    def vanish(self) -> None:
        """The printer goes away: the port closes and every connection ends (EOF)."""
        with self._lock:
            server, self._server = self._server, None
            conns, self._conns = self._conns, []
        for sock in [*conns, *([server] if server else [])]:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept/recv
            sock.close()

    def back(self) -> None:
        """The printer is back on the same port."""
        self.on_tcp(self.port)

    def close(self) -> None:
        self._stop.set()
        self.vanish()
        for closer in self._closers:
            with contextlib.suppress(OSError):
                closer()

    # ---- what was received --------------------------------------------------------

    def time_of(self, offset: int) -> float | None:
        """perf_counter when the byte ending at `offset` (a length) had been taken."""
        with self._lock:
            return next((t for n, t in self.arrivals if n >= offset), None)

    def wait_for(self, data: bytes, since: int = 0, timeout: float = 10.0) -> int:
        """Waits until `data` has arrived (at or after offset `since`); the offset past it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                at = bytes(self.received).find(data, since)
            if at >= 0:
                return at + len(data)
            time.sleep(0.005)
        raise TimeoutError(f"the fake printer never received {len(data)} expected bytes")

    # ---- the firmware ----------------------------------------------------------------

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with self._lock:
                gone = self._server is not server  # vanish() ran while accept() returned
                if not gone:
                    self._conns.append(conn)
            if gone:  # a printer that went away answers no connection, not even this one
                conn.close()
                return
            self._serve_conn(conn)  # one client at a time, as a printer's port 9100

    def _serve_conn(self, conn: socket.socket) -> None:
        with conn:
            while not self._stop.is_set():
                try:
                    chunk = conn.recv(CHUNK)
                except OSError:
                    return
                if not chunk:
                    return
                self._take(chunk, conn.sendall)

    def _take(self, chunk: bytes, write: Callable[[bytes], None]) -> None:
        start = time.perf_counter()
        for i, byte in enumerate(chunk):
            arrived = start + (i + 1) * self.byte_s
            self._pending = (self._pending + bytes((byte,)))[-3:]
            if len(self._pending) == 3 and self._pending[0] == DLE and self._pending[1] == EOT:
                n = self._pending[2]
                self._pending = b""
                _sleep_until(arrived)
                self.queries.append(n)
                reply = self.answer(n)
                log.debug("fake printer: DLE EOT %d -> %r", n, reply)
                if reply:
                    try:
                        write(reply)
                    except OSError:
                        return
        end = start + len(chunk) * self.byte_s
        _sleep_until(end)
        with self._lock:
            self.received += chunk
            self.arrivals.append((len(self.received), max(end, time.perf_counter())))


def _sleep_until(t: float) -> None:
    delay = t - time.perf_counter()
    if delay > 0:
        time.sleep(delay)
