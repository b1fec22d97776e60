"""The hub's Mosquitto drop-in (`/etc/mosquitto/conf.d/antrean.conf`).

broker_config/antrean.conf in the repository is this text with the default
folder and ports; a test keeps the two the same.
"""

from __future__ import annotations

from antrean_tools.broker.files import BrokerFiles

LOCAL_PORT = 1883
LAN_PORT = 8883
# The contract's commands are at most 16 KiB; retained states and snapshot
# replies are a few KB for a real office. 256 KiB leaves room for a large
# office and stops a runaway client from pushing megabytes through the hub.
MESSAGE_SIZE_LIMIT = 256 * 1024
# Per client, above those in flight. Devices use clean sessions, so only a
# slow reader, the bridge to the central broker and a device's burst queue.
# The queue service reads kiosk commands only as fast as it answers them
# (antrean/service.py): the rest of a burst waits in its session's queue here,
# and its answers in the kiosk's. Measured (bench/bench_burst.py): of 5,000
# issue commands at once from one kiosk (QoS 1), Mosquitto's default of 1,000
# dropped 2,281 (2,520 replies before the service held back); 100,000, none.
# A day of a busy office is a few tens of thousands of messages (tens of MB):
# the bridge keeps up to 100,000 or 32 MiB while the link is down, whichever
# comes first; the retained state brings the central broker up to date beyond.
MAX_QUEUED_MESSAGES = 100_000
MAX_QUEUED_BYTES = 32 * 1024 * 1024
# Debian's mosquitto.conf sets persistence_location /var/lib/mosquitto/ and a
# second one is an error, so the drop-in only turns persistence on. Every 5
# minutes: a power cut loses at most that much of the bridge's queue, and the
# SD card is not rewritten every few seconds.
AUTOSAVE_INTERVAL_S = 300


def render_conf(
    files: BrokerFiles,
    local_port: int = LOCAL_PORT,
    lan_port: int = LAN_PORT,
    lan_bind: str | None = None,
) -> str:
    """The drop-in for these files; `lan_bind` limits the LAN listener to one address."""
    auth = [
        "allow_anonymous false",
        f"password_file {files.password_file}",
        f"acl_file {files.acl_file}",
        "# The client id is the user name: a device cannot take over another's session.",
        "use_username_as_clientid true",
    ]
    lan = f"listener {lan_port} {lan_bind}" if lan_bind else f"listener {lan_port}"
    lines = [
        "# Antrean office broker. Written by `antrean broker init`; link it as",
        "# /etc/mosquitto/conf.d/antrean.conf (see broker_config/README.md).",
        "",
        "# Each listener below names its own users and access rules.",
        "per_listener_settings true",
        "",
        "# Debian's mosquitto.conf sets persistence_location /var/lib/mosquitto/ (a second",
        "# one is an error). Saved every 5 minutes and at every clean stop.",
        "persistence true",
        f"autosave_interval {AUTOSAVE_INTERVAL_S}",
        "# paho and Mosquitto leave Nagle on; with delayed ACKs a QoS 1 hop stalls ~40 ms.",
        "set_tcp_nodelay true",
        "# Commands are at most 16 KiB, states and snapshots a few KB. Larger messages are",
        "# dropped. (Not max_packet_size, which Mosquitto suggests at start: it would",
        "# disconnect the sender, and a queue service with a huge snapshot would loop.)",
        f"message_size_limit {MESSAGE_SIZE_LIMIT}",
        "# Per client. A slow reader, the bridge (while the link is down) and the queue",
        "# service's session during a device's burst queue; the service refuses the burst.",
        f"max_queued_messages {MAX_QUEUED_MESSAGES}",
        f"max_queued_bytes {MAX_QUEUED_BYTES}",
        "",
        "# Loopback: the queue service and apps on the hub itself. The same users and",
        "# rules as the LAN; no TLS, since this traffic never leaves the machine.",
        f"listener {local_port} 127.0.0.1",
        *auth,
        "",
        "# LAN: every other unit. TLS with the office's own CA, a password per device.",
        lan,
        f"cafile {files.ca_cert}",
        f"certfile {files.server_cert}",
        f"keyfile {files.server_key}",
        "tls_version tlsv1.2",
        *auth,
    ]
    return "\n".join(lines) + "\n"
