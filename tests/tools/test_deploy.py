"""Provisioning files: shellcheck, systemd-analyze verify, idempotency, bad input.

provision.sh runs here with `--root DIR`: it writes the config, units, drop-ins
and udev rule under DIR and enables units offline (systemctl --root), which is
what the full run inside a Debian root (`make test-provision`) also does, minus
packages, user and virtualenv.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from antrean.store import Store
from antrean_tools.broker import enroll
from antrean_tools.broker.files import BrokerFiles
from antrean_tools.broker.provision import InitOptions, init
from antrean_tools.doctor import read_unit
from tests.support.helpers import ROOT, example_config, example_text

DEPLOY = ROOT / "deploy" / "raspberrypi"
PROVISION = DEPLOY / "provision.sh"
UNITS = sorted(p.name for p in (DEPLOY / "systemd").glob("*.service"))
PI_STORE = 'path = "/var/lib/antrean/antrean.db"'
PI_CLIPS = 'clips = "/var/lib/antrean/voice"'
PI_WEB = {
    'users = "var/web-users.db"': 'users = "/var/lib/antrean/web-users.db"',
    'session_secret = "var/web-secret"': 'session_secret = "/var/lib/antrean/web-secret"',
}
WANTS = "etc/systemd/system/multi-user.target.wants"


def shell_scripts() -> list[Path]:
    """Every shell script we ship or run: by extension or by shebang."""
    found = []
    for folder in (ROOT / "deploy", ROOT / "scripts"):
        for p in sorted(folder.rglob("*")):
            if p.is_file() and (
                p.suffix == ".sh" or p.read_bytes()[:20].startswith(b"#!/usr/bin/env bash")
            ):
                found.append(p)
    return found


def office_toml(tmp_path: Path, edit: dict[str, str] | None = None) -> Path:
    path = tmp_path / "office.toml"
    pi = {'path = "var/antrean.db"': PI_STORE, 'clips = "var/voice"': PI_CLIPS, **PI_WEB}
    text = example_text(edit={**pi, **(edit or {})})
    path.write_text(text, encoding="utf-8")
    return path


def provision(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # The target root has no virtualenv; the checker is this venv's antrean.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    return subprocess.run(
        [str(PROVISION), "--root", str(root), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def tree(root: Path) -> dict[str, str]:
    """Every path under root with its kind, mode, mtime and content hash (or link target)."""
    listing = {}
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        rel = str(p.relative_to(root))
        if p.is_symlink():
            listing[rel] = f"link {os.readlink(p)}"
        elif p.is_dir():
            listing[rel] = f"dir {st.st_mode:o}"
        else:
            digest = hashlib.sha256(p.read_bytes()).hexdigest()
            listing[rel] = f"file {st.st_mode:o} {st.st_mtime_ns} {digest}"
    return listing


def enabled(root: Path) -> list[str]:
    wants = root / WANTS
    return sorted(p.name for p in wants.iterdir()) if wants.exists() else []


@pytest.mark.parametrize("script", shell_scripts(), ids=lambda p: str(p.relative_to(ROOT)))
def test_shellcheck(script: Path) -> None:
    result = subprocess.run(
        ["shellcheck", "-x", "--severity=style", str(script)],
        capture_output=True,
        text=True,
        cwd=script.parent,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_shellcheck_catches_a_real_mistake(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sh"
    bad.write_text("#!/usr/bin/env bash\nrm -rf $1/*\n", encoding="utf-8")
    result = subprocess.run(["shellcheck", str(bad)], capture_output=True, text=True, check=False)
    assert result.returncode != 0
    assert "SC2086" in result.stdout


@pytest.mark.parametrize(
    ("role", "extra", "units"),
    [
        ("hub", [], ["antrean-kiosk.service", "antrean-queue.service", "antrean-web.service"]),
        ("display", [], ["antrean-board.service"]),
        ("counter", ["--counter", "3"], ["antrean-counter@3.service"]),
        (
            "portable",
            ["--counter", "1"],
            [
                "antrean-counter@1.service",
                "antrean-kiosk.service",
                "antrean-queue.service",
                "antrean-web.service",
            ],
        ),
    ],
)
def test_each_role_writes_its_files_and_a_second_run_changes_nothing(
    tmp_path: Path, role: str, extra: list[str], units: list[str]
) -> None:
    root = tmp_path / "root"
    config = office_toml(tmp_path)
    first = provision(root, "--role", role, "--config", str(config), *extra)
    assert first.returncode == 0, first.stderr
    assert enabled(root) == units
    installed = root / "etc/antrean/antrean.toml"
    assert installed.read_bytes() == config.read_bytes()
    assert oct(installed.stat().st_mode & 0o777) == "0o640"  # holds the broker password
    # What doctor reads to know which hardware this unit needs.
    counter = int(extra[1]) if extra else 0
    assert read_unit(root / "etc/antrean/unit.toml") == (role, counter)
    for unit in UNITS:
        assert (root / "etc/systemd/system" / unit).read_bytes() == (
            DEPLOY / "systemd" / unit
        ).read_bytes()
    assert (root / "etc/systemd/journald.conf.d/antrean.conf").exists()
    assert (
        "RuntimeWatchdogSec=15"
        in (root / "etc/systemd/system.conf.d/antrean-watchdog.conf").read_text()
    )
    printer_rule = root / "etc/udev/rules.d/99-antrean-printer.rules"
    assert printer_rule.exists() == (role in ("hub", "portable"))

    before = tree(root)
    second = provision(root, "--role", role, "--config", str(config), *extra)
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip().endswith("done: nothing to change"), second.stdout
    assert tree(root) == before


def test_a_pi_that_changes_role_drops_the_old_units(tmp_path: Path) -> None:
    root = tmp_path / "root"
    config = str(office_toml(tmp_path))
    assert (
        provision(root, "--role", "portable", "--counter", "2", "--config", config).returncode == 0
    )
    assert provision(root, "--role", "display", "--config", config).returncode == 0
    assert enabled(root) == ["antrean-board.service"]


def verify_root(tmp_path: Path) -> Path:
    """A provisioned root that systemd-analyze can load units from."""
    root = tmp_path / "root"
    result = provision(
        root, "--role", "portable", "--counter", "4", "--config", str(office_toml(tmp_path))
    )
    assert result.returncode == 0, result.stderr
    # The targets and services ours depend on, and the binaries they start.
    # systemd-time-wait-sync comes with systemd-timesyncd from Debian 13 on;
    # install-system-deps.sh installs it unless another time daemon is there.
    wait_sync = "/usr/lib/systemd/systemd-time-wait-sync"
    if not Path(wait_sync).exists():
        pytest.skip(f"no {wait_sync} here (package systemd-timesyncd, or systemd before Debian 13)")
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    for binary in ("/usr/bin/timeout", wait_sync):
        (root / binary[1:]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(binary, root / binary[1:])
    app = root / "opt/antrean/venv/bin/antrean"
    app.parent.mkdir(parents=True)
    shutil.copy2(Path(sys.executable).parent / "antrean", app)  # the real entry script
    return root


def analyze_verify(root: Path, unit: str) -> str:
    # --man=no: Documentation=man:... is looked up with this machine's man(1),
    # which says nothing about the unit (and needs man-db installed).
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", f"--root={root}", unit],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return f"rc={result.returncode} {result.stdout}{result.stderr}".strip()


def test_systemd_analyze_verify_every_unit(tmp_path: Path) -> None:
    root = verify_root(tmp_path)
    names = [u.replace("@.", "@4.") for u in UNITS] + ["systemd-time-wait-sync.service"]
    assert names == [
        "antrean-board.service",
        "antrean-counter@4.service",
        "antrean-kiosk.service",
        "antrean-queue.service",
        "antrean-web.service",
        "systemd-time-wait-sync.service",
    ]
    for unit in names:
        assert analyze_verify(root, unit) == "rc=0", unit


def test_systemd_analyze_verify_reports_a_broken_unit(tmp_path: Path) -> None:
    root = verify_root(tmp_path)
    unit = root / "etc/systemd/system/antrean-queue.service"
    lines = unit.read_text().splitlines(keepends=True)
    line = lines.index("Restart=on-failure\n") + 1
    lines[line - 1] = "Restart=sometimes\n"
    unit.write_text("".join(lines))
    # The file, the line and the bad value, in systemd 252's words ("Failed to
    # parse service restart specifier, ignoring: sometimes") or 257's ("Failed
    # to parse Restart=sometimes, ignoring: Invalid argument").
    found = re.search(
        rf"antrean-queue\.service:{line}: Failed to parse .*\bsometimes\b",
        analyze_verify(root, "antrean-queue.service"),
    )
    assert found, analyze_verify(root, "antrean-queue.service")


@pytest.mark.parametrize(
    ("args", "edit", "message"),
    [
        (["--role", "kiosk"], {}, "--role must be hub, display, counter or portable, got 'kiosk'"),
        (["--role", "counter"], {}, "--counter N is required for a counter unit"),
        (["--role", "counter", "--counter", "x1"], {}, "--counter must be a counter number"),
        (["--role", "counter", "--counter", "9"], {}, "has no [[counter]] with number = 9"),
        (
            ["--role", "hub"],
            {"daily_quota = 120": "daily_quota = -5"},
            "service[0].daily_quota: must be a whole number from 1 to 9999, got -5",
        ),
        (
            ["--role", "hub"],
            {PI_STORE: 'path = "var/antrean.db"'},
            'set path = "/var/lib/antrean/antrean.db"',
        ),
        (
            ["--role", "display"],
            {PI_CLIPS: 'clips = "/home/pi/voice"'},
            '[voice] clips is /home/pi/voice; on a Pi set clips = "/var/lib/antrean/voice"',
        ),
        (["--role", "hub", "--bundle", "/nonexistent.tar.gz"], {}, "--bundle: no such file"),
    ],
)
def test_bad_input_is_refused_before_anything_is_written(
    tmp_path: Path, args: list[str], edit: dict[str, str], message: str
) -> None:
    root = tmp_path / "root"
    config = office_toml(tmp_path)
    if edit:
        text = config.read_text()
        for old, new in edit.items():
            text = text.replace(old, new)
        config.write_text(text)
    result = provision(root, *args, "--config", str(config))
    assert result.returncode != 0
    assert message in result.stderr, result.stderr
    assert not root.exists() or tree(root) == {}


def test_cloud_init_user_data_resumes_and_leaves_no_plain_password(tmp_path: Path) -> None:
    yaml = pytest.importorskip("yaml")  # comes with python-escpos in the test extra
    path = DEPLOY / "cloud-init" / "user-data"
    text = path.read_text()
    assert text.startswith("#cloud-config\n")
    data = yaml.safe_load(text)
    # A hashed password that must be changed at the first login; SSH by key only.
    assert "plain_text_passwd" not in text
    assert data["chpasswd"]["expire"] is True
    assert data["chpasswd"]["users"] == [
        {"name": "teknisi", "type": "hash", "password": data["chpasswd"]["users"][0]["password"]}
    ]
    assert data["chpasswd"]["users"][0]["password"].startswith("$6$")
    assert data["ssh_pwauth"] is False
    assert data["users"][0]["ssh_authorized_keys"]
    # Provisioning is a service that runs at every boot until its marker exists,
    # not a runcmd (which cloud-init marks done before it runs).
    files = {f["path"]: f["content"] for f in data["write_files"]}
    script = files["/usr/local/sbin/antrean-firstboot"]
    unit = files["/etc/systemd/system/antrean-firstboot.service"]
    assert script == (DEPLOY / "firstboot.sh").read_text()
    assert unit == (DEPLOY / "files" / "antrean-firstboot.service").read_text()
    assert "ConditionPathExists=!/var/lib/antrean/.provisioned" in unit
    assert ["systemctl", "enable", "antrean-firstboot.service"] in data["runcmd"]
    lines = script.splitlines()
    marker = lines.index('touch "$marker" && sync')
    assert marker > next(i for i, x in enumerate(lines) if "provision.sh" in x and "args" in x)
    assert lines.index("dpkg --configure -a") < marker
    assert "sort -V" in script  # 0.10.0 is newer than 0.9.0
    assert "power_state" not in data  # the script reboots once it is done


def test_an_option_without_its_value(tmp_path: Path) -> None:
    config = str(office_toml(tmp_path))
    result = provision(tmp_path / "root", "--config", config, "--role")
    assert result.returncode != 0
    assert result.stderr == "ERROR: --role needs a value (see --help)\n"


UNIT_BROKER = (
    '[broker]\nhost = "antrean-hub.local"\nport = 8883\n'
    'tls_ca = "/etc/antrean/broker/ca.crt"\n'
    'password_file = "/etc/antrean/broker/clients/{user}.password"\n'
)


def test_a_display_unit_gets_its_login_from_the_enrollment_file(tmp_path: Path) -> None:
    hub = BrokerFiles(tmp_path / "hub")
    init(example_config(tmp_path), hub, InitOptions(names=["antrean-hub.local"]))
    enrollment = hub.enrollment("board-1")
    config = office_toml(tmp_path, {'[broker]\nhost = "127.0.0.1"\nport = 1883\n': UNIT_BROKER})
    root = tmp_path / "root"
    without = provision(root, "--role", "display", "--config", str(config))
    assert without.returncode == 0, without.stderr  # --root: a warning, on a Pi an error
    assert "cannot log in to the broker yet" in without.stderr
    assert "the office CA (tls_ca): /etc/antrean/broker/ca.crt" in without.stderr

    first = provision(
        root, "--role", "display", "--config", str(config), "--enroll", str(enrollment)
    )
    assert first.returncode == 0, first.stderr
    assert "cannot log in" not in first.stderr
    password = root / "etc/antrean/broker/clients/board-1.password"
    assert password.read_text().strip() == enroll.parse(enrollment).password
    assert oct(password.stat().st_mode & 0o777) == "0o640"
    assert (root / "etc/antrean/broker/ca.crt").read_text() == hub.ca_cert.read_text()
    before = tree(root)
    again = provision(
        root, "--role", "display", "--config", str(config), "--enroll", str(enrollment)
    )
    assert again.stdout.strip().endswith("done: nothing to change"), again.stdout
    assert tree(root) == before


def fake_version(root: Path, version: str) -> None:
    """A version's venv as 30-app.sh leaves it: its python, its antrean, the stamp last."""
    venv = root / "opt/antrean/venvs" / version
    (venv / "bin").mkdir(parents=True)
    (venv / "bin/python").symlink_to(sys.executable)
    app = venv / "bin/antrean"
    app.write_text(f'#!/bin/sh\nexec {sys.executable} -m antrean_tools.cli "$@"\n')
    app.chmod(0o755)
    (venv / ".antrean-stamp").write_text("built\n")


