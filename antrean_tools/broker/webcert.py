"""The office web's HTTPS certificate in provisioning: keep a good one, and the [web] lines.

`antrean broker web-cert --if-needed` (provisioning's step 60) makes web.crt
only when the one there is missing or would not serve: not signed by this
office's CA, expiring within RENEW_DAYS, not matching its key, its key not
the web user's alone, or not naming the address in the ticket's QR. A second
run of provisioning then changes nothing. `antrean doctor` asks the same
questions of the files the config names.

`antrean broker web-config` (step 40) prints the office config with
`tls_cert`/`tls_key` added to [web] when the web listens on the LAN without
them: such a config is refused (web/settings.py), and the technician should
not have to know the paths web-cert writes.
"""

from __future__ import annotations

import ipaddress
import os
import pwd
import re
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

from antrean_tools.broker.certs import CertError, cert_names, openssl
from antrean_tools.broker.logins import user_may

RENEW_DAYS = 30  # renewed this long before it ends: a phone warns on an expired one


def public_host(config_text: str) -> str | None:
    """The host of [web] public_url (what the ticket's QR and staff's browsers open)."""
    url = tomllib.loads(config_text).get("web", {}).get("public_url")
    return urlsplit(url).hostname if isinstance(url, str) else None


def cert_problems(
    cert: Path, key: Path, ca: Path, user: str, owner_only: bool, want: list[str]
) -> list[str]:
    """Why `cert`/`key` would not serve the office web; [] when they would.

    `owner_only`: the key must also be owned by `user` with mode 600 (what
    web-cert writes); otherwise it need only be readable by `user` (doctor).
    """
    for path in (cert, key):
        if not path.is_file():
            return [f"{path} is missing"]
    try:
        openssl("verify", "-CAfile", str(ca), str(cert))
    except CertError:
        return [f"{cert} is not signed by the office CA {ca}"]
    problems = []
    seconds = str(RENEW_DAYS * 86_400)
    try:
        openssl("x509", "-in", str(cert), "-noout", "-checkend", seconds)
    except CertError:
        problems.append(f"{cert} has expired or ends within {RENEW_DAYS} days")
    try:
        same = openssl("pkey", "-in", str(key), "-pubout") == openssl(
            "x509", "-in", str(cert), "-noout", "-pubkey"
        )
    except CertError:
        same = False
    if not same:
        problems.append(f"{key} is not the key of {cert}")
    problems += _key_access(key, user, owner_only)
    named = cert_names(cert)
    problems += [f"{cert} is not valid for {name}" for name in want if name not in named]
    return problems


def _key_access(key: Path, user: str, owner_only: bool) -> list[str]:
    if not owner_only:
        return [] if user_may(key, user, 4) else [f"{user} cannot read {key}"]
    st = key.stat()
    try:
        uid = pwd.getpwnam(user).pw_uid
    except KeyError:
        uid = os.geteuid()  # a machine without that user (tests): whoever runs it
    if st.st_uid != uid or st.st_mode & 0o777 != 0o600:
        return [f"{key} must be {user}'s alone (mode 600)"]
    return []


def with_web_tls(text: str, cert: Path, key: Path) -> str:
    """The config text with [web] tls_cert/tls_key when the web is on the LAN without them.

    Line-wise, so the technician's comments and layout stay; a public_url
    on http:// becomes https://, as settings.py then requires.
    """
    data = tomllib.loads(text)
    web = data.get("web")
    if not isinstance(web, dict) or web.get("tls_cert") or web.get("tls_key"):
        return text
    try:
        if ipaddress.ip_address(str(web.get("host", "127.0.0.1"))).is_loopback:
            return text
    except ValueError:
        return text  # not an address: check-config says so
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if re.match(r"\s*\[web\]\s*(#.*)?$", line))
    end = next(
        (i for i in range(start + 1, len(lines)) if re.match(r"\s*\[", lines[i])), len(lines)
    )
    for i in range(start + 1, end):
        lines[i] = re.sub(r'^(\s*public_url\s*=\s*")http://', r"\1https://", lines[i])
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1  # after the section's last line, before the blank line that ends it
    if end and not lines[end - 1].endswith("\n"):
        lines[end - 1] += "\n"
    added = (
        "# Added by provision.sh: HTTPS with the office CA (antrean broker web-cert)\n"
        f'tls_cert = "{cert}"\n'
        f'tls_key = "{key}"\n'
    )
    lines.insert(end, added)
    return "".join(lines)
