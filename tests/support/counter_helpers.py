"""Helpers of the counter tests: a config with inputs, an outcome recorder, waiting."""

from __future__ import annotations

import contextlib
import os
import select
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from antrean.config import Config, parse_config
from counter.agent import PressResult
from tests.support.helpers import Office, example_text
from tests.support.mqtt_watch import Watcher

INPUTS_1 = """
[counter_inputs.1]
reply_timeout_s = 1
call_guard_s = 1

[counter_inputs.1.gpio]
next = 17
recall = 27
no_show = 22
complete = 23
bounce_ms = 50

[counter_inputs.1.feedback]
led = 24
buzzer = 25
"""


EXAMPLE_INPUTS = "\n# Counter agents ("  # where the example's own [counter_inputs] begin


def counter_config(tmp_path: Path, port: int, extra: str = INPUTS_1, cards: bool = False) -> Config:
    """The example office (on the test broker) with its counter inputs replaced by `extra`.

    With `cards` its printing service (B) counts blank cards (see example_text).
    """
    text = example_text(port, cards=cards)
    assert EXAMPLE_INPUTS in text, (
        "antrean.example.toml changed; update tests/support/counter_helpers.py"
    )
    office = text[: text.index(EXAMPLE_INPUTS)]
    return parse_config(office + "\n" + extra, source="test.toml", base_dir=tmp_path)


def wait(predicate: Callable[[], Any], timeout: float = 5, what: str = "") -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, f"timed out waiting for {what or predicate}"
        time.sleep(0.01)


class Recorder:
    """A feedback sink that keeps every outcome (added beside the real ones)."""

    def __init__(self) -> None:
        self.outcomes: list[PressResult] = []
        self._lock = threading.Lock()

    def show(self, outcome: PressResult) -> None:
        with self._lock:
            self.outcomes.append(outcome)

    def codes(self) -> list[str | None]:
        with self._lock:
            return [o.ticket if o.ok else o.code for o in self.outcomes]

    def wait_count(self, n: int, timeout: float = 5) -> list[PressResult]:
        wait(lambda: len(self.outcomes) >= n, timeout, f"{n} outcomes, have {self.codes()}")
        with self._lock:
            return list(self.outcomes)


def counter_current(office: Office, number: int) -> str | None:
    """The code the queue service says counter `number` is serving now."""
    snap = office.ok("admin", "snapshot")
    counter = next(c for c in snap["counters"] if c["number"] == number)
    return counter["current"]["code"] if counter["current"] else None


def service_waiting(office: Office, code: str) -> int:
    snap = office.ok("admin", "snapshot")
    return int(next(s for s in snap["services"] if s["code"] == code)["waiting"])


def read_lines(fd: int, count: int, timeout: float = 5) -> list[str]:
    """Reads `count` newline-ended lines from a pty master."""
    data = b""
    end = time.monotonic() + timeout
    while data.count(b"\n") < count:
        left = end - time.monotonic()
        assert left > 0, f"timed out reading {count} lines, got {data!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            data += os.read(fd, 1024)
    return data.decode().splitlines()


@contextlib.contextmanager
def hung_queue_service(office: Office) -> Iterator[None]:
    """The queue service stops answering while its retained status still says online.

    Commands then go out and get no answer, so the one in flight stays in
    flight until its timeout, whatever the machine's load. The service is
    started again at the end.
    """
    office.stop()
    topic = f"antrean/v1/{office.config.office.id}/device/queue/status"
    ghost = Watcher(office.config.broker, topic, "ghost").start()
    try:
        ghost.mqtt.publish(topic, {"online": True, "role": "queue"}, retain=True)
        ghost.wait_for(lambda _t, body: body.get("online") is True)
        yield
    finally:
        ghost.stop()
        office.start()


class ScriptedButtons:
    """An input source whose presses come from the test: Berikutnya, Panggil ulang, Selesai.

    It stands where the GPIO buttons or the keypad would (CounterStation's
    `sources`), so each press goes through the real agent's press path; `tap`
    waits for that press's outcome as the staff would wait for the LED.
    """

    name = "scripted"

    def __init__(self) -> None:
        self._press: Callable[..., None] | None = None

    def start(self, press: Callable[..., None], on_health: Callable[[str, str], None]) -> None:
        self._press = press
        on_health(self.name, "ok")

    def stop(self) -> None:
        self._press = None

    def tap(self, button: str, timeout: float = 10) -> PressResult:
        assert self._press is not None, "the source is not started"
        got: list[PressResult] = []
        done = threading.Event()

        def first(outcome: PressResult) -> None:
            if not got:  # a late answer after a timeout would come a second time
                got.append(outcome)
                done.set()

        self._press(button, self.name, first)
        assert done.wait(timeout), f"no outcome for {button}"
        return got[0]