def venvs(root: Path, script: str) -> subprocess.CompletedProcess[str]:
    """Runs venvs.sh's functions against the prefix `root`, as provision.sh sources it."""
    prelude = f'set -euo pipefail; say() {{ echo "$*"; }}; R={root}; CHANGED=()'
    return subprocess.run(
        ["bash", "-c", f"{prelude}; . {DEPLOY}/venvs.sh; {script}"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
    )


def test_versions_sort_as_versions_and_the_link_switches(tmp_path: Path) -> None:
    root = tmp_path / "root"
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for v in ("0.1.0", "0.2.0", "0.9.0", "0.10.0"):
        fake_version(root, v)
        (wheels / f"antrean-{v}-py3-none-any.whl").touch()
    newest = venvs(root, f"newest_wheel {wheels}").stdout.strip()
    assert newest == f"{wheels}/antrean-0.10.0-py3-none-any.whl"  # not 0.2.0, not 0.9.0
    assert venvs(root, "installed_versions").stdout.split() == ["0.1.0", "0.2.0", "0.9.0", "0.10.0"]
    (root / "opt/antrean/venvs/0.2.0/.antrean-stamp").unlink()  # cut short: not a version
    out = venvs(root, "switch_to 0.10.0; previous_version; prune_versions").stdout.splitlines()
    assert out[0] == "now using antrean 0.10.0 (/opt/antrean/venv -> venvs/0.10.0)"
    assert out[1] == "0.9.0"
    assert os.readlink(root / "opt/antrean/venv") == "venvs/0.10.0"
    assert out[2:] == []  # three complete versions: all kept
    fake_version(root, "0.11.0")
    assert venvs(root, "prune_versions").stdout == "removed the old antrean 0.1.0\n"


def test_rollback_switches_back_unless_the_store_is_too_new(tmp_path: Path) -> None:
    root = tmp_path / "root"
    for v in ("0.9.0", "0.10.0"):
        fake_version(root, v)
    venvs(root, "switch_to 0.10.0")
    (root / "etc/antrean").mkdir(parents=True)
    (root / "etc/antrean/antrean.toml").write_bytes(office_toml(tmp_path).read_bytes())
    (root / "etc/antrean/unit.toml").write_text('role = "hub"\ncounter = 0\n')
    store = Store(root / "var/lib/antrean/antrean.db")
    known = store.schema_version
    store.close()

    back = provision(root, "--rollback")
    assert back.returncode == 0, back.stderr
    assert "rolled back from antrean 0.10.0 to 0.9.0" in back.stdout
    assert os.readlink(root / "opt/antrean/venv") == "venvs/0.9.0"

    # 0.10.0 again, and its (newer) migration ran: 0.9.0 could not open the store.
    venvs(root, "switch_to 0.10.0")
    db = sqlite3.connect(root / "var/lib/antrean/antrean.db")
    db.execute(f"PRAGMA user_version = {known + 1}")
    db.close()
    refused = provision(root, "--rollback")
    assert refused.returncode == 1
    assert (
        f"not rolled back: the store /var/lib/antrean/antrean.db has schema version {known + 1}; "
        f"antrean 0.9.0 knows only {known}" in refused.stderr
    )
    assert os.readlink(root / "opt/antrean/venv") == "venvs/0.10.0"  # nothing changed


def test_the_hub_runs_the_office_web_and_says_how_to_make_its_first_user(tmp_path: Path) -> None:
    root = tmp_path / "root"
    result = provision(root, "--role", "hub", "--config", str(office_toml(tmp_path)))
    assert result.returncode == 0, result.stderr
    assert "antrean-web.service" in enabled(root)
    assert "sudo -u antrean antrean web adduser NAME --role petugas" in result.stdout
    # Its accounts beside the config (in /etc, read-only to it): it would fail in a loop.
    config = office_toml(tmp_path)
    text = config.read_text().replace(
        PI_WEB['users = "var/web-users.db"'], 'users = "var/web-users.db"'
    )
    config.write_text(text)
    other = tmp_path / "other"
    refused = provision(other, "--role", "portable", "--config", str(config))
    assert refused.returncode == 1
    assert (
        "[web] users is 'var/web-users.db'; on a Pi set users = \"/var/lib/antrean/web-users.db\""
        in refused.stderr
    )
    assert not other.exists()
