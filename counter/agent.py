"""The counter agent's core: one press is one command, and every press gets an outcome.

Input sources (GPIO buttons, keypad, serial box, keyboard, the console) call
`press(button, source)` or `command(action, args, source)` from their own
threads. The agent sends the command through the device's DeviceLink and
hands the outcome to every feedback sink (LED, buzzer, journal, console) and
to the caller's `on_done` (the serial box answers its box with it).

The rules that make a press predictable for the staff:

- While a command waits for its reply, every other press (any button, any
  source) is ignored with the outcome `busy`: no second command, no queued
  command. The LED and buzzer stay quiet for a busy press (the command in
  flight is about to blink); the journal and the serial box hear of it.
- A press while the broker or the queue service is unreachable gets the
  outcome `offline` at once and sends nothing. DeviceLink sends at QoS 0, so
  nothing is kept to fire after the broker returns.
- No reply within `reply_timeout_s` is the outcome `timeout`, an error.

No Kivy and no gpiozero here: the agent is plain Python and runs the same
with real pins, mock pins or no pins.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from antrean.config import Config
from antrean.device import DeviceLink, NotConnected, Reply
from antrean.disk import DISK_FULL
from counter.settings import BUTTONS

log = logging.getLogger(__name__)

# Outcome codes of the agent itself; the queue service's own codes pass through.
BUSY = "busy"
OFFLINE = "offline"
TIMEOUT = "timeout"
UNKNOWN_BUTTON = "unknown_button"
MESSAGES = {
    BUSY: "Tunggu sebentar, perintah sebelumnya belum dijawab.",
    OFFLINE: "Tidak terhubung ke server antrean. Coba lagi sebentar lagi.",
    DISK_FULL: "Penyimpanan server antrean penuh. Hubungi teknisi.",
    TIMEOUT: "Server antrean tidak menjawab. Periksa antrean, lalu coba lagi.",
    UNKNOWN_BUTTON: "Tombol tidak dikenal.",
}


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one press: success, a refusal, or the agent's own error."""

    action: str
    source: str
    ok: bool
    code: str | None = None  # None on success; an error code otherwise
    message: str = ""  # Indonesian, for people (the queue service's own message on a refusal)
    ticket: str | None = None  # the code of the ticket the command acted on, if any
    result: dict[str, Any] = field(default_factory=dict)
    elapsed_s: float = 0.0

    @property
    def busy(self) -> bool:
        return self.code == BUSY


OutcomeHandler = Callable[[Outcome], None]


class Feedback(Protocol):
    """Anything that tells the staff how a press went (LED, buzzer, journal, console)."""

    def show(self, outcome: Outcome) -> None: ...


class Listener(Protocol):
    """The console: outcomes, retained state and the link, all on the MQTT/input threads."""

    def on_outcome(self, outcome: Outcome) -> None: ...
    def on_state(self, path: str, body: dict[str, Any]) -> None: ...
    def on_link(self, online: bool) -> None: ...


LinkFactory = Callable[..., DeviceLink]


