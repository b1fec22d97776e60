"""The central service's config: one TOML file with `[central]` and `[broker]` (the centre's).

```toml
[central]
dsn = "host=/var/run/postgresql dbname=antrean user=antrean"
offices = ["gajahmungkur", "tembalang"]

[central.kabupaten]  # optional: each office's kabupaten or kota, for /ringkasan
gajahmungkur = "Kota Semarang"
tembalang = "Kota Semarang"

[broker]            # the central broker, the same keys as an office's [broker]
host = "127.0.0.1"
port = 8883
username = "antrean-central"
password_file = "/etc/antrean/central-password"
tls_ca = "/etc/antrean/central-ca.crt"

[web]               # optional: `antrean web --central PATH` (the central web)
host = "127.0.0.1"
port = 8090
users = "/var/lib/antrean/central-web-users.db"
session_secret = "/var/lib/antrean/central-web-secret"
```
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from antrean.config import (
    BrokerConfig,
    ConfigError,
    ConfigReader,
    broker_section,
    did_you_mean,
)

DEFAULT_PATH = Path("/etc/antrean/central.toml")
CONFIG_HELP = f"central config file (default: $ANTREAN_CENTRAL_CONFIG, else {DEFAULT_PATH})"
SECTIONS = ("central", "broker", "web")
CLIENT_ID = "antrean-central"  # its MQTT client id and default login on the central broker


@dataclass(frozen=True, slots=True)
class CentralConfig:
    source: str
    dsn: str
    offices: tuple[str, ...]
    broker: BrokerConfig
    client_id: str = CLIENT_ID
    recording_services: tuple[str, ...] = ("A",)  # a served ticket of these is one recording
    web: CentralWeb | None = None
    kabupaten: dict[str, str] = field(default_factory=dict)  # office -> its kabupaten/kota


@dataclass(frozen=True, slots=True)
class CentralWeb:
    """[web] of the central config: where the central web listens and its files."""

    host: str
    port: int
    users_path: Path
    secret_path: Path
    session_timeout_s: int


def config_path(explicit: str | None) -> Path:
    """--config, else $ANTREAN_CENTRAL_CONFIG, else the default path."""
    return Path(explicit or os.environ.get("ANTREAN_CENTRAL_CONFIG") or DEFAULT_PATH)


def load_central_config(path: Path) -> CentralConfig:
    """Reads and validates the central config file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), None, "(file)", f"cannot read: {exc.strerror}") from exc
    return parse_central_config(text, str(path), path.parent)


def parse_central_config(text: str, source: str, base: Path) -> CentralConfig:
    """Validates TOML text into a CentralConfig; relative paths are taken from `base`."""
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, None, "(syntax)", str(exc)) from exc
    r = ConfigReader(text, source)
    for name in data:
        if name not in SECTIONS:
            r.fail(name, "", "unknown section" + did_you_mean(name, SECTIONS))
    t = r.table(data, "central", required=True)
    dsn = r.string(t, "central", "dsn")
    offices = r.get(t, "central", "offices")
    if not isinstance(offices, list) or not offices or not all(isinstance(o, str) for o in offices):
        r.fail("central", "offices", 'must be a list of office ids, e.g. ["gajahmungkur"]')
    for i, office in enumerate(offices):
        r.slug({"office": office}, f"central.offices[{i}]", "office")
    client_id = r.string(t, "central", "client_id", default=CLIENT_ID)
    recording = r.get(t, "central", "recording_services", ["A"])
    if not isinstance(recording, list) or not all(isinstance(c, str) for c in recording):
        r.fail("central", "recording_services", 'must be a list of service codes, e.g. ["A"]')
    kabupaten = _kabupaten(r, t, offices)
    r.only_keys(t, "central")
    broker = broker_section(r, data, base)
    web = _web(r, data, base) if "web" in data else None
    return CentralConfig(
        source, dsn, tuple(offices), broker, client_id, tuple(recording), web, kabupaten
    )


def _kabupaten(r: ConfigReader, t: dict[str, Any], offices: list[str]) -> dict[str, str]:
    """[central.kabupaten]: office id -> the name of its kabupaten or kota."""
    kabupaten = r.get(t, "central", "kabupaten", {})
    if not isinstance(kabupaten, dict):
        r.fail("central", "kabupaten", 'must map office ids to names: tembalang = "Kota Semarang"')
    r.only_keys(kabupaten, "central.kabupaten", offices, " (not in [central] offices)")
    for office, name in kabupaten.items():
        if not isinstance(name, str) or not name.strip():
            r.fail("central.kabupaten", office, f"must be the kabupaten's name, got {name!r}")
    return {o: n.strip() for o, n in kabupaten.items()}


def _web(r: ConfigReader, data: dict[str, Any], base: Path) -> CentralWeb:
    t = r.table(data, "web")
    host = r.string(t, "web", "host", default="127.0.0.1")
    port = r.integer(t, "web", "port", default=8090, low=1, high=65535)
    users = r.string(t, "web", "users", default="var/central-web-users.db")
    secret = r.string(t, "web", "session_secret", default="var/central-web-secret")
    timeout = r.integer(t, "web", "session_timeout_min", default=60, low=5, high=24 * 60)
    r.only_keys(t, "web")
    return CentralWeb(host, port, base / users, base / secret, 60 * timeout)
