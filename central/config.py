"""The central service's config: one TOML file with `[central]` and `[broker]` (the centre's).

```toml
[central]
dsn = "host=/var/run/postgresql dbname=antrean user=antrean"
offices = ["gajahmungkur", "tembalang"]

[broker]            # the central broker, the same keys as an office's [broker]
host = "127.0.0.1"
port = 8883
username = "antrean-central"
password_file = "/etc/antrean/central-password"
tls_ca = "/etc/antrean/central-ca.crt"
```
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
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
SECTIONS = ("central", "broker")
CLIENT_ID = "antrean-central"  # its MQTT client id and default login on the central broker


@dataclass(frozen=True, slots=True)
class CentralConfig:
    source: str
    dsn: str
    offices: tuple[str, ...]
    broker: BrokerConfig
    client_id: str = CLIENT_ID


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
    r.only_keys(t, "central")
    broker = broker_section(r, data, base)
    return CentralConfig(source, dsn, tuple(offices), broker, client_id)
