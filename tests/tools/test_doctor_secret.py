"""The office secret (issue 12): provisioning makes it (lib.sh put_secret), `antrean doctor`
checks it: there, mode 600, owned by the service's user, not empty, a whole key."""

from __future__ import annotations

import os
import pwd
import re
import subprocess
from pathlib import Path

import pytest

from antrean.booking import office_secret
from antrean.config import Config, parse_config
from antrean_tools.doctor_secret import check_secret, needs_secret
from tests.support.helpers import example_text
from tests.tools.test_deploy import DEPLOY, office_toml, provision

ME = pwd.getpwuid(os.getuid()).pw_name  # the service's user here: the one running the tests


def office(tmp_path: Path) -> Config:
    text = example_text(edit={"[kiosk]\n": "[booking]\ncapacity = { A = 2 }\n\n[kiosk]\n"})
    return parse_config(text, source=str(tmp_path / "antrean.toml"), base_dir=tmp_path)


def test_a_secret_made_as_the_service_makes_it_is_ok(tmp_path: Path) -> None:
    config = office(tmp_path)
    office_secret(config.booking.secret_file)
    result = check_secret(config, "hub", ME)
    assert (result.status, result.name) == ("OK", "secret")
    assert result.detail == (
        f"office secret {tmp_path / 'booking.secret'}: 256-bit key, mode 600, owner {ME}"
    )


def test_a_missing_secret_fails_on_a_hub_and_warns_on_a_laptop(tmp_path: Path) -> None:
    config = office(tmp_path)
    hub = check_secret(config, "hub", ME)
    assert (hub.status, hub.detail) == (
        "FAIL",
        f"kunci rahasia kantor tidak ada / the office secret {tmp_path}/booking.secret "
        "does not exist",
    )
    assert "provision.sh" in hub.fix
    assert check_secret(config, None, ME).status == "WARN"


@pytest.mark.parametrize(
    ("spoil", "detail", "fix"),
    [
        (lambda p: p.chmod(0o644),
         "kunci rahasia kantor bisa dibaca pengguna lain / the office secret {p} has mode 644, "
         "not 600 (whoever reads it can reverse the NIK hashes)", "sudo chmod 600 {p}"),
        (lambda p: p.write_text(""),
         "kunci rahasia kantor kosong / the office secret {p} is empty",
         "sudo rm {p}; then run provision.sh again on this unit (it makes the secret: mode 600, "
         "owner antrean)"),
        (lambda p: p.write_text("ab" * 20 + "\n"),
         "kunci rahasia kantor rusak / the office secret {p} is damaged (not 64 hex digits)",
         "restore it from the backup taken with the store; a new secret orphans every stored NIK "
         "hash (then: sudo rm it and run provision.sh again)"),
        (lambda p: os.chown(p, pwd.getpwnam("nobody").pw_uid, -1),
         "kunci rahasia kantor bukan milik {me} / the office secret {p} is owned by nobody, not "
         "{me}: the queue service cannot read it", "sudo chown {me}: {p}"),
    ],
    ids=["mode-0644", "empty", "short", "owner"],
)  # fmt: skip
def test_a_spoilt_secret_fails_with_what_is_wrong_and_the_fix(
    tmp_path: Path, spoil: object, detail: str, fix: str
) -> None:
    config = office(tmp_path)
    path = config.booking.secret_file
    office_secret(path)
    spoil(path)  # type: ignore[operator]
    result = check_secret(config, "hub", ME)
    assert (result.status, result.name) == ("FAIL", "secret")
    assert result.detail == detail.format(p=path, me=ME)
    assert result.fix == fix.format(p=path, me=ME)


def test_which_units_are_checked(tmp_path: Path) -> None:
    booking = office(tmp_path)
    plain = parse_config(example_text(), source="office.toml")
    assert [needs_secret(plain, role) for role in ("hub", "portable", "display", "counter")] == [
        True, True, False, False
    ]  # fmt: skip
    assert (needs_secret(plain, None), needs_secret(booking, None)) == (False, True)


def put_secret(root: Path, path: str) -> str:
    """provision.sh's put_secret, run alone on `root` as the Pi itself would (not --root)."""
    script = f'set -euo pipefail; R={root}; FILES_ONLY=""; CHANGED=(); . {DEPLOY}/lib.sh; '
    script += f'put_secret {path} "$(id -un):$(id -gn)"'
    done = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, check=True, timeout=30
    )
    return done.stdout.strip()


def test_provisioning_makes_the_secret_once_and_only_mends_who_may_read_it(
    tmp_path: Path,
) -> None:
    root = tmp_path / "root"
    said = put_secret(root, "/etc/antrean/booking.secret")
    path = root / "etc/antrean/booking.secret"
    assert said == (
        f"==> made the office secret /etc/antrean/booking.secret (mode 600, owner {ME}; "
        "back it up with the store)"
    )
    key = path.read_text()
    assert re.fullmatch(r"[0-9a-f]{64}\n", key)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    config = parse_config(
        example_text(edit={"[kiosk]\n": "[booking]\ncapacity = { A = 2 }\n\n[kiosk]\n"}),
        source=str(root / "etc/antrean/antrean.toml"),
        base_dir=root / "etc/antrean",
    )
    assert office_secret(path) == bytes.fromhex(key)  # the service reads it as it is
    assert check_secret(config, "hub", ME).status == "OK"

    assert put_secret(root, "/etc/antrean/booking.secret") == ""  # again: nothing changes
    assert path.read_text() == key
    path.chmod(0o644)
    os.chown(path, pwd.getpwnam("nobody").pw_uid, -1)
    said = put_secret(root, "/etc/antrean/booking.secret")
    assert said == f"==> set the office secret /etc/antrean/booking.secret to mode 600, owner {ME}"
    assert path.read_text() == key  # never a new key: it would orphan every stored hash
    assert check_secret(config, "hub", ME).status == "OK"
    path.write_text("")
    put_secret(root, "/etc/antrean/booking.secret")
    assert path.read_text() != key
    assert check_secret(config, "hub", ME).status == "OK"


def test_an_image_gets_no_secret_and_a_secret_outside_etc_or_var_lib_is_refused(
    tmp_path: Path,
) -> None:
    root = tmp_path / "root"
    made = provision(root, "--role", "hub", "--config", str(office_toml(tmp_path)))
    assert made.returncode == 0, made.stderr
    assert (root / "etc/antrean/antrean.toml").exists()
    assert not (root / "etc/antrean/booking.secret").exists()  # one image, many offices
    edit = {"[kiosk]\n": '[booking]\nsecret_file = "/home/pi/booking.secret"\n\n[kiosk]\n'}
    other = tmp_path / "other"
    refused = provision(other, "--role", "hub", "--config", str(office_toml(tmp_path, edit)))
    assert refused.returncode == 1
    assert (
        "[booking] secret_file is /home/pi/booking.secret; on a Pi leave it out "
        "(it is then /etc/antrean/booking.secret)" in refused.stderr
    )
    assert not other.exists()
