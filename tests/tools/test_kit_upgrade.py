"""A kit of a newer release upgrades the role's installed packages that it has
newer versions of (steps/10-packages.sh), from the kit only, and never
downgrades. The real step 10 with real apt and dpkg, pointed at a throwaway
root (APT_CONFIG, DPKG_ROOT): packages made by dpkg-deb, the host untouched."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.tools.test_deploy import DEPLOY
from tests.tools.test_kit import bash, make_deb

# What role_packages prints for a counter unit on Debian 12.
COUNTER = ("python3", "python3-venv", "ca-certificates", "fake-hwclock", "systemd-timesyncd")
COUNTER += ("python3-evdev", "python3-lgpio")

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("apt-get") is None, reason="needs root and apt (dpkg --root)"
)


def throwaway_root(tmp_path: Path) -> dict[str, str]:
    """An empty dpkg database and apt state under tmp_path/root; the environment
    that points apt, dpkg and dpkg-query there."""
    root = tmp_path / "root"
    for folder in ("var/lib/dpkg/info", "var/lib/dpkg/updates", "var/cache/apt/archives/partial"):
        (root / folder).mkdir(parents=True)
    for folder in ("var/lib/apt/lists/partial", "var/log/apt", "etc/apt/apt.conf.d"):
        (root / folder).mkdir(parents=True)
    (root / "etc/apt/preferences.d").mkdir()
    (root / "var/lib/dpkg/status").touch()
    conf = tmp_path / "apt.conf"
    conf.write_text(
        f'Dir "{root}/";\nDir::State::status "{root}/var/lib/dpkg/status";\n'
        f'DPkg::Options:: "--root={root}";\nDPkg::Options:: "--admindir={root}/var/lib/dpkg";\n'
        'APT::Sandbox::User "root";\n'
    )
    return {"APT_CONFIG": str(conf), "DPKG_ROOT": str(root)}


def kit_folder(tmp_path: Path, name: str, versions: dict[str, str]) -> Path:
    """A role's folder of a kit: one .deb a package and its index (kit_index)."""
    folder = tmp_path / name / "debs/counter"
    for package, version in versions.items():
        make_deb(folder, package, version)
    bash(f'kit_index "{folder}"')
    return folder


def step_10(folder: Path, env: dict[str, str]) -> str:
    """steps/10-packages.sh as provision.sh sources it for `--role counter --counter 2 --kit`."""
    script = "set -euo pipefail; "
    script += "".join(f'. "{DEPLOY}/{name}.sh"; ' for name in ("lib", "packages", "kit"))
    script += f'FILES_ONLY="" ROLE=counter COUNTER=2 READ_ONLY="" DEBS_DIR="{folder}" '
    script += f'TMP=$(mktemp -d) CHANGED=(); . "{DEPLOY}/steps/10-packages.sh"; '
    script += 'echo "changed: ${CHANGED[*]}"'
    result = subprocess.run(
        ["bash", "-c", script],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def installed(env: dict[str, str]) -> dict[str, str]:
    listing = subprocess.run(
        ["dpkg-query", "-W", "-f=${Package} ${Version}\\n"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(line.split(" ", 1) for line in listing.splitlines())


def test_a_newer_kit_upgrades_the_roles_installed_packages(tmp_path: Path) -> None:
    env = throwaway_root(tmp_path)
    host_before = subprocess.run(["dpkg-query", "-W"], capture_output=True, text=True, check=True)
    # A release without python3-lgpio (Debian 12): apt-cache is asked for it.
    first = kit_folder(tmp_path, "kit-0.1.0", dict.fromkeys(COUNTER[:-1], "1.0"))
    out = step_10(first, env)
    assert "installing Debian packages: " + " ".join(COUNTER[:-1]) + "\n" in out
    assert installed(env) == dict.fromkeys(COUNTER[:-1], "1.0")

    # The next release's kit: two packages newer, one older (never downgraded),
    # and python3-lgpio.
    versions = dict.fromkeys(COUNTER, "1.0") | {"python3-evdev": "1.2", "fake-hwclock": "0.9"}
    versions["python3-venv"] = "1.0+deb12u1"
    second = kit_folder(tmp_path, "kit-0.2.0", versions)
    out = step_10(second, env)
    assert "upgrading from the kit: python3-venv 1.0 -> 1.0+deb12u1" in out
    assert "upgrading from the kit: python3-evdev 1.0 -> 1.2" in out
    assert "installing Debian packages: python3-lgpio\n" in out
    assert "fake-hwclock" not in out
    assert "changed: packages" in out
    upgraded = {"python3-evdev": "1.2", "python3-venv": "1.0+deb12u1"}
    assert installed(env) == dict.fromkeys(COUNTER, "1.0") | upgraded
    # From the kit only: apt's lists are the kit's folder alone.
    assert "deb.debian.org" not in (tmp_path / "root/var/log/apt/term.log").read_text()

    assert step_10(second, env).strip() == "changed:"  # a second run: nothing to do
    # apt's cache stayed in the run's scratch folder, and apt-cache wrote none:
    # one left in /var/cache/apt was stale after the install, and the next
    # run rebuilt it (a change every run).
    assert list((tmp_path / "root/var/cache/apt").glob("*.bin")) == []
    host_after = subprocess.run(["dpkg-query", "-W"], capture_output=True, text=True, check=True)
    assert host_after.stdout == host_before.stdout
