"""The bridge from the office broker to a central broker.

What the centre needs goes out at QoS 1: events, retained state, presence,
and the replies to the central service (issue 16). One topic comes in:
`cmd/central`, the central service's `replay` requests, which the queue
service answers for the role `central` only; so a central broker (or whoever
takes it over) can ask the office to repeat its events and do nothing else.
Commands, replies to the office's devices and the units' sync never leave.

The bridge keeps its local session (`local_cleansession false`), so
what the office publishes while the link is down waits in the hub's broker,
saved with its persistence, and goes out in order when the link returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from antrean import protocol
from antrean.config import CENTRAL_DEVICE

CONNECTION = "antrean-central"
SYSTEM_CA_DIR = Path("/etc/ssl/certs")  # for a central broker with a public certificate
# Reconnect after 2 s at first, backing off (with jitter) to 30 s while the
# central broker stays away: quick catch-up, no hammering.
RESTART_TIMEOUT = (2, 30)


@dataclass(frozen=True, slots=True)
class Bridge:
    """What the technician tells `antrean broker bridge`."""

    office: str
    host: str
    port: int
    username: str
    password: str
    ca_file: Path | None  # None: trust the system's CAs

    @property
    def remote_clientid(self) -> str:
        return f"antrean-bridge-{self.office}"


def parse_address(text: str) -> tuple[str, int]:
    """'host', 'host:port' or '[v6]:port' -> (host, port); the default port is 8883 (TLS)."""
    host, port = text, 8883
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest:
            port = _port(rest.removeprefix(":"), text)
    elif text.count(":") == 1:
        host, raw = text.split(":")
        port = _port(raw, text)
    if not host:
        raise ValueError(f"no host in {text!r}")
    return host, port


def _port(raw: str, text: str) -> int:
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ValueError(f"bad port in {text!r}")
    return int(raw)


def out_topics(office: str) -> list[str]:
    """What the office's bridge sends to the centre."""
    return [
        protocol.event_topic(office, "#"),
        protocol.state_topic(office, "#"),
        protocol.status_topic(office, "+"),
        protocol.reply_topic(office, CENTRAL_DEVICE),
    ]


def render_bridge(bridge: Bridge, restart_timeout: tuple[int, int] = RESTART_TIMEOUT) -> str:
    """The bridge section (it holds the central password: write it 0600)."""
    host = f"[{bridge.host}]" if ":" in bridge.host else bridge.host
    trust = (
        f"bridge_cafile {bridge.ca_file}" if bridge.ca_file else f"bridge_capath {SYSTEM_CA_DIR}"
    )
    lines = [
        "# Bridge to the central broker. Written by `antrean broker bridge`; it holds",
        "# the central broker's password, so it is readable by Mosquitto only.",
        f"connection {CONNECTION}",
        f"address {host}:{bridge.port}",
        f"remote_clientid {bridge.remote_clientid}",
        f"remote_username {bridge.username}",
        f"remote_password {bridge.password}",
        trust,
        "bridge_insecure false",
        "bridge_tls_version tlsv1.2",
        "# Keep both sessions: messages published while the link is down are queued",
        "# here (and saved with persistence) and delivered, in order, when it returns.",
        "cleansession false",
        "local_cleansession false",
        "start_type automatic",
        f"restart_timeout {restart_timeout[0]} {restart_timeout[1]}",
        "keepalive_interval 30",
        "# Retained '1'/'0' on $SYS/broker/connection/<remote_clientid>/state, on both",
        "# brokers: a dashboard sees which offices are connected.",
        "notifications true",
        "bridge_outgoing_retain true",
        "# Out: events, state, presence and the central service's replies. In: only",
        "# the central service's replay requests (the queue service allows it nothing else).",
        *(f"topic {topic} out 1" for topic in out_topics(bridge.office)),
        f"topic {protocol.cmd_topic(bridge.office, CENTRAL_DEVICE)} in 1",
    ]
    return "\n".join(lines) + "\n"
