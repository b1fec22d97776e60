"""The units' sandboxes: `systemd-analyze security` scores every Antrean unit,
and Debian's Mosquitto unit with our drop-in, under 3.0 (OK).

The score is systemd's own reading of the unit files (--offline=yes, systemd
252 and later): the same figure a technician sees on the Pi. That the apps
still run inside these sandboxes is `make test-provision`'s part.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.helpers import ROOT

DEPLOY = ROOT / "deploy" / "raspberrypi"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
DEBIAN_MOSQUITTO = Path("/lib/systemd/system/mosquitto.service")
TARGET = 3.0
SCORE = re.compile(r"Overall exposure level for \S+: (\d+\.\d+)")


def exposure(unit: str, root: Path | None = None) -> float:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("no systemd-analyze here")
    args = ["systemd-analyze", "security", "--offline=yes", "--no-pager"]
    if root is not None:
        args.append(f"--root={root}")
    result = subprocess.run([*args, unit], capture_output=True, text=True, check=False, timeout=60)
    if "--offline" in result.stderr and "unrecognized" in result.stderr:
        pytest.skip("this systemd-analyze has no --offline (systemd before 252)")
    found = SCORE.search(result.stdout + result.stderr)
    assert found, result.stdout + result.stderr
    return float(found.group(1))


def test_the_five_units_are_measured() -> None:
    assert [u.name for u in UNITS] == [
        "antrean-board.service",
        "antrean-counter@.service",
        "antrean-kiosk.service",
        "antrean-queue.service",
        "antrean-web.service",
    ]


@pytest.mark.parametrize("unit", UNITS, ids=[u.name for u in UNITS])
def test_every_antrean_unit_scores_under_3(unit: Path) -> None:
    assert exposure(str(unit)) < TARGET


def test_an_unconfined_unit_scores_high(tmp_path: Path) -> None:
    # The measure itself: the queue unit without its sandbox lines is exposed.
    kept = [
        line
        for line in (DEPLOY / "systemd/antrean-queue.service").read_text().splitlines()
        if not re.match(r"(Protect|Private|Restrict|Capability|SystemCall|Memory|NoNew)", line)
    ]
    unit = tmp_path / "antrean-queue.service"
    unit.write_text("\n".join(kept) + "\n")
    assert exposure(str(unit)) > 7.0


def mosquitto_root(tmp_path: Path, dropin: bool) -> Path:
    if not DEBIAN_MOSQUITTO.exists():
        pytest.skip(f"no {DEBIAN_MOSQUITTO} here (Debian's mosquitto package)")
    root = tmp_path / ("with" if dropin else "without")
    (root / "lib/systemd/system").mkdir(parents=True)
    shutil.copy2(DEBIAN_MOSQUITTO, root / "lib/systemd/system/mosquitto.service")
    if dropin:
        folder = root / "etc/systemd/system/mosquitto.service.d"
        folder.mkdir(parents=True)
        shutil.copy2(DEPLOY / "files/mosquitto-hardening.conf", folder / "antrean.conf")
    return root


def test_debian_mosquitto_with_our_drop_in_scores_under_3(tmp_path: Path) -> None:
    assert exposure("mosquitto.service", mosquitto_root(tmp_path, dropin=False)) > 9.0
    assert exposure("mosquitto.service", mosquitto_root(tmp_path, dropin=True)) < TARGET
