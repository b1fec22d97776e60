"""The office's own certificate authority and the hub's server certificate, via `openssl`.

The `openssl` command is on every Debian and Raspberry Pi OS unit, so no
Python crypto library is needed. Keys are EC P-256: a TLS handshake is cheap
on a Pi, and every client (Python's ssl, Mosquitto's OpenSSL) supports it.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import re
import shutil
import socket
import subprocess
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from antrean_tools.broker.files import BrokerFiles, write_file

log = logging.getLogger(__name__)

# A Pi has no real-time clock: until it reaches a time server it runs on the
# time it last saved (fake-hwclock), which can be older than the day the hub
# made its certificates. Certificates that start in 2020 are valid anyway.
NOT_BEFORE = datetime(2020, 1, 1, tzinfo=UTC)
CA_YEARS = 20  # every device trusts the CA; replacing it means visiting every unit
SERVER_YEARS = 10  # renewed on the hub alone (`init --renew-server-cert`)


class CertError(RuntimeError):
    """openssl failed or is missing; the message says what to do."""


def openssl(*args: str, stdin: str | None = None) -> str:
    """Runs openssl and returns its stdout, or raises CertError with its message."""
    exe = shutil.which("openssl")
    if not exe:
        raise CertError("openssl is not installed: run scripts/install-system-deps.sh")
    done = subprocess.run([exe, *args], input=stdin, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise CertError(f"openssl {args[0]} failed: {done.stderr.strip()}")
    return done.stdout


def new_key() -> str:
    """A new EC P-256 private key, PEM (never written with wide permissions)."""
    return openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256")


def hub_names() -> tuple[list[str], list[str]]:
    """Names and addresses the hub answers to now: hostname, hostname.local, its IPs."""
    host = socket.gethostname()
    names = [host, f"{host}.local", "localhost"]
    ips = ["127.0.0.1", "::1"]
    # The address of the interface the default route uses; connect() on UDP
    # sends nothing. No route (an offline unit) leaves it out.
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("192.0.2.1", 9))
        ips.append(s.getsockname()[0])
    return names, ips


def check_ips(ips: list[str]) -> None:
    """Raises CertError for anything that is not an IPv4 or IPv6 address."""
    for ip in ips:
        try:
            ipaddress.ip_address(ip)
        except ValueError as exc:
            raise CertError(f"not an IP address: {ip!r}") from exc


def make_ca(files: BrokerFiles, office: str) -> None:
    """A new CA for the office: ca.key (0600) and ca.crt."""
    write_file(files.ca_key, new_key(), 0o600)
    with tempfile.TemporaryDirectory(prefix="antrean-ca-") as tmp:
        csr = Path(tmp) / "ca.csr"
        openssl("req", "-new", "-key", str(files.ca_key), "-subj", _subject(f"{office} CA"),
                "-out", str(csr))  # fmt: skip
        cert = _sign(Path(tmp), csr, files, "ca_ext", CA_YEARS, [], [], selfsign=True)
    write_file(files.ca_cert, cert, 0o644)
    log.info("made the office CA %s", files.ca_cert)


def make_server_cert(
    files: BrokerFiles,
    office: str,
    names: list[str],
    ips: list[str],
    owner: str | None,
    web: bool = False,
) -> None:
    """A server certificate signed by the office CA, for these names and IP addresses.

    The broker's (server.crt), or with `web` the office web's (web.crt): its
    own key, because server.key belongs to Mosquitto's user and the web runs
    as the apps' user.
    """
    if not names and not ips:
        raise CertError("the server certificate needs at least one name or address")
    check_ips(ips)
    key = new_key()
    with tempfile.TemporaryDirectory(prefix="antrean-ca-") as tmp:
        key_path = Path(tmp) / "server.key"
        write_file(key_path, key, 0o600)
        csr = Path(tmp) / "server.csr"
        cn = names[0] if names else ips[0]
        openssl("req", "-new", "-key", str(key_path), "-subj", _subject(f"{office} {cn}"),
                "-out", str(csr))  # fmt: skip
        cert = _sign(Path(tmp), csr, files, "server_ext", SERVER_YEARS, names, ips)
    cert_path, key_path = (
        (files.web_cert, files.web_key) if web else (files.server_cert, files.server_key)
    )
    write_file(key_path, key, 0o600, owner)  # only the server that uses it reads it
    write_file(cert_path, cert, 0o644)
    log.info("made the server certificate for %s", ", ".join(names + ips))


def describe(cert: Path) -> str:
    """Subject, validity and names of a certificate, as openssl prints them."""
    return openssl(
        "x509", "-in", str(cert), "-noout", "-subject", "-dates", "-ext", "subjectAltName"
    )


def cert_names(cert: Path) -> tuple[str, ...]:
    """The DNS names and IP addresses a certificate is valid for (its subjectAltName)."""
    text = openssl("x509", "-in", str(cert), "-noout", "-ext", "subjectAltName")
    found = re.findall(r"(?:DNS|IP Address):([^,\s]+)", text)
    return tuple(dict.fromkeys(found))


def _subject(cn: str) -> str:
    return f"/O=Antrean/CN={cn.replace('/', '-')}"


def _sign(
    tmp: Path,
    csr: Path,
    files: BrokerFiles,
    extensions: str,
    years: int,
    names: list[str],
    ips: list[str],
    selfsign: bool = False,
) -> str:
    # `openssl ca` (not `x509 -req`) because only it can set the start date.
    (tmp / "index.txt").write_text("")
    alt = [f"DNS.{i} = {n}" for i, n in enumerate(names, 1)]
    alt += [f"IP.{i} = {a}" for i, a in enumerate(ips, 1)]
    conf = tmp / "ca.cnf"
    conf.write_text(_CA_CONF.format(dir=tmp, alt="\n".join(alt) or "DNS.1 = localhost"))
    end = datetime.now(UTC) + timedelta(days=365 * years)
    out = tmp / "out.crt"
    args = ["ca", "-batch", "-config", str(conf), "-in", str(csr), "-out", str(out),
            "-keyfile", str(files.ca_key), "-extensions", extensions, "-notext",
            "-startdate", NOT_BEFORE.strftime("%Y%m%d%H%M%SZ"),
            "-enddate", end.strftime("%Y%m%d%H%M%SZ")]  # fmt: skip
    args += ["-selfsign"] if selfsign else ["-cert", str(files.ca_cert)]
    openssl(*args)
    return out.read_text()


_CA_CONF = """\
[ca]
default_ca = office
[office]
dir = {dir}
database = {dir}/index.txt
new_certs_dir = {dir}
rand_serial = yes
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
organizationName = optional
commonName = supplied
[ca_ext]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = @alt
[alt]
{alt}
"""
