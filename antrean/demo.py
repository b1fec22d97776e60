"""`antrean demo`: the system on one machine, with a Mosquitto it starts itself.

The kiosk, board and counter apps join here as they are built (issues 3-5);
today the demo runs the broker and the queue service and says so.
"""

from __future__ import annotations

import dataclasses
import logging
import threading

from antrean.config import Config
from antrean.devbroker import DevBroker, port_open
from antrean.runner import run_queue_service

log = logging.getLogger(__name__)


def run_demo(config: Config) -> int:
    """Runs until Ctrl-C; stops everything it started."""
    broker = None
    host, port = config.broker.host, config.broker.port
    if port_open(host, port):
        print(f"demo: using the MQTT broker already listening on {host}:{port}")
    else:
        print(f"demo: starting Mosquitto on {host}:{port}")
        broker = DevBroker(port=port).start()
        config = dataclasses.replace(
            config, broker=dataclasses.replace(config.broker, host=broker.host)
        )
    print(f"demo: queue service for {config.office.name}, store {config.store_path}")
    print("demo: the kiosk, board and counter apps are not built yet; try, in another shell:")
    root = f"antrean/v1/{config.office.id}"
    print(f"  mosquitto_sub -p {port} -v -t '{root}/#'")
    print(
        f"  mosquitto_pub -p {port} -t {root}/cmd/kiosk-1"
        ' -m \'{"id":"t1","action":"issue","args":{"service":"C"}}\''
    )
    print("demo: Ctrl-C stops everything")
    stop = threading.Event()
    try:
        run_queue_service(config, stop)
    finally:
        if broker:
            broker.cleanup()
            print("demo: Mosquitto stopped")
    return 0
