"""The counter agent's core: one press is one command, and every press gets a result.

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
  outcome `offline` at once and sends nothing new. DeviceLink sends at QoS
  0, so nothing is kept to fire after the broker returns.
- No reply within `reply_timeout_s` is the outcome `timeout`, an error; but
  the command may have run (a stalled link delivers it late). So the agent
  sends no new command until it knows the command's fate: it repeats the
  SAME id (the service answers a repeated id with its first answer and runs
  nothing twice) until the answer comes, for as long as the link is up and at
  most `resolve_s` (DeviceLink.send's `resend_for` does the resending);
  presses meanwhile are `busy`. If the link drops first,
  the next press after it is back repeats that id instead of sending its own
  command, and its outcome is the old command's answer.
- A `call_next` less than `call_guard_s` after this counter's last call is
  refused (`too_soon`): a double press must not finish a resident who has
  not yet reached the desk.

No Kivy and no gpiozero here: the agent is plain Python and runs the same
with real pins, mock pins or no pins.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from antrean.config import Config
from antrean.device import DeviceLink, NotConnected, Reply
from antrean.disk import DISK_FULL
from counter.settings import BUTTONS

log = logging.getLogger(__name__)

# PressResult codes of the agent itself; the queue service's own codes pass through.
BUSY = "busy"
OFFLINE = "offline"
TIMEOUT = "timeout"
TOO_SOON = "too_soon"
UNKNOWN_BUTTON = "unknown_button"
MESSAGES = {
    BUSY: "Tunggu sebentar, perintah sebelumnya belum dijawab.",
    OFFLINE: "Tidak terhubung ke server antrean. Coba lagi sebentar lagi.",
    DISK_FULL: "Penyimpanan server antrean penuh. Hubungi teknisi.",
    TIMEOUT: "Server antrean belum menjawab. Jawabannya ditunggu; jangan tekan lagi.",
    UNKNOWN_BUTTON: "Tombol tidak dikenal.",
}
# Prefixes of an answer that came after its timeout, or that a later press asked for again.
LATE = "Jawaban tertunda: "
REPEATED = "Perintah sebelumnya diulang: "
CALLS = ("call_next", "call_ticket")
# Actions whose success leaves the counter without a current ticket (ends the guard).
ENDS_CURRENT = ("complete", "no_show", "transfer", "counter_close")


@dataclass(frozen=True, slots=True)
class PressResult:
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


PressResultHandler = Callable[[PressResult], None]


class Feedback(Protocol):
    """Anything that tells the staff how a press went (LED, buzzer, journal, console)."""

    def show(self, outcome: PressResult) -> None: ...


class Listener(Protocol):
    """The console: outcomes, retained state and the link, all on the MQTT/input threads."""

    def on_outcome(self, outcome: PressResult) -> None: ...
    def on_state(self, path: str, body: dict[str, Any]) -> None: ...
    def on_link(self, online: bool) -> None: ...


LinkFactory = Callable[..., DeviceLink]


@dataclass(slots=True)
class _Pending:
    """The command whose fate the agent does not know yet."""

    action: str
    args: dict[str, Any]
    source: str
    on_done: PressResultHandler | None
    started: float
    cmd_id: str
    sending: bool = True  # a send of it awaits its reply (or its timer)
    timed_out_at: float | None = None  # monotonic time of its first timeout
    repeated: bool = False  # a later press asked for it again


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
        call_guard_s: float = 0.0,
    ) -> None:
        self.config = config
        self.counter = counter
        self.device_id = device_id
        self.reply_timeout_s = reply_timeout_s
        self.call_guard_s = call_guard_s
        # A link that stalls longer than 1.5 keepalives is dropped by paho, and then
        # the link is known to be down: repeating the id for longer finds nothing new.
        self.resolve_s = 1.5 * config.broker.keepalive_s + reply_timeout_s
        self.feedback: list[Feedback] = list(feedback or [])
        self.listeners: list[Listener] = []
        self._lock = threading.Lock()
        self._pending: _Pending | None = None
        self._last_call: tuple[float, str] | None = None  # (monotonic time, code) of the call
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
        """A command is out and its answer is awaited."""
        with self._lock:
            return self._pending is not None and self._pending.sending

    @property
    def unresolved(self) -> bool:
        """A command timed out and the link dropped before its fate was known."""
        with self._lock:
            return self._pending is not None and not self._pending.sending

    @property
    def online(self) -> bool:
        return self.link.queue_online

    # ---- presses and commands -------------------------------------------------

    def press(self, button: str, source: str, on_done: PressResultHandler | None = None) -> None:
        """A button (next, recall, no_show, complete) was pressed on an input source."""
        action = BUTTONS.get(button)
        if action is None:
            message = MESSAGES[UNKNOWN_BUTTON]
            self._deliver(PressResult(button, source, False, UNKNOWN_BUTTON, message), on_done)
            return
        self.command(action, {}, source, on_done)

    def command(
        self,
        action: str,
        args: dict[str, Any] | None = None,
        source: str = "console",
        on_done: PressResultHandler | None = None,
    ) -> bool:
        """Sends one command unless another is in flight or the link is down; False if not sent.

        After a command whose fate is unknown, the press repeats that command
        (same id) instead, and True is returned too.
        """
        now = time.perf_counter()
        with self._lock:
            pending = self._pending
            refused: PressResult | None = None
            if pending is not None and pending.sending:
                refused = PressResult(action, source, False, BUSY, MESSAGES[BUSY])
            elif not self.link.queue_online:
                code = DISK_FULL if self.link.queue_error == DISK_FULL else OFFLINE
                refused = PressResult(action, source, False, code, MESSAGES[code])
            elif pending is not None:
                pending.sending, pending.repeated = True, True
                pending.source, pending.on_done = source, on_done
            else:
                refused = self._too_soon(action, source)
                if refused is None:
                    pending = _Pending(
                        action, dict(args or {}), source, on_done, now, self.link.new_id()
                    )
                    self._pending = pending
        if refused is not None:
            self._deliver(refused, on_done)
            return False
        assert pending is not None
        if pending.repeated:
            log.info("loket %d: %s repeated (%s)", self.counter, pending.action, pending.cmd_id)
        return self._send(pending)

    def _too_soon(self, action: str, source: str) -> PressResult | None:
        """The refusal of a call_next that would finish a call made moments ago."""
        if action != "call_next" or self._last_call is None:
            return None
        at, code = self._last_call
        left = self.call_guard_s - (time.monotonic() - at)
        if left <= 0:
            return None
        message = (
            f"Nomor {code} baru saja dipanggil. Tekan Berikutnya lagi setelah "
            f"{math.ceil(left)} detik."
        )
        return PressResult(action, source, False, TOO_SOON, message, ticket=code)

    def _send(self, pending: _Pending) -> bool:
        def on_reply(reply: Reply | None) -> None:
            self._on_reply(pending, reply)

        def on_timeout(resending: bool) -> None:
            self._on_timeout(pending, resending)

        now = time.monotonic()
        # Resend until `resolve_s` after the first timeout; a repeat keeps that deadline.
        first = now + self.reply_timeout_s if pending.timed_out_at is None else pending.timed_out_at
        try:
            self.link.send(
                pending.action,
                pending.args,
                on_reply,
                timeout=self.reply_timeout_s,
                cmd_id=pending.cmd_id,
                resend_for=first + self.resolve_s - now,
                on_timeout=on_timeout,
            )
        except NotConnected:
            with self._lock:
                pending.sending = False
                if pending.timed_out_at is None and not pending.repeated:
                    self._pending = None  # never sent: nothing to learn about
            offline = PressResult(pending.action, pending.source, False, OFFLINE, MESSAGES[OFFLINE])
            self._deliver(offline, pending.on_done)
            return False
        log.debug("loket %d: %s sent (%s)", self.counter, pending.action, pending.source)
        return True

    def _on_reply(self, pending: _Pending, reply: Reply | None) -> None:
        if reply is None:  # DeviceLink stopped resending: the link is down or the time is up
            with self._lock:
                pending.sending = False
            log.warning(
                "loket %d: the fate of %s (%s) is unknown; the next press repeats it",
                self.counter,
                pending.action,
                pending.cmd_id,
            )
            return
        with self._lock:
            if self._pending is pending:
                self._pending = None
        result = press_result(pending.action, pending.source, reply, self._elapsed(pending))
        if pending.repeated or pending.timed_out_at is not None:
            prefix = REPEATED if pending.repeated else LATE
            result = replace(result, message=prefix + result.message)
        self._remember_call(result)
        self._deliver(result, pending.on_done)

    def _on_timeout(self, pending: _Pending, resending: bool) -> None:
        # The command may have run: DeviceLink asks again with the same id while
        # `resending`, and the agent sends nothing else until the answer is known.
        first = pending.timed_out_at is None
        if first:
            pending.timed_out_at = time.monotonic()
        with self._lock:
            pending.sending = resending
        if first or pending.repeated:
            pending.repeated = False  # a repeat that timed out is told once, like a first send
            timeout = press_result(pending.action, pending.source, None, self._elapsed(pending))
            self._deliver(timeout, pending.on_done)

    @staticmethod
    def _elapsed(pending: _Pending) -> float:
        return time.perf_counter() - pending.started

    def _remember_call(self, outcome: PressResult) -> None:
        if not outcome.ok:
            return
        with self._lock:
            if outcome.action in CALLS and outcome.ticket:
                self._last_call = (time.monotonic(), outcome.ticket)
            elif outcome.action in CALLS or outcome.action in ENDS_CURRENT:
                self._last_call = None

    # ---- fan-out -----------------------------------------------------------------

    def _deliver(self, outcome: PressResult, on_done: PressResultHandler | None) -> None:
        self._finish(outcome)
        if on_done:
            _guarded(on_done, outcome)

    def _finish(self, outcome: PressResult) -> None:
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


def press_result(action: str, source: str, reply: Reply | None, elapsed: float) -> PressResult:
    """What a press came to, from its reply (None: no reply in time)."""
    if reply is None:
        return PressResult(action, source, False, TIMEOUT, MESSAGES[TIMEOUT], elapsed_s=elapsed)
    if not reply.ok:
        code = reply.code or "error"
        return PressResult(action, source, False, code, reply.message or code, elapsed_s=elapsed)
    return PressResult(
        action,
        source,
        True,
        None,
        success_message(action, reply.ticket_code, reply.result),
        ticket=reply.ticket_code,
        result=reply.result,
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
    if action == "stock_spoil":
        available = (result.get("stock") or {}).get("available")
        return f"Kartu rusak dicatat. Blanko tersedia: {available}."
    return "Berhasil."


def _guarded(fn: Callable[..., None], *args: Any) -> None:
    # A broken feedback sink (an LED driver that raised) must not stop the
    # others or leave the agent busy for ever.
    try:
        fn(*args)
    except Exception:
        log.exception("feedback or listener failed")
