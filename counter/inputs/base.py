"""The small interface every input source has, and a helper thread for the reading ones."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    # Not at run time: the agent imports paho, and reading the config needs no broker.
    from counter.agent import PressResultHandler

log = logging.getLogger(__name__)

# press(button, source, on_done): the agent's entry point for a press.
PressHandler = Callable[[str, str, "PressResultHandler | None"], None]
# on_health(source, "ok" | "offline"): goes into the device's retained status.
HealthHandler = Callable[[str, str], None]


class HardwareUnavailable(RuntimeError):
    """GPIO pins that cannot be opened (not a Pi, a pin in use, no pin factory)."""


GPIO_HINT = "on a machine without GPIO, set GPIOZERO_PIN_FACTORY=mock to try the rest"


class InputSource(Protocol):
    """A place presses come from: started with the agent's press handler, stopped at exit."""

    name: str

    def start(self, press: PressHandler, on_health: HealthHandler) -> None: ...
    def stop(self) -> None: ...


class ReaderThread:
    """Runs `step()` on a daemon thread until stop(); a step that raises is logged and retried.

    Hardware comes and goes (a USB keypad or serial adapter unplugged and
    plugged back): a failing step reports the source offline and is tried
    again after `retry_s`, and a step that works again reports it ok.
    """

    def __init__(self, name: str, step: Callable[[], None], retry_s: float = 2.0) -> None:
        self.name = name
        self._step = step
        self._retry_s = retry_s
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"input-{name}")

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stopping.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def wait(self, seconds: float) -> bool:
        """Sleeps unless stopped; True when stop() was called."""
        return self._stopping.wait(seconds)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._step()
            except Exception:
                log.exception("input %s failed; retrying in %.0f s", self.name, self._retry_s)
                self._stopping.wait(self._retry_s)


class HealthReport:
    """Reports a source's status ("ok" / "offline") once per change, with a log line."""

    def __init__(self, source: str, where: str) -> None:
        self.source = source  # the health field: gpio, keypad, serial, keyboard
        self.where = where  # for people: "keypad /dev/input/event3"
        self.handler: HealthHandler | None = None
        self.status: str | None = None

    def set(self, status: str, why: str = "") -> None:
        if status == self.status:
            return
        self.status = status
        if status == "ok":
            log.info("%s ready", self.where)
        else:
            log.warning("%s unavailable: %s", self.where, why)
        if self.handler:
            self.handler(self.source, status)


class ReadingSource:
    """A source that reads its device on its own thread (keypad, serial box, terminal).

    Subclasses set `name` and write `_session()`: open the device, read it
    until it goes away or `self._reader.stopping`, report through `health`.
    """

    name = "source"

    def __init__(self, where: str) -> None:
        self._reader = ReaderThread(self.name, self._session)
        self._press: PressHandler | None = None
        self.health = HealthReport(self.name, where)

    def start(self, press: PressHandler, on_health: HealthHandler) -> None:
        self._press, self.health.handler = press, on_health
        self._reader.start()

    def stop(self) -> None:
        self._reader.stop()

    def _session(self) -> None:
        raise NotImplementedError

    def _pressed(self, button: str, on_done: PressResultHandler | None = None) -> None:
        if self._press:
            self._press(button, self.name, on_done)
