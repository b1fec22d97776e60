"""A serial button box (pyserial): a line per press in, a line per outcome out.

The line protocol (ASCII, one line each way per press; docs/counter.md):

    box -> agent    NEXT | RECALL | NOSHOW | DONE | PING     (case-insensitive, \\n or \\r\\n)
    agent -> box    OK <ticket>       success; <ticket> is the code acted on (A012),
                                      or "-" when there is none (NEXT, nobody waiting)
                    ERR <code>        busy, offline, timeout, unknown, too_long, or the
                                      queue service's code (no_current_ticket, recall_limit, ...)
                    PONG              the answer to PING (the box can show "connected")

So a box with a small display shows the number it just called, and one with
two LEDs lights green for OK and red for ERR.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from antrean.backends import Backend, Key, Probe
from antrean.config import Config, ConfigReader
from counter.inputs.base import ReadingSource
from counter.inputs.registry import SOURCES, device_node

if TYPE_CHECKING:
    from counter.agent import PressResult

log = logging.getLogger(__name__)

LINES = {"NEXT": "next", "RECALL": "recall", "NOSHOW": "no_show", "DONE": "complete"}
MAX_LINE = 64  # bytes; a longer line is noise on the wire, answered ERR too_long
POLL_S = 0.2  # read timeout: how often the reader looks at stop()
RETRY_S = 2.0  # how often a missing serial adapter is looked for again
BAUDRATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)


@dataclass(frozen=True, slots=True)
class SerialSettings:
    port: str
    baudrate: int = 9600


def parse(r: ConfigReader, t: dict[str, Any], where: str, _config: Config) -> SerialSettings:
    """port and baudrate (one of the usual rates)."""
    baudrate = r.integer(t, where, "baudrate", default=9600, low=1, high=4_000_000)
    if baudrate not in BAUDRATES:
        r.fail(where, "baudrate", f"must be one of {', '.join(map(str, BAUDRATES))}")
    return SerialSettings(port=r.string(t, where, "port"), baudrate=baudrate)


def check(s: SerialSettings, probe: Probe) -> Any:
    """The serial port is there and the service may open it (the `dialout` group)."""
    fix = "plug the button box's USB serial adapter in; check the port"
    return device_node(probe, "serial", s.port, "button box", fix)


class SerialBox(ReadingSource):
    """Reads button lines from the box and writes every outcome back to it."""

    name = "serial"

    def __init__(self, settings: SerialSettings) -> None:
        super().__init__(f"serial box {settings.port}")
        self.settings = settings
        self._port: Any = None
        self._write_lock = threading.Lock()

    # ---- reading -----------------------------------------------------------------

    def _session(self) -> None:
        import serial  # noqa: PLC0415 - pyserial, only for a counter with a box

        try:
            port = serial.Serial(
                self.settings.port, self.settings.baudrate, timeout=POLL_S, exclusive=True
            )
        except (serial.SerialException, OSError) as exc:
            self.health.set("offline", str(exc))
            self._reader.wait(RETRY_S)
            return
        self._port = port
        self.health.set("ok")
        buffer = bytearray()
        overflow = False
        try:
            while not self._reader.stopping:
                chunk = port.read(port.in_waiting or 1)
                if not chunk:
                    continue
                buffer += chunk
                while b"\n" in buffer:
                    line, _, rest = bytes(buffer).partition(b"\n")
                    buffer = bytearray(rest)
                    if overflow:
                        overflow = False  # the tail of an over-long line, answered already
                    elif len(line) > MAX_LINE:
                        self._write("ERR too_long")
                    else:
                        self._on_line(line)
                if len(buffer) > MAX_LINE:
                    buffer.clear()
                    overflow = True
                    self._write("ERR too_long")
        except (serial.SerialException, OSError) as exc:
            self.health.set("offline", str(exc))
            self._reader.wait(RETRY_S)
        finally:
            with self._write_lock:
                self._port = None
            port.close()

    def _on_line(self, raw: bytes) -> None:
        word = raw.strip().decode("ascii", errors="replace").upper()
        if not word:
            return  # a blank line (a box that sends \r\n\r\n) is nothing
        if word == "PING":
            self._write("PONG")
            return
        button = LINES.get(word)
        if button is None:
            log.warning("serial box: unknown line %r", raw[:MAX_LINE])
            self._write("ERR unknown")
            return
        self._pressed(button, self.answer)

    # ---- writing -----------------------------------------------------------------

    def answer(self, outcome: PressResult) -> None:
        """The box's reply line for an outcome (called on the MQTT or timer thread)."""
        if outcome.ok:
            self._write(f"OK {outcome.ticket or '-'}")
        else:
            self._write(f"ERR {outcome.code}")

    def _write(self, line: str) -> None:
        import serial  # noqa: PLC0415

        with self._write_lock:
            if self._port is None:
                log.warning("serial box gone; could not tell it %r", line)
                return
            try:
                self._port.write(f"{line}\n".encode("ascii"))
            except (serial.SerialException, OSError) as exc:
                log.warning("serial box: write failed: %s", exc)


def open_box(s: SerialSettings, _pin_factory: Any | None = None) -> SerialBox:
    """The box's source; the port is opened on its reader thread."""
    return SerialBox(s)


SOURCES.register(
    Backend(
        name="serial",
        summary="a serial button box: a line per press, a line per outcome back",
        keys=(
            Key("port", "str", help="e.g. /dev/ttyUSB0"),
            Key("baudrate", "int", 9600, ", ".join(map(str, BAUDRATES))),
        ),
        parse=parse,
        open=open_box,
        check=check,
    )
)