class CounterAgent:
    """Turns presses into commands for one counter, one at a time."""

    def __init__(
        self,
        config: Config,
        counter: int,
        device_id: str,
        feedback: list[Feedback] | None = None,
        reply_timeout_s: float = 3.0,
        link_factory: LinkFactory = DeviceLink,
        health: dict[str, Any] | None = None,
    ) -> None:
        self.config = config
        self.counter = counter
        self.device_id = device_id
        self.reply_timeout_s = reply_timeout_s
        self.feedback: list[Feedback] = list(feedback or [])
        self.listeners: list[Listener] = []
        self._lock = threading.Lock()
        self._in_flight: str | None = None  # the action awaiting its reply
        self.link = link_factory(
            config,
            device_id,
            "counter",
            on_state=self._on_state,
            on_link=self._on_link,
            health={"counter": counter, **(health or {})},
        )

    def start(self) -> CounterAgent:
        self.link.start()
        return self

    def stop(self) -> None:
        self.link.stop()

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._in_flight is not None

    @property
    def online(self) -> bool:
        return self.link.queue_online

    # ---- presses and commands -------------------------------------------------

    def press(self, button: str, source: str, on_done: OutcomeHandler | None = None) -> None:
        """A button (next, recall, no_show, complete) was pressed on an input source."""
        action = BUTTONS.get(button)
        if action is None:
            message = MESSAGES[UNKNOWN_BUTTON]
            self._deliver(Outcome(button, source, False, UNKNOWN_BUTTON, message), on_done)
            return
        self.command(action, {}, source, on_done)

    def command(
        self,
        action: str,
        args: dict[str, Any] | None = None,
        source: str = "console",
        on_done: OutcomeHandler | None = None,
    ) -> bool:
        """Sends one command unless another is in flight or the link is down; False if not sent."""
        started = time.perf_counter()
        with self._lock:
            if self._in_flight is not None:
                refused: Outcome | None = Outcome(action, source, False, BUSY, MESSAGES[BUSY])
            elif not self.link.queue_online:
                code = DISK_FULL if self.link.queue_error == DISK_FULL else OFFLINE
                refused = Outcome(action, source, False, code, MESSAGES[code])
            else:
                refused = None
                self._in_flight = action
        if refused:
            self._deliver(refused, on_done)
            return False

        def on_reply(reply: Reply | None) -> None:
            outcome = _outcome(action, source, reply, time.perf_counter() - started)
            with self._lock:
                self._in_flight = None
            self._deliver(outcome, on_done)

        try:
            self.link.send(action, args or {}, on_reply, timeout=self.reply_timeout_s)
        except NotConnected:
            with self._lock:
                self._in_flight = None
            self._deliver(Outcome(action, source, False, OFFLINE, MESSAGES[OFFLINE]), on_done)
            return False
        log.debug("loket %d: %s sent (%s)", self.counter, action, source)
        return True

    # ---- fan-out -----------------------------------------------------------------

    def _deliver(self, outcome: Outcome, on_done: OutcomeHandler | None) -> None:
        self._finish(outcome)
        if on_done:
            _guarded(on_done, outcome)

    def _finish(self, outcome: Outcome) -> None:
        for sink in self.feedback:
            _guarded(sink.show, outcome)
        for listener in self.listeners:
            _guarded(listener.on_outcome, outcome)

    def _on_state(self, path: str, body: dict[str, Any]) -> None:
        for listener in self.listeners:
            _guarded(listener.on_state, path, body)

    def _on_link(self, online: bool) -> None:
        log.info("loket %d: queue service %s", self.counter, "reachable" if online else "LOST")
        for listener in self.listeners:
            _guarded(listener.on_link, online)


def _outcome(action: str, source: str, reply: Reply | None, elapsed: float) -> Outcome:
    if reply is None:
        return Outcome(action, source, False, TIMEOUT, MESSAGES[TIMEOUT], elapsed_s=elapsed)
    if not reply.get("ok"):
        error = reply.get("error") or {}
        error_code = str(error.get("code", "error"))
        message = str(error.get("message", error_code))
        return Outcome(action, source, False, error_code, message, elapsed_s=elapsed)
    result = reply.get("result") or {}
    ticket = result.get("ticket") if isinstance(result, dict) else None
    code = ticket.get("code") if isinstance(ticket, dict) else None
    return Outcome(
        action,
        source,
        True,
        None,
        success_message(action, code, result),
        ticket=code,
        result=result,
        elapsed_s=elapsed,
    )


def success_message(action: str, code: str | None, result: dict[str, Any]) -> str:
    """The Indonesian line the console and journal show for a successful command."""
    if action in ("call_next", "call_ticket"):
        return f"Nomor {code} dipanggil." if code else "Tidak ada yang menunggu."
    if action == "recall":
        return f"Nomor {code} dipanggil ulang."
    if action == "no_show":
        return f"Nomor {code} dilewati (tidak hadir)."
    if action == "complete":
        return f"Nomor {code} selesai dilayani."
    if action == "transfer":
        service = (result.get("ticket") or {}).get("service")
        return f"Nomor {code} dialihkan ke layanan {service}."
    if action == "counter_open":
        return "Loket dibuka."
    if action == "counter_close":
        return "Loket ditutup."
    return "Berhasil."


def _guarded(fn: Callable[..., None], *args: Any) -> None:
    # A broken feedback sink (an LED driver that raised) must not stop the
    # others or leave the agent busy for ever.
    try:
        fn(*args)
    except Exception:
        log.exception("feedback or listener failed")
