"""The receiving end of the call-latency benchmark, as its own process (a board's place).

It subscribes to the given topics and writes one JSON line per message to
stdout: the topic, the time it arrived (time.perf_counter(), the system's
monotonic clock, so the benchmark can compare it with its own) and the
payload. On an office the board is a device of its own; here it is a process
of its own too, so that the benchmark's other clients (the counter reading
its reply, the watcher of state/office) do not delay the moment it is
stamped. Runs until stdin closes or SIGTERM.

    python bench/latch.py --port 1883 antrean/v1/OFFICE/event/called bench/relay/out
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from types import FrameType

from common import broker_config

from antrean.mqtt import MqttClient


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("topics", nargs="+")
    args = parser.parse_args()
    out = sys.stdout
    lock = threading.Lock()

    def stamp(topic: str, payload: bytes) -> None:
        at = time.perf_counter()  # first: the line's writing is not part of the latency
        line = json.dumps({"topic": topic, "at": at, "payload": payload.decode()})
        with lock:
            out.write(line + "\n")
            out.flush()

    client = MqttClient(f"bench-latch-{os.getpid()}", broker_config(args.port))
    for t in args.topics:
        client.subscribe(t, stamp)
    stop = threading.Event()

    def _signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _signal)
    client.start()
    if not client.wait_connected(10):
        sys.exit("latch: cannot reach the broker")
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    stop.wait()
    client.stop()


if __name__ == "__main__":
    main()
