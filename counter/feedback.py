"""How a counter tells its staff what a press did: an LED, a buzzer, the journal.

- success: a short blink (and a short beep);
- error (refused, offline, no answer): a long blink (and a long beep);
- busy (a press while the previous command awaits its reply): no blink, no
  beep, since the command in flight is about to blink; the journal has it.

Every press gets one journal line (systemd keeps the log of the service).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from counter.agent import PressResult
from counter.inputs.base import GPIO_HINT, HardwareUnavailable

log = logging.getLogger("counter.press")

SHORT_S = 0.15  # long enough to see in a lit office, short enough not to overlap the next press
LONG_S = 1.0  # unmistakably different from SHORT_S at a glance
BEEP_SHORT_S = 0.08
BEEP_LONG_S = 0.8


class JournalFeedback:
    """One log line per press: what, from where, and how it ended."""

    def __init__(self, counter: int) -> None:
        self.counter = counter

    def show(self, outcome: PressResult) -> None:
        if outcome.ok:
            log.info(
                "loket %d: %s (%s) -> OK %s in %.0f ms: %s",
                self.counter,
                outcome.action,
                outcome.source,
                outcome.ticket or "-",
                outcome.elapsed_s * 1000,
                outcome.message,
            )
        else:
            log.warning(
                "loket %d: %s (%s) -> %s: %s",
                self.counter,
                outcome.action,
                outcome.source,
                outcome.code,
                outcome.message,
            )


class Pulse:
    """Holds an output (LED, buzzer) on until a deadline.

    One thread for the output's life instead of gpiozero's blink(), which
    starts a thread per blink: the output goes on in the caller's thread at
    once (a pin write), and a new pulse simply moves the deadline.
    """

    def __init__(self, device: Any) -> None:
        self.device = device
        self._cond = threading.Condition()
        self._until: float | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._run, daemon=True, name="feedback-pulse")
        self._thread.start()

    def pulse(self, seconds: float) -> None:
        with self._cond:
            self.device.on()
            self._until = time.monotonic() + seconds
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join(2)
        self.device.close()

    def _run(self) -> None:
        with self._cond:
            while not self._closed:
                if self._until is None:
                    self._cond.wait()
                    continue
                left = self._until - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                self.device.off()
                self._until = None


class GpioFeedback:
    """An LED and/or an active buzzer on GPIO pins (gpiozero; the pin factory from the env)."""

    def __init__(self, led: int | None, buzzer: int | None, pin_factory: Any | None = None) -> None:
        from gpiozero import LED, Buzzer  # noqa: PLC0415 - only counter Pis have gpiozero
        from gpiozero.exc import GPIOZeroError  # noqa: PLC0415

        try:
            self.led = Pulse(LED(led, pin_factory=pin_factory)) if led is not None else None
            self.buzzer = (
                Pulse(Buzzer(buzzer, pin_factory=pin_factory)) if buzzer is not None else None
            )
        except (GPIOZeroError, OSError) as exc:
            raise HardwareUnavailable(
                f"cannot open the counter's LED or buzzer ({exc}); {GPIO_HINT}"
            ) from exc

    def show(self, outcome: PressResult) -> None:
        if outcome.busy:
            return
        on, beep = (SHORT_S, BEEP_SHORT_S) if outcome.ok else (LONG_S, BEEP_LONG_S)
        if self.led is not None:
            self.led.pulse(on)
        if self.buzzer is not None:
            self.buzzer.pulse(beep)

    def close(self) -> None:
        for pulse in (self.led, self.buzzer):
            if pulse is not None:
                pulse.close()
