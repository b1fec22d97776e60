"""The baseline of the call-latency benchmark: a bare MQTT relay, as its own process.

It subscribes to one topic and republishes every message, unchanged, on another:
the same two broker hops as call_next -> event/called, with the same client
settings (antrean.mqtt.MqttClient: QoS 1, TCP_NODELAY) and no parsing, engine
or store. Runs until SIGTERM.

    python bench/relay.py --port 1883 --in bench/relay/in --out bench/relay/out
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
from types import FrameType

from common import broker_config

from antrean.mqtt import MqttClient


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--in", dest="inbound", default="bench/relay/in")
    parser.add_argument("--out", dest="outbound", default="bench/relay/out")
    args = parser.parse_args()

    client = MqttClient(f"bench-relay-{os.getpid()}", broker_config(args.port))

    def forward(_topic: str, payload: bytes) -> None:
        client.publish(args.outbound, payload)

    client.subscribe(args.inbound, forward)
    stop = threading.Event()

    def _signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _signal)
    signal.signal(signal.SIGINT, _signal)
    client.start()
    stop.wait()
    client.stop()


if __name__ == "__main__":
    main()
