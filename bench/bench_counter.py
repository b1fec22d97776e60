"""Counter press latency: a GPIO button press until the agent's feedback fires.

The queue service runs as its own process (`antrean queue`), as on a Pi. In
the benchmark process, the counter agent of counter 4 (services C and D, no
quota) has its four GPIO buttons on gpiozero mock pins and an LED on a mock
pin. One measurement: `drive_low()` on the "next" pin (the press edge) until
the agent's feedback sinks have been called with the reply (the LED's blink
is started; a recording sink after it notes the time). Everything between
is the real path: gpiozero's edge callback, the debounce, the agent's busy
gate, DeviceLink's QoS 0 publish, Mosquitto, the queue service (batch,
SQLite commit with synchronous=FULL), the reply, the outcome.

Baseline in the same process, alternating press by press: the bare request
and reply with antrean_testing.client.QueueClient (device `admin`, `call_next` for
counter 4): the same service work and broker hops, without the agent.

Targets (our own, for "instant feedback"): press p99 <= 100 ms (the
threshold at which people notice a delay), and press p99 <= 2x the bare
request's p99.
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

from bench_call_latency import PACE_S, issue_tickets, kiosks_for  # service C: no quota
from common import (
    OFFICE,
    Result,
    antrean_command,
    broker_config,
    format_ms,
    main,
    spawn,
    stop_process,
    summary_ms,
    wait_service_online,
    write_config,
)
from gpiozero.pins.mock import MockFactory

from antrean.config import load_config
from antrean_testing.client import QueueClient
from antrean_testing.devbroker import DevBroker
from counter.agent import CounterAgent, PressResult
from counter.feedback import GpioFeedback
from counter.inputs.gpio import DEFAULT_PINS, GpioButtons, GpioSettings

COUNTER = 4
LED_PIN = 24
# A 5 ms debounce lets presses follow each other quickly; the debounce only
# rejects edges, it never delays the first one, so it does not change the figure.
BOUNCE_S = 0.005
TIMEOUT_S = 5
# After each measurement (of either kind) the service publishes the batch's
# events and retained state; waiting this long lets both kinds start with an
# idle service and an idle agent, so neither pays for the other's tail.
SETTLE_S = 0.015


class FeedbackClock:
    """The last feedback sink: notes when the outcome of a press reached the feedback."""

    def __init__(self) -> None:
        self.at = 0.0
        self.outcome: PressResult | None = None
        self._done = threading.Event()

    def show(self, outcome: PressResult) -> None:
        self.at = time.perf_counter()
        self.outcome = outcome
        self._done.set()

    def arm(self) -> None:
        self._done.clear()

    def wait(self) -> PressResult:
        if not self._done.wait(TIMEOUT_S):
            raise TimeoutError("no feedback within the timeout")
        assert self.outcome is not None
        return self.outcome


def one_press(factory: MockFactory, clock: FeedbackClock) -> float:
    pin = factory.pin(DEFAULT_PINS["next"])
    clock.arm()
    t0 = time.perf_counter()
    pin.drive_low()
    outcome = clock.wait()
    pin.drive_high()
    if not outcome.ok or not outcome.ticket:
        raise RuntimeError(f"the press did not call a ticket: {outcome}")
    time.sleep(SETTLE_S)  # also > BOUNCE_S: quiet after the release, or the next press bounces
    return clock.at - t0


def one_request(client: QueueClient) -> float:
    t0 = time.perf_counter()
    reply = client.request("call_next", {"counter": COUNTER}, timeout=TIMEOUT_S)
    elapsed = time.perf_counter() - t0
    if not reply["ok"] or not reply["result"]["ticket"]:
        raise RuntimeError(f"call_next did not call a ticket: {reply}")
    time.sleep(SETTLE_S)
    return elapsed


def measure(config_path: Path, port: int, presses: int, warmup: int) -> tuple[list, list]:
    config = load_config(config_path)
    factory = MockFactory()
    clock = FeedbackClock()
    led = GpioFeedback(LED_PIN, None, pin_factory=factory)
    agent = CounterAgent(config, COUNTER, f"counter-{COUNTER}", [led, clock], TIMEOUT_S).start()
    buttons = GpioButtons(GpioSettings(dict(DEFAULT_PINS), BOUNCE_S), pin_factory=factory)
    client = QueueClient(OFFICE, "admin", broker_config(port)).start()
    press_s: list[float] = []
    bare_s: list[float] = []
    try:
        deadline = time.monotonic() + 10
        while not agent.online:
            if time.monotonic() > deadline:
                raise RuntimeError("the agent never saw the queue service online")
            time.sleep(0.01)
        buttons.start(agent.press, lambda _source, _status: None)
        for i in range(warmup + presses):
            time.sleep(PACE_S)  # under the device's rate (antrean.ratelimit), as an officer is
            p, b = one_press(factory, clock), one_request(client)
            if i >= warmup:
                press_s.append(p)
                bare_s.append(b)
    finally:
        buttons.stop()
        led.close()
        agent.stop()
        client.stop()
    return press_s, bare_s


def run(quick: bool) -> Result:
    presses, warmup = (200, 20) if quick else (1000, 50)
    with tempfile.TemporaryDirectory(prefix="antrean-bench-") as tmp, DevBroker() as broker:
        folder, port = Path(tmp), broker.port
        tickets = 2 * (presses + warmup) + 1
        # Enough kiosks for the tickets within each one's rate (as bench_call_latency).
        path = write_config(folder, port, kiosks=kiosks_for(tickets))
        service = spawn(antrean_command(path), folder / "queue.log")
        try:
            wait_service_online(port)
            issue_tickets(port, tickets)
            press_s, bare_s = measure(path, port, presses, warmup)
        finally:
            stop_process(service)

    press, bare = summary_ms(press_s), summary_ms(bare_s)
    print(format_ms("press -> feedback (agent)", press))
    print(format_ms("bare call_next request", bare))
    ratio50, ratio99 = press["p50"] / bare["p50"], press["p99"] / bare["p99"]
    print(f"ratio press/bare: p50 {ratio50:.2f}x  p99 {ratio99:.2f}x")
    result = Result("counter_press")
    result.figures = {
        "presses": presses,
        "press_ms": press,
        "bare_ms": bare,
        "ratio_p50": ratio50,
        "ratio_p99": ratio99,
    }
    result.check("press -> feedback p99", press["p99"], "ms", "<= 100", press["p99"] <= 100)
    result.check("press p99 / bare request p99", ratio99, "x", "<= 2", ratio99 <= 2)
    return result


if __name__ == "__main__":
    main(__doc__, run)
