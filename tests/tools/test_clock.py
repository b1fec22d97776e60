"""The office's time (deploy/raspberrypi/clock.sh): the hub serves it with chrony
at a local stratum to the office LAN, the other units take it from the hub
(their [broker] host) with systemd-timesyncd. The real provision.sh writes the
files into a root (`--root`); `make test-provision` runs chrony in the booted
root."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tools.test_deploy import office_toml, provision

CHRONY = "etc/chrony/conf.d/antrean.conf"
TIMESYNCD = "etc/systemd/timesyncd.conf.d/antrean.conf"
HUB_HOST = {'[broker]\nhost = "127.0.0.1"': '[broker]\nhost = "antrean-hub.local"'}


def lines(path: Path) -> list[str]:
    return [x for x in path.read_text().splitlines() if x and not x.startswith("#")]


@pytest.mark.parametrize("role", ["hub", "portable"])
def test_the_hub_serves_its_clock_to_the_private_ranges(tmp_path: Path, role: str) -> None:
    root = tmp_path / "root"
    result = provision(root, "--role", role, "--config", str(office_toml(tmp_path)))
    assert result.returncode == 0, result.stderr
    assert lines(root / CHRONY) == [
        "local stratum 10",
        "allow 10.0.0.0/8",
        "allow 172.16.0.0/12",
        "allow 192.168.0.0/16",
        "allow fc00::/7",
        "allow fe80::/10",
    ]
    assert not (root / TIMESYNCD).exists()


def test_the_office_lan_from_the_flag_is_kept_for_updates(tmp_path: Path) -> None:
    root = tmp_path / "root"
    config = str(office_toml(tmp_path))
    result = provision(root, "--role", "hub", "--config", config, "--ntp-allow", "192.168.5.0/24")
    assert result.returncode == 0, result.stderr
    assert lines(root / CHRONY) == ["local stratum 10", "allow 192.168.5.0/24"]
    # --update reads the role and this back from unit.toml.
    assert 'ntp_allow = "192.168.5.0/24"' in (root / "etc/antrean/unit.toml").read_text()


@pytest.mark.parametrize(("role", "extra"), [("display", []), ("counter", ["--counter", "2"])])
def test_a_unit_takes_its_time_from_the_hub_only(
    tmp_path: Path, role: str, extra: list[str]
) -> None:
    root = tmp_path / "root"
    config = str(office_toml(tmp_path, edit=HUB_HOST))
    result = provision(root, "--role", role, "--config", config, *extra)
    assert result.returncode == 0, result.stderr
    assert lines(root / TIMESYNCD) == ["[Time]", "NTP=antrean-hub.local", "FallbackNTP="]
    assert not (root / CHRONY).exists()


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--role", "hub", "--ntp-allow", "office"], "'office' is not a subnet"),
        (["--role", "hub", "--ntp-allow", "192.168.1.0/24,x;y"], "'x;y' is not a subnet"),
        (["--role", "display", "--ntp-allow", "192.168.1.0/24"], "--ntp-allow is for the hub"),
    ],
)
def test_a_bad_office_lan_is_refused_before_anything_is_written(
    tmp_path: Path, args: list[str], error: str
) -> None:
    root = tmp_path / "root"
    result = provision(root, *args, "--config", str(office_toml(tmp_path)))
    assert result.returncode == 1
    assert error in result.stderr
    assert not root.exists()
