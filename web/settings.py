"""The web's own config section, [web], read with file:line errors.

    [web]
    host = "127.0.0.1"          # 0.0.0.0 to serve the office LAN
    port = 8080
    public_url = "http://192.168.1.10:8080"   # what the ticket's QR points at
    phone_url = "https://antrean.semarangkota.go.id"  # or the central web's (issue 16)
    users = "var/web-users.db"
    session_secret = "var/web-secret"
    session_timeout_min = 60
    tls_cert = "/etc/antrean/broker/web.crt"   # `antrean broker web-cert`: signed by the office CA
    tls_key = "/etc/antrean/broker/web.key"
    survey_tablet = false       # true: the exit tablet's survey page (web/tablet.py)
    survey_tablet_key = "var/survey-tablet-key"  # its key, made on first start (mode 600)

Plain HTTP only on loopback: a host anyone on the LAN can reach must serve
HTTPS, or the staff's passwords and session cookies cross the Wi-Fi in clear.

Imports no web framework: check-config and doctor read it on units without one.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from antrean.config import Config
from antrean.domain import Role

SECTION = "web"


@dataclass(frozen=True, slots=True)
class WebSettings:
    """[web]: where the web listens, its files, and its sessions."""

    device: str
    host: str
    port: int
    public_url: str  # no trailing slash
    # The ticket QR's phone page: public_url, or the central web's address for an
    # office whose hub the residents' phones cannot reach (docs/central.md).
    phone_url: str
    users_path: Path
    secret_path: Path
    session_timeout_s: int
    tls_cert: Path | None  # both or neither: HTTPS with the office CA's certificate
    tls_key: Path | None
    survey_tablet: bool  # the exit tablet's page is served (at /survei/tablet/{key})
    tablet_key_path: Path

    @property
    def scheme(self) -> str:
        return "https" if self.tls_cert else "http"


def web_settings(config: Config) -> WebSettings:
    """[web] from the config; a bad value raises ConfigError naming its line."""
    r = config.reader()
    t = r.table(config.sections, SECTION)
    device = r.string(t, SECTION, "device", default=_first_web_device(config))
    known = config.device(device) if device else None
    if known is None or known.role is not Role.WEB:
        r.fail(SECTION, "device", "needs a [[device]] with role 'web' (its MQTT login)")
    host = r.string(t, SECTION, "host", default="127.0.0.1")
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        r.fail(SECTION, "host", f"must be an IP address such as 0.0.0.0, got {host!r}")
    port = r.integer(t, SECTION, "port", default=8080, low=1, high=65535)
    cert, key = (r.string(t, SECTION, k, default="") for k in ("tls_cert", "tls_key"))
    if bool(cert) != bool(key):
        missing = "tls_key" if cert else "tls_cert"
        r.fail(
            SECTION,
            missing,
            "tls_cert and tls_key go together (antrean broker web-cert makes both)",
        )
    if not cert and not loopback:
        r.fail(SECTION, "host", f"{host} is reachable from the LAN: set tls_cert and tls_key "
               "(antrean broker web-cert makes them), or keep host on 127.0.0.1")  # fmt: skip
    scheme = "https" if cert else "http"
    public_url = r.string(t, SECTION, "public_url", default=f"{scheme}://{host}:{port}").rstrip("/")
    parts = urlsplit(public_url)
    if parts.scheme != scheme or not parts.netloc:
        r.fail(SECTION, "public_url", f"must be {scheme}://ADDRESS[:PORT], got {public_url!r}")
    phone_url = r.string(t, SECTION, "phone_url", default=public_url).rstrip("/")
    if urlsplit(phone_url).scheme not in ("http", "https") or not urlsplit(phone_url).netloc:
        r.fail(SECTION, "phone_url", f"must be https://ADDRESS[:PORT], got {phone_url!r}")
    settings = WebSettings(
        device=device,
        host=host,
        port=port,
        public_url=public_url,
        phone_url=phone_url,
        users_path=config.path(r.string(t, SECTION, "users", default="var/web-users.db")),
        secret_path=config.path(r.string(t, SECTION, "session_secret", default="var/web-secret")),
        session_timeout_s=60
        * r.integer(t, SECTION, "session_timeout_min", default=60, low=5, high=24 * 60),
        tls_cert=config.path(cert) if cert else None,
        tls_key=config.path(key) if key else None,
        survey_tablet=r.boolean(t, SECTION, "survey_tablet", default=False),
        tablet_key_path=config.path(
            r.string(t, SECTION, "survey_tablet_key", default="var/survey-tablet-key")
        ),
    )
    r.only_keys(t, SECTION)
    return settings


def _first_web_device(config: Config) -> str:
    return next((d.id for d in config.devices if d.role is Role.WEB), "")


def check_sections(config: Config) -> None:
    """check-config's part: [web], as `antrean web` reads it, when the office has a web."""
    if SECTION in config.sections or _first_web_device(config):
        web_settings(config)
