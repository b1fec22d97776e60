"""The offline kit (deploy/raspberrypi/kit.sh, packages.sh): provision.sh checks
every file against SHA256SUMS before it writes anything, each role takes only
its own folder of .debs, and the guide lists the packages steps/10-packages.sh
installs. Real .deb files (dpkg-deb), real sha256sum, the real provision.sh."""

from __future__ import annotations

import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.support.helpers import ROOT
from tests.tools.test_deploy import DEPLOY, office_toml, provision

ROLES = ("hub", "portable", "display", "counter")


def bash(script: str, root: Path | None = None) -> str:
    """Runs script with packages.sh and kit.sh sourced (R: the target root), in
    provision.sh's shell options: an unchecked failure ends it there too."""
    prelude = f'set -euo pipefail; R="{root or ""}"; die() {{ echo "ERROR: $*" >&2; exit 1; }}; '
    prelude += f'. "{DEPLOY}/packages.sh"; . "{DEPLOY}/kit.sh"; '
    result = subprocess.run(
        ["bash", "-c", prelude + script], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def make_deb(folder: Path, package: str, version: str) -> Path:
    if shutil.which("dpkg-deb") is None:
        pytest.skip("no dpkg-deb here")
    src = folder.parent / f"src-{package}-{version}"
    (src / "DEBIAN").mkdir(parents=True)
    (src / "DEBIAN/control").write_text(
        f"Package: {package}\nVersion: {version}\nArchitecture: all\n"
        "Maintainer: Antrean tests <tests@example.invalid>\nDescription: a test package\n"
    )
    folder.mkdir(parents=True, exist_ok=True)
    deb = folder / f"{package}_{version}_all.deb"
    subprocess.run(
        ["dpkg-deb", "--root-owner-group", "--build", str(src), str(deb)],
        check=True,
        capture_output=True,
    )
    return deb


def write_sums(folder: Path) -> None:
    """SHA256SUMS over every file in folder, as build-bundle.sh and build-kit.sh write it."""
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    sums = subprocess.run(
        ["sha256sum", *files], cwd=folder, capture_output=True, text=True, check=True
    ).stdout
    (folder / "SHA256SUMS").write_text(sums)


def make_bundle(tmp_path: Path, damage: bool = False) -> Path:
    """A bundle's stage: wheels/ and a provision.sh, with its SHA256SUMS."""
    stage = tmp_path / "antrean-bundle-0.1.0-x86_64"
    (stage / "wheels").mkdir(parents=True)
    script = stage / "deploy/raspberrypi/provision.sh"
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/sh\necho provision.sh ran\n")
    script.chmod(0o755)
    write_sums(stage)
    if damage:  # a bit flipped after it was built (a bad copy, a worn card)
        script.write_text("#!/bin/sh\necho provision.sh ran?\n")
    return stage


def make_kit(tmp_path: Path, damage_bundle: bool = False) -> Path:
    kit = tmp_path / "antrean-kit-0.1.0-x86_64"
    stage = make_bundle(tmp_path, damage=damage_bundle)
    kit.mkdir()
    with tarfile.open(kit / f"{stage.name}.tar.gz", "w:gz") as tar:
        tar.add(stage, arcname=stage.name)
    for role in ROLES:
        make_deb(kit / "debs" / role, f"antrean-test-{role}", "1.0")
    (kit / "kit.txt").write_text('version = "0.1.0-x86_64"\ndebian = "12"\narch = "amd64"\n')
    write_sums(kit)
    return kit


def provision_kit(tmp_path: Path, kit: Path) -> subprocess.CompletedProcess[str]:
    config = str(office_toml(tmp_path))
    return provision(tmp_path / "root", "--role", "hub", "--config", config, "--kit", str(kit))


def test_a_whole_kit_is_accepted(tmp_path: Path) -> None:
    result = provision_kit(tmp_path, make_kit(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "checking the kit" in result.stdout


def test_a_changed_package_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    kit = make_kit(tmp_path)
    deb = kit / "debs/hub/antrean-test-hub_1.0_all.deb"
    deb.write_bytes(deb.read_bytes() + b"\0")
    result = provision_kit(tmp_path, kit)
    assert result.returncode == 1
    assert "damaged or was changed, nothing was installed" in result.stderr
    assert "debs/hub/antrean-test-hub_1.0_all.deb: FAILED" in result.stderr
    assert not (tmp_path / "root").exists()


def test_a_package_added_to_the_kit_is_refused(tmp_path: Path) -> None:
    kit = make_kit(tmp_path)
    make_deb(kit / "debs/hub", "antrean-test-extra", "1.0")
    result = provision_kit(tmp_path, kit)
    assert result.returncode == 1
    assert "not in its SHA256SUMS: debs/hub/antrean-test-extra_1.0_all.deb" in result.stderr
    assert not (tmp_path / "root").exists()


def test_a_role_folder_is_an_apt_source_of_its_debs_only(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    bash(f'kit_index "{empty}"')
    assert (empty / "Packages").read_text() == ""  # not a literal "*.deb"
    folder = tmp_path / "debs"
    make_deb(folder, "antrean-test-absent", "1.0")
    make_deb(folder, "antrean-test-other", "2.0")
    bash(f'kit_index "{folder}"')
    index = (folder / "Packages").read_text()
    assert "Filename: ./antrean-test-absent_1.0_all.deb\nSize: " in index
    # apt itself, with that folder as its only source, as step 10 sets it up.
    if shutil.which("apt-get") is None:
        pytest.skip("no apt here")
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources/kit.list").write_text(f"deb [trusted=yes] file:{folder} ./\n")
    (tmp_path / "lists/partial").mkdir(parents=True)
    (tmp_path / "cache/archives/partial").mkdir(parents=True)
    opts = [
        "-o",
        "Dir::Etc::SourceList=/dev/null",
        "-o",
        f"Dir::Etc::SourceParts={tmp_path}/sources",
    ]
    opts += ["-o", f"Dir::State::Lists={tmp_path}/lists", "-o", f"Dir::Cache={tmp_path}/cache"]
    subprocess.run(["apt-get", *opts, "update", "-q"], check=True, capture_output=True)
    policy = subprocess.run(
        ["apt-cache", *opts, "policy", "antrean-test-absent", "bash"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "Candidate: 1.0" in policy
    assert f"file:{folder} ./ Packages" in policy
    assert "deb.debian.org" not in policy  # this machine's own sources are not asked


def guide_packages() -> dict[str, list[str]]:
    text = (ROOT / "docs/provisioning.md").read_text(encoding="utf-8")
    rows = re.findall(r"^ *\| ([^|]+) \| ((?:`[^`]+` ?)+) \|$", text, flags=re.M)
    return {role.strip(): re.findall(r"`([^`]+)`", names) for role, names in rows}


@pytest.mark.parametrize(("release", "mtdev"), [("12", "libmtdev1"), ("13", "libmtdev1t64")])
def test_the_guide_lists_what_step_10_installs(tmp_path: Path, release: str, mtdev: str) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/os-release").write_text(f'ID=debian\nVERSION_ID="{release}"\n')
    guide = guide_packages()

    def listed(role: str, *extra: str) -> list[str]:
        return bash(f"role_packages {role} {' '.join(extra)}", tmp_path).split()

    for role in ROLES:
        row = [mtdev if p == "libmtdev1\\|libmtdev1t64" else p for p in guide[f"`{role}`"]]
        assert row == listed(role), role
    assert guide["with `--counter N`"] == listed("hub", "1")[len(listed("hub")) :]
    assert guide["with `--read-only-root`"] == ["raspi-config"]
    assert listed("display", "''", "1")[-1] == "raspi-config"


def test_a_bundle_with_a_changed_file_is_refused(tmp_path: Path) -> None:
    config = str(office_toml(tmp_path))
    stage = make_bundle(tmp_path, damage=True)
    args = ("--role", "hub", "--config", config, "--bundle", str(stage))
    result = provision(tmp_path / "root", *args)
    assert result.returncode == 1
    assert "the bundle in" in result.stderr
    assert "damaged or was changed" in result.stderr
    assert "deploy/raspberrypi/provision.sh: FAILED" in result.stderr
    assert not (tmp_path / "root").exists()


def test_update_from_a_kit_checks_the_kit_first(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc/antrean").mkdir(parents=True)
    (root / "etc/antrean/unit.toml").write_text('role = "hub"\n')
    shutil.copy(office_toml(tmp_path), root / "etc/antrean/antrean.toml")
    kit = make_kit(tmp_path)
    deb = kit / "debs/hub/antrean-test-hub_1.0_all.deb"
    deb.write_bytes(deb.read_bytes() + b"\0")
    before = sorted(root.rglob("*"))
    result = provision(root, "--update", str(kit))
    assert result.returncode == 1
    assert "the kit in" in result.stderr, result.stderr
    assert "debs/hub/antrean-test-hub_1.0_all.deb: FAILED" in result.stderr
    assert sorted(root.rglob("*")) == before


def firstboot(root: Path) -> tuple[int, str]:
    """firstboot.sh as antrean-firstboot.service runs it, with its paths under root."""
    env = {"PATH": "/usr/bin:/bin", "ANTREAN_FIRSTBOOT_ROOT": str(root)}
    script = [str(DEPLOY / "firstboot.sh"), "hub"]
    result = subprocess.run(script, env=env, capture_output=True, text=True, check=False)
    return result.returncode, (root / "var/log/antrean-provision.log").read_text()


def test_firstboot_refuses_a_damaged_kit_before_it_unpacks_anything(tmp_path: Path) -> None:
    boot = tmp_path / "root/boot/firmware/antrean"
    boot.mkdir(parents=True)
    kit = make_kit(boot)
    deb = kit / "debs/counter/antrean-test-counter_1.0_all.deb"
    deb.write_bytes(deb.read_bytes()[:-1])
    code, log = firstboot(tmp_path / "root")
    assert code == 1
    assert f"ERROR: the kit {kit} is damaged or was changed, nothing was installed" in log
    assert "debs/counter/antrean-test-counter_1.0_all.deb: FAILED" in log
    assert not (tmp_path / "root/opt").exists()
    assert not (tmp_path / "root/var/lib/antrean/.provisioned").exists()


@pytest.mark.parametrize("in_kit", [True, False])
def test_firstboot_refuses_a_bundle_whose_files_do_not_match(tmp_path: Path, in_kit: bool) -> None:
    boot = tmp_path / "root/boot/firmware/antrean"
    boot.mkdir(parents=True)
    if in_kit:  # the kit's own sums are right: the bundle was damaged before it was packed
        make_kit(boot, damage_bundle=True)
    else:
        stage = make_bundle(tmp_path, damage=True)
        with tarfile.open(boot / f"{stage.name}.tar.gz", "w:gz") as tar:
            tar.add(stage, arcname=stage.name)
    code, log = firstboot(tmp_path / "root")
    assert code == 1
    assert "ERROR: the bundle " in log
    assert "deploy/raspberrypi/provision.sh: FAILED" in log
    assert "provision.sh ran" not in log
    assert list((tmp_path / "root/opt/antrean").iterdir()) == []  # not even the copy aside
