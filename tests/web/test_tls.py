"""HTTPS on the LAN: the web's certificate from the broker tooling, verified against the office CA.

The CA and the web's certificate are made by the real `antrean broker init`
and `antrean broker web-cert` (openssl); the web is the real app on uvicorn
with the real queue service and broker behind it; the client is Python's ssl
with nothing but the office's ca.crt.
"""

from __future__ import annotations

import http.client
import ssl
from pathlib import Path

import pytest

from antrean.config import ConfigError, parse_config
from antrean_testing.devbroker import DevBroker
from antrean_tools.broker.files import BrokerFiles
from antrean_tools.cli import main
from tests.support.helpers import FakeClock, Office, example_text
from tests.web.conftest import WebServer, web_config
from web.settings import WebSettings, web_settings

WEB_HOST = 'host = "127.0.0.1"                  # where it listens'
WEB_URL = 'public_url = "http://127.0.0.1:8080"'


def tls_edit(files: BrokerFiles, host: str = "127.0.0.1") -> dict[str, str]:
    return {
        WEB_HOST: f'host = "{host}"  # where it listens',
        WEB_URL: f'public_url = "https://{host}:8080"\n'
        f'tls_cert = "{files.web_cert}"\ntls_key = "{files.web_key}"',
    }


def make_certs(tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]) -> BrokerFiles:
    """The office CA and the web's certificate, as the technician makes them on the hub."""
    conf = tmp_path / f"{name}.toml"
    conf.write_text(example_text(), encoding="utf-8")
    files = BrokerFiles(tmp_path / name)
    where = ["--config", str(conf), "--out", str(files.dir)]
    assert main(["broker", "init", *where, "--name", "hub.local"]) == 0
    assert main(["broker", "web-cert", *where, "--name", "localhost", "--ip", "127.0.0.1"]) == 0
    shown = capsys.readouterr().out
    assert f'tls_cert = "{files.web_cert}"' in shown
    assert "IP Address:127.0.0.1" in shown
    assert files.web_key.stat().st_mode & 0o777 == 0o600
    return files


def get(port: int, context: ssl.SSLContext, host: str = "127.0.0.1") -> http.client.HTTPResponse:
    conn = http.client.HTTPSConnection(host, port, context=context, timeout=10)
    conn.request("GET", "/masuk")
    return conn.getresponse()


def plain_get(port: int) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/masuk")
    resp = conn.getresponse()
    resp.read()
    return resp.status


def test_the_web_serves_https_that_the_office_ca_verifies(
    tmp_path: Path, broker: DevBroker, capsys: pytest.CaptureFixture[str]
) -> None:
    files = make_certs(tmp_path, "broker", capsys)
    config = web_config(tmp_path, broker.port, edit=tls_edit(files))
    office = Office(config, FakeClock()).start()
    web = WebServer(config).start()
    try:
        port = web.settings.port
        assert web.url.startswith("https://")
        office_ca = ssl.create_default_context(cafile=str(files.ca_cert))  # verifies the name too
        for host in ("127.0.0.1", "localhost"):
            resp = get(port, office_ca, host)
            body = resp.read().decode()
            assert resp.status == 200
            assert "Kata sandi" in body
            # The session cookie is never sent back over plain HTTP.
            assert "secure" in (resp.getheader("set-cookie") or "").lower()

        # Another office's CA does not vouch for this hub.
        other = make_certs(tmp_path, "other", capsys)
        with pytest.raises(ssl.SSLCertVerificationError):
            get(port, ssl.create_default_context(cafile=str(other.ca_cert)))
        # The broker's own certificate is for hub.local, not for this name: the
        # web's is a certificate of its own.
        assert files.web_cert.read_text() != files.server_cert.read_text()
        # No plain HTTP on the TLS port.
        with pytest.raises((http.client.HTTPException, OSError)):
            plain_get(port)
    finally:
        web.stop()
        office.close()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::"])
def test_plain_http_off_loopback_is_a_config_error(
    tmp_path: Path, host: str, capsys: pytest.CaptureFixture[str]
) -> None:
    conf = tmp_path / "antrean.toml"
    conf.write_text(
        example_text(edit={WEB_HOST: f'host = "{host}"  # where it listens'}), encoding="utf-8"
    )
    assert main(["web", "--config", str(conf)]) == 2
    err = capsys.readouterr().err
    assert f"web.host: {host} is reachable from the LAN: set tls_cert and tls_key" in err
    assert "(antrean broker web-cert makes them), or keep host on 127.0.0.1" in err
    assert main(["check-config", "--config", str(conf)]) == 2
    assert "web.host" in capsys.readouterr().err


def settings_of(tmp_path: Path, text: str) -> WebSettings:
    return web_settings(parse_config(text, "t.toml", base_dir=tmp_path))


def test_loopback_may_stay_plain_and_the_tls_settings_are_checked(tmp_path: Path) -> None:
    for host in ("127.0.0.1", "::1"):
        assert (
            settings_of(
                tmp_path, example_text(edit={WEB_HOST: f'host = "{host}"  # where it listens'})
            ).scheme
            == "http"
        )
    files = BrokerFiles(tmp_path / "broker")
    lan = settings_of(tmp_path, example_text(edit=tls_edit(files, "0.0.0.0")))
    assert (lan.scheme, lan.tls_cert, lan.tls_key) == ("https", files.web_cert, files.web_key)
    half = example_text(edit={WEB_URL: f'{WEB_URL}\ntls_cert = "{files.web_cert}"'})
    with pytest.raises(ConfigError, match=r"web\.tls_key: tls_cert and tls_key go together"):
        settings_of(tmp_path, half)
    http_url = example_text(edit=tls_edit(files)).replace("https://", "http://")
    with pytest.raises(ConfigError, match=r"web\.public_url: must be https://"):
        settings_of(tmp_path, http_url)
