"""The office web's HTTPS in provisioning: the [web] lines, a certificate kept while good,
and doctor's check of it. Real openssl, real `antrean broker init`, real provision.sh --root.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from antrean.config import load_config
from antrean_tools.broker.certs import openssl
from antrean_tools.broker.files import BrokerFiles
from antrean_tools.broker.provision import InitOptions, init
from antrean_tools.cli import main
from antrean_tools.doctor import Doctor
from tests.support.helpers import example_config, example_text
from tests.tools.test_deploy import enabled, office_toml, provision, tree

LAN = {
    'host = "127.0.0.1"                  # where it listens':
        'host = "0.0.0.0"                    # where it listens',
    'public_url = "http://127.0.0.1:8080"': 'public_url = "http://192.168.1.10:8080"',
}  # fmt: skip
WEB_CERT = "/etc/antrean/broker/web.crt"


def test_a_hub_whose_web_is_on_the_lan_gets_its_https_lines(tmp_path: Path) -> None:
    config = office_toml(tmp_path, LAN)
    for role in ("hub", "display"):  # one office config passes on every unit
        root = tmp_path / role
        first = provision(root, "--role", role, "--config", str(config))
        assert first.returncode == 0, first.stderr
        installed = (root / "etc/antrean/antrean.toml").read_text()
        assert (
            installed.replace(
                "# Added by provision.sh: HTTPS with the office CA (antrean broker web-cert)\n"
                f'tls_cert = "{WEB_CERT}"\ntls_key = "/etc/antrean/broker/web.key"\n',
                "",
            ).replace("https://192.168", "http://192.168")
            == config.read_text()
        )
        assert 'public_url = "https://192.168.1.10:8080"' in installed
        checked = subprocess.run(
            [sys.executable, "-m", "antrean_tools.cli", "check-config", "--config",
             str(root / "etc/antrean/antrean.toml")],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert checked.returncode == 0, checked.stderr
        before = tree(root)
        second = provision(root, "--role", role, "--config", str(config))
        assert second.stdout.strip().endswith("done: nothing to change"), second.stdout
        assert tree(root) == before
    assert "antrean-web.service" in enabled(tmp_path / "hub")
    # A config that already names its certificate, or keeps the web on loopback, is as written.
    own = {
        **LAN,
        'public_url = "http://127.0.0.1:8080"': 'public_url = "https://192.168.1.10:8080"',
        "[web]\n": '[web]\ntls_cert = "/x.crt"\ntls_key = "/x.key"\n',
    }
    for edit in ({}, own):
        root = tmp_path / f"as-written-{len(edit)}"
        plain = office_toml(tmp_path, edit)
        assert provision(root, "--role", "hub", "--config", str(plain)).returncode == 0
        assert (root / "etc/antrean/antrean.toml").read_bytes() == plain.read_bytes()


@pytest.fixture
def office(tmp_path: Path) -> tuple[Path, BrokerFiles]:
    """An office config whose web is at 192.168.1.10, and its broker folder after init."""
    conf = tmp_path / "antrean.toml"
    conf.write_text(example_text(edit=LAN))
    files = BrokerFiles(tmp_path / "broker")
    init(example_config(tmp_path), files, InitOptions(names=["hub.local"], ips=["192.168.1.10"]))
    return conf, files


def web_cert(conf: Path, files: BrokerFiles, *extra: str) -> int:
    where = ["--config", str(conf), "--out", str(files.dir)]
    return main(["broker", "web-cert", *where, "--if-needed", "--owner", "root", *extra])


def test_web_cert_if_needed_keeps_a_good_certificate_and_remakes_a_bad_one(
    office: tuple[Path, BrokerFiles], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    conf, files = office
    assert web_cert(conf, files) == 0
    assert capsys.readouterr().out.startswith("a new web certificate: ")
    assert files.web_key.stat().st_mode & 0o777 == 0o600
    assert "IP Address:192.168.1.10" in openssl("x509", "-in", str(files.web_cert), "-noout",
                                                "-ext", "subjectAltName")  # fmt: skip
    stamp = (files.web_cert.stat().st_mtime_ns, files.web_key.stat().st_mtime_ns)
    assert web_cert(conf, files) == 0
    assert capsys.readouterr().out.startswith("kept the web certificate")
    assert (files.web_cert.stat().st_mtime_ns, files.web_key.stat().st_mtime_ns) == stamp

    def remade(why: str) -> None:
        assert web_cert(conf, files) == 0
        out = capsys.readouterr().out
        assert why in out, out
        assert web_cert(conf, files) == 0
        assert capsys.readouterr().out.startswith("kept")

    files.web_key.chmod(0o644)
    remade("must be root's alone (mode 600)")
    other = BrokerFiles(tmp_path / "other")
    init(example_config(tmp_path), other, InitOptions(names=["hub.local"], ips=["192.168.1.10"]))
    assert main(["broker", "web-cert", "--config", str(conf), "--out", str(other.dir)]) == 0
    os.replace(other.web_cert, files.web_cert)
    os.replace(other.web_key, files.web_key)
    remade("is not signed by the office CA")
    expiring(files)
    remade("has expired or ends within 30 days")
    conf.write_text(conf.read_text().replace("192.168.1.10:8080", "192.168.1.20:8080"))
    remade("is not valid for 192.168.1.20")  # the QR's address moved
    files.web_cert.unlink()
    remade("web.crt is missing")


def expiring(files: BrokerFiles) -> None:
    """A web certificate signed by the office CA that ends in 10 days."""
    csr = files.dir / "web.csr"
    openssl("req", "-new", "-key", str(files.web_key), "-subj", "/CN=hub", "-out", str(csr))
    ca = ["-CA", str(files.ca_cert), "-CAkey", str(files.ca_key), "-set_serial", "7"]
    openssl("x509", "-req", "-in", str(csr), *ca, "-days", "10", "-out", str(files.web_cert))
    csr.unlink()


def test_doctor_checks_the_webs_certificate(
    office: tuple[Path, BrokerFiles], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    conf, files = office
    assert main(["broker", "web-config", "--config", str(conf), "--out", str(files.dir)]) == 0
    conf.write_text(capsys.readouterr().out)
    assert f'tls_cert = "{files.web_cert}"' in conf.read_text()
    assert load_config(conf).text == conf.read_text()
    doctor = Doctor(conf, role="hub")
    doctor.check_config()
    missing = doctor.check_web_cert()
    assert missing is not None
    assert (missing.status, f"{files.web_cert} is missing") == ("FAIL", missing.detail)
    assert "web-cert" in missing.fix
    assert web_cert(conf, files) == 0
    good = doctor.check_web_cert()
    assert good is not None
    assert (good.status, good.name) == ("OK", "web"), good.detail
    # The web runs as nobody here: a key only root reads is a failure.
    nobody = Doctor(conf, role="hub", user="nobody")
    nobody.check_config()
    unreadable = nobody.check_web_cert()
    assert unreadable is not None
    assert (unreadable.status, unreadable.detail) == ("FAIL", f"nobody cannot read {files.web_key}")
    expiring(files)
    old = doctor.check_web_cert()
    assert old is not None
    assert "has expired or ends within 30 days" in old.detail
    # A display unit has the same config but no web: nothing to check there.
    display = Doctor(conf, role="display")
    display.check_config()
    assert display.check_web_cert() is None
