"""The read-only root (provision.sh --read-only-root; steps/45-data.sh): what
must outlive a reboot is on the antrean-data partition, mounted with nofail,
and the store is moved there before step 60 starts the services.

The files are the real provision.sh's (`--root`). The reboot is played with
real mounts in a private mount namespace: the provisioned tree as the lower
layer of an overlay with its upper layer in a throw-away folder (what
raspi-config's overlayfs does with RAM), a folder as the data partition, and
the fstab's bind lines mounted as systemd would mount them at boot.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.tools.test_deploy import DEPLOY, office_toml, provision

DATA = "/var/lib/antrean-data"
NAMESPACE = ["unshare", "--mount", "--propagation", "private"]


def provisioned(tmp_path: Path, role: str = "hub") -> Path:
    root = tmp_path / "root"
    config = str(office_toml(tmp_path))
    result = provision(root, "--role", role, "--config", config, "--read-only-root")
    assert result.returncode == 0, result.stderr
    return root


def fstab(root: Path) -> list[list[str]]:
    lines = (root / "etc/fstab").read_text().splitlines()
    return [x.split() for x in lines if x and not x.startswith("#")]


def test_the_data_partition_and_its_binds_are_nofail(tmp_path: Path) -> None:
    root = provisioned(tmp_path)
    lines = fstab(root)
    assert [x[:2] for x in lines] == [
        ["LABEL=antrean-data", DATA],
        [f"{DATA}/antrean", "/var/lib/antrean"],
        [f"{DATA}/journal", "/var/log/journal"],
        [f"{DATA}/etc", "/etc/antrean"],
    ]
    for line in lines:
        assert "nofail" in line[3].split(","), line
    for line in lines[1:]:
        assert f"x-systemd.requires-mounts-for={DATA}" in line[3].split(","), line
    assert os.readlink(root / "etc/fake-hwclock.data") == f"{DATA}/fake-hwclock.data"
    hwclock = (root / "etc/systemd/system/fake-hwclock.service.d/antrean.conf").read_text()
    assert "After=var-lib-antrean\\x2ddata.mount" in hwclock
    queue = root / "etc/systemd/system/antrean-queue.service.d/antrean-data.conf"
    assert "RequiresMountsFor=/var/lib/antrean" in queue.read_text()
    assert "Storage=persistent" in (root / "etc/systemd/journald.conf.d/antrean.conf").read_text()


def test_the_store_moves_before_the_services_start() -> None:
    steps = sorted(p.name for p in (DEPLOY / "steps").glob("[0-9][0-9]-*.sh"))
    assert steps.index("45-data.sh") < steps.index("60-units.sh")
    assert "mount" not in (DEPLOY / "steps/70-overlay.sh").read_text().replace("overlay", "")


def test_an_old_fstab_line_is_replaced_and_the_old_layout_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc/fstab").write_text("proc /proc proc defaults 0 0\n")
    config = str(office_toml(tmp_path))
    args = ("--role", "hub", "--config", config, "--read-only-root")
    assert provision(root, *args).returncode == 0
    first = (root / "etc/fstab").read_text()
    assert first.startswith("proc /proc proc defaults 0 0\n")
    second = provision(root, *args)
    assert second.stdout.strip().endswith("done: nothing to change"), second.stdout
    assert (root / "etc/fstab").read_text() == first
    old = "LABEL=antrean-data /var/lib/antrean ext4 defaults,noatime,commit=5 0 2\n"
    (root / "etc/fstab").write_text(old)
    refused = provision(root, *args)
    assert refused.returncode == 1
    assert "has the data partition on /var/lib/antrean (an older provision.sh)" in refused.stderr


BOOT = r"""
set -euo pipefail
lower=$1 work=$2 data=$3
boot() {  # the overlay root, the partition, then the fstab's binds
  rm -rf "$work/upper" "$work/w" && mkdir -p "$work/upper" "$work/w" "$work/m"
  mount -t overlay overlay -o "lowerdir=$lower,upperdir=$work/upper,workdir=$work/w" "$work/m"
  mount --bind "$data" "$work/m/var/lib/antrean-data"
  grep -v '^#' "$work/m/etc/fstab" | while read -r src dest _type opts _; do
    case $opts in
    bind,*) mkdir -p "$work/m$dest" && mount --bind "$work/m$src" "$work/m$dest" ;;
    esac
  done
}
halt() { umount -R "$work/m"; }
boot
m=$work/m
# What the running Pi writes: the store, a journal, a rotated password, the
# saved clock (through the link in /etc), and something else in /etc.
echo tickets >"$m/var/lib/antrean/antrean.db"
mkdir -p "$m/var/log/journal/0123" && echo boot-1 >"$m/var/log/journal/0123/system.journal"
mkdir -p "$m/etc/antrean/broker/clients"
echo rotated >"$m/etc/antrean/broker/clients/board-1.password"
echo "2026-11-26 08:00:00" >"$m$(readlink "$m/etc/fake-hwclock.data")"
echo lost >"$m/etc/hostname-changed"
halt
boot  # the power cut and the next boot: the overlay's upper layer is gone
cat "$m/var/lib/antrean/antrean.db" "$m/var/log/journal/0123/system.journal" \
  "$m/etc/antrean/broker/clients/board-1.password" "$m$(readlink "$m/etc/fake-hwclock.data")"
[ ! -e "$m/etc/hostname-changed" ] && echo "the rest of /etc is reset"
grep -c . "$m/etc/antrean/antrean.toml"
halt
"""


def test_what_a_unit_writes_survives_a_reboot_of_the_overlay_root(tmp_path: Path) -> None:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare (mount namespaces)")
    root = provisioned(tmp_path)
    (root / "var/log/journal").mkdir(parents=True, exist_ok=True)
    (root / "var/lib/antrean").mkdir(parents=True, exist_ok=True)
    data = tmp_path / "data"  # the partition as step 45 leaves it
    shutil.copytree(root / DATA.lstrip("/"), data, symlinks=True)
    shutil.copytree(root / "etc/antrean", data / "etc", dirs_exist_ok=True)
    result = subprocess.run(
        [*NAMESPACE, "bash", "-c", BOOT, "boot", str(root), str(tmp_path / "overlay"), str(data)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    if "overlay" in result.stderr and "unknown filesystem" in result.stderr:
        pytest.skip("no overlayfs in this kernel")
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    assert out[:5] == [
        "tickets",
        "boot-1",
        "rotated",
        "2026-11-26 08:00:00",
        "the rest of /etc is reset",
    ]
    assert int(out[5]) > 100  # the config, from the partition
