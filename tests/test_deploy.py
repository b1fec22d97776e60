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
import subprocess
import sys
from pathlib import Path

import pytest

from antrean.doctor import read_unit

from .helpers import ROOT, example_text

DEPLOY = ROOT / "deploy" / "raspberrypi"
PROVISION = DEPLOY / "provision.sh"
UNITS = sorted(p.name for p in (DEPLOY / "systemd").glob("*.service"))
PI_STORE = 'path = "/var/lib/antrean/antrean.db"'
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
    text = example_text(edit={'path = "var/antrean.db"': PI_STORE, **(edit or {})})
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
        ("hub", [], ["antrean-kiosk.service", "antrean-queue.service"]),
        ("display", [], ["antrean-board.service"]),
        ("counter", ["--counter", "3"], ["antrean-counter@3.service"]),
        (
            "portable",
            ["--counter", "1"],
            ["antrean-counter@1.service", "antrean-kiosk.service", "antrean-queue.service"],
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


def test_cloud_init_user_data_is_cloud_config_with_a_clean_script(tmp_path: Path) -> None:
    yaml = pytest.importorskip("yaml")  # comes with python-escpos in the test extra
    path = DEPLOY / "cloud-init" / "user-data"
    assert path.read_text().startswith("#cloud-config\n")
    data = yaml.safe_load(path.read_text())
    assert data["power_state"]["mode"] == "reboot"
    shell, flag, script = data["runcmd"][0]
    assert (shell, flag) == ("bash", "-c")
    assert "deploy/raspberrypi/provision.sh" in script
    assert "--bundle /opt/antrean/bundle" in script
    # The first-boot script is shell too: it gets the same lint.
    as_file = tmp_path / "runcmd.sh"
    as_file.write_text("#!/usr/bin/env bash\n" + script)
    result = subprocess.run(
        ["shellcheck", str(as_file)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout


def test_an_option_without_its_value(tmp_path: Path) -> None:
    config = str(office_toml(tmp_path))
    result = provision(tmp_path / "root", "--config", config, "--role")
    assert result.returncode != 0
    assert result.stderr == "ERROR: --role needs a value (see --help)\n"
