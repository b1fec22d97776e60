"""antrean doctor against a real broker and queue service, and with things broken on purpose."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from antrean.config import Config
from antrean.disk import filesystem
from antrean_testing.devbroker import DevBroker, free_port
from antrean_tools import cli
from antrean_tools.doctor import Doctor, Result, read_unit, user_can_write
from kiosk.settings import kiosk_settings
from tests.support.helpers import FakeClock, Office, example_text

NOBODY = "nobody"  # a real user without root's rights, present on every Debian
NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
# `aplay -l` on a Raspberry Pi 4 with the TV on HDMI (Bookworm), for the parser.
APLAY_PI = """**** List of PLAYBACK Hardware Devices ****
card 0: vc4hdmi0 [vc4-hdmi-0], device 0: MAI PCM i2s-hifi-0 [MAI PCM i2s-hifi-0]
  Subdevices: 1/1
  Subdevice #0: subdevice #0
"""


# A login in the config itself (the test brokers here take any): the unit has credentials.
LOGIN = {"[broker]\n": '[broker]\nusername = "counter-1"\npassword = "rahasia"\n'}


def write_config(tmp_path: Path, port: int, edit: dict[str, str] | None = None) -> Path:
    path = tmp_path / "antrean.toml"
    path.write_text(example_text(port, edit=edit), encoding="utf-8")
    (tmp_path / "var").mkdir(exist_ok=True)
    return path


def doctor(config_file: Path, **kw: object) -> Doctor:
    kw.setdefault("timeout", 3.0)
    kw.setdefault("now", lambda: NOW)
    return Doctor(config_file, **kw)  # type: ignore[arg-type]


def make_node(path: Path, mode: int) -> Path:
    """A file standing where a device node would, with exactly this mode (no umask)."""
    path.touch()
    path.chmod(mode)
    return path


def by_name(results: list[Result]) -> dict[str, Result]:
    return {r.name: r for r in results}


@pytest.fixture
def dev(tmp_path: Path) -> Path:
    d = tmp_path / "dev"
    d.mkdir()
    return d


def test_a_healthy_counter_unit(tmp_path: Path, office: Office, dev: Path) -> None:
    # Counter 1 on buttons (the example's counter 1 uses the terminal keys).
    buttons = {"[counter_inputs.1]\nkeyboard = true": "[counter_inputs.1]\ngpio = true"}
    path = write_config(tmp_path, office.config.broker.port, {**LOGIN, **buttons})
    chip = dev / "gpiochip0"
    make_node(chip, 0o666)
    results = list(doctor(path, role="counter", counter=1, dev=dev).checks())
    r = by_name(results)
    names = ["config", "login", "broker", "queue", "gpio", "clock", "disk"]
    assert [x.name for x in results] == names
    assert r["config"].status == "OK"
    assert r["login"].status == "OK"
    assert r["broker"] == Result(
        "OK", "broker", f"127.0.0.1:{office.config.broker.port}, connected as counter-1"
    )
    assert r["queue"] == Result("OK", "queue", "queue service online (version 0.1.0)")
    assert r["gpio"].status == "OK"
    assert r["disk"].status == "OK"
    who = "root (no user 'antrean' here)"
    where = f"{tmp_path / 'var'} (filesystem {filesystem(tmp_path)})"
    assert r["disk"].detail.endswith(f"free in {where}, writable by {who}")
    # No systemd on this machine: timedatectl cannot say "synchronized".
    assert r["clock"].status == "WARN"
    assert "not synchronized" in r["clock"].detail


def test_broker_down_fails_with_a_fix_and_exit_status_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    path = write_config(tmp_path, port, LOGIN)
    code = cli.main(["doctor", "--config", str(path), "--role", "display", "--timeout", "2"])
    out = capsys.readouterr().out
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("OK    config   ")
    assert lines[1].startswith("OK    login    ")
    del lines[1]
    assert lines[1] == f"FAIL  broker   cannot reach 127.0.0.1:{port}: Connection refused"
    assert "is the hub on and on this network?" in lines[2]
    assert lines[3].startswith("FAIL  queue    not checked: no broker")


def test_queue_service_never_ran_then_stopped(
    tmp_path: Path, config: Config, broker: DevBroker
) -> None:
    path = write_config(tmp_path, broker.port)
    r = by_name(list(doctor(path, role="display").checks()))
    assert r["broker"].status == "OK"
    assert r["queue"].status == "FAIL"
    assert r["queue"].detail == "the queue service has never run on this broker"
    assert "systemctl status antrean-queue" in r["queue"].fix

    office = Office(config, FakeClock()).start()
    office.close()  # a clean stop leaves the retained "online": false
    r = by_name(list(doctor(path, role="display").checks()))
    assert r["queue"].detail == "the queue service is offline"


class PasswordBroker(DevBroker):
    """A Mosquitto that allows only counter-1 with its password."""

    def config_text(self) -> str:
        passwords = self._dir / "passwords"
        passwords.write_text("")
        subprocess.run(
            ["mosquitto_passwd", "-b", str(passwords), "counter-1", "rahasia"], check=True
        )
        # mosquitto started as root reads it as user mosquitto
        passwords.chmod(0o644)
        self._dir.chmod(0o755)
        text = super().config_text().replace("allow_anonymous true", "allow_anonymous false")
        return text + f"password_file {passwords}\n"


@pytest.fixture
def password_broker() -> Iterator[PasswordBroker]:
    with PasswordBroker() as b:
        yield b


def test_broker_credentials(tmp_path: Path, password_broker: PasswordBroker) -> None:
    anonymous = write_config(tmp_path, password_broker.port)
    r = by_name(list(doctor(anonymous, role="counter").checks()))
    assert r["broker"].detail.endswith("answers but refused the MQTT connection as anonymous")
    assert "username, password" in r["broker"].fix

    edit = {"[broker]\n": '[broker]\nusername = "counter-1"\npassword = "salah"\n'}
    wrong = write_config(tmp_path, password_broker.port, edit)
    r = by_name(list(doctor(wrong, role="counter").checks()))
    assert r["broker"].status == "FAIL"
    assert "as counter-1" in r["broker"].detail

    edit = {"[broker]\n": '[broker]\nusername = "counter-1"\npassword = "rahasia"\n'}
    right = write_config(tmp_path, password_broker.port, edit)
    r = by_name(list(doctor(right, role="counter").checks()))
    assert r["broker"].status == "OK"
    assert r["broker"].detail.endswith("connected as counter-1")


def test_bad_config_stops_at_the_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_config(tmp_path, 1883, {"daily_quota = 120": "daily_quota = -5"})
    assert cli.main(["doctor", "--config", str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2
    assert out[0].startswith("FAIL  config   ")
    assert "daily_quota: must be a whole number from 1 to 9999, got -5" in out[0]
    assert out[1].endswith("fix: edit the file and run: antrean check-config")


def printer_doctor(tmp_path: Path, options: str, dev: Path, role: str | None = "hub") -> Result:
    edit = {'driver = "sim"': options}
    if 'driver = "sim"' not in options:  # a key of the sim driver is refused by the others
        edit['sim_output = "var/tickets"'] = '# sim_output = "var/tickets"'
    path = write_config(tmp_path, 1883, edit)
    d = doctor(path, role=role, user=NOBODY, dev=dev)
    assert d.check_config().status == "OK"
    assert d.config is not None
    kiosk_settings(d.config)  # the doctor reads the keys the kiosk reads
    return d.check_printer()


def test_printer_file_driver(tmp_path: Path, dev: Path) -> None:
    node = tmp_path / "lp0"
    options = f'driver = "file"\nfile_path = "{node}"'
    r = printer_doctor(tmp_path, options, dev)
    assert r == Result("FAIL", "printer", f"{node} does not exist", r.fix), r
    make_node(node, 0o644)  # root's, not writable by the service user
    r = printer_doctor(tmp_path, options, dev)
    assert r.status == "FAIL"
    assert r.detail == f"nobody cannot write {node} (root:root 644)"
    assert r.fix.startswith("sudo usermod -aG root nobody")
    node.chmod(0o666)
    assert printer_doctor(tmp_path, options, dev).status == "OK"


USB = 'driver = "usb"\nusb_vendor = 0x0416\nusb_product = 0x5011'


def test_printer_usb_and_sim(tmp_path: Path, dev: Path) -> None:
    r = printer_doctor(tmp_path, USB, dev)
    assert r.status == "FAIL"
    assert "no /dev/antrean-printer" in r.detail
    # Role unknown (not a provisioned Pi): only a warning.
    assert printer_doctor(tmp_path, USB, dev, role=None).status == "WARN"
    (dev / "usb").mkdir()
    make_node(dev / "usb" / "lp0", 0o666)
    assert printer_doctor(tmp_path, USB, dev).status == "OK"
    r = printer_doctor(tmp_path, 'driver = "sim"', dev)
    assert r.status == "WARN"
    assert "no paper comes out" in r.detail


def test_network_printer(tmp_path: Path, dev: Path, broker: DevBroker) -> None:
    listening = f'driver = "network"\nhost = "127.0.0.1"\ntcp_port = {broker.port}'
    assert printer_doctor(tmp_path, listening, dev).status == "OK"
    closed = f'driver = "network"\nhost = "127.0.0.1"\ntcp_port = {free_port()}'
    r = printer_doctor(tmp_path, closed, dev)
    assert r.status == "FAIL"
    assert "Connection refused" in r.detail


def test_audio(tmp_path: Path) -> None:
    d = doctor(write_config(tmp_path, 1883), role="display")
    # This machine has no sound card: the real aplay says so.
    r = d.check_audio()
    assert r.status == "FAIL"
    assert r.detail == "no sound card found (aplay -l)"
    d.run = lambda argv: subprocess.CompletedProcess(argv, 0, APLAY_PI, "")
    assert d.check_audio() == Result(
        "OK",
        "audio",
        "card 0: vc4hdmi0 [vc4-hdmi-0], device 0: MAI PCM i2s-hifi-0 [MAI PCM i2s-hifi-0]",
    )


def test_gpio(tmp_path: Path, dev: Path) -> None:
    path = write_config(tmp_path, 1883)
    (r,) = doctor(path, role="counter", dev=dev).check_inputs()
    assert (r.name, r.status) == ("gpio", "FAIL")
    assert "no " in r.detail
    assert [r.status for r in doctor(path, role=None, dev=dev).check_inputs()] == ["WARN"]
    chip = dev / "gpiochip0"
    make_node(chip, 0o600)
    (r,) = doctor(path, role="counter", dev=dev, user=NOBODY).check_inputs()
    assert r.status == "FAIL"
    assert "nobody cannot write" in r.detail


def test_clock_at_1970_fails(tmp_path: Path) -> None:
    d = doctor(write_config(tmp_path, 1883), now=lambda: datetime(1970, 1, 1, 0, 0, 12, tzinfo=UTC))
    r = d.check_clock()
    assert r.status == "FAIL"
    assert r.detail.startswith("the clock says 1970-01-01 00:00 UTC")
    assert "fake-hwclock save" in r.fix
    d.run = lambda argv: subprocess.CompletedProcess(argv, 0, "yes\n", "")
    d.now = lambda: NOW
    assert d.check_clock() == Result("OK", "clock", "2026-11-26 02:00 UTC, synchronized")


def answers(replies: dict[str, str]) -> Callable[[list[str]], subprocess.CompletedProcess[str]]:
    """timedatectl/chronyc as they answer on a Pi; an unknown command is not installed."""

    def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
        key = " ".join(argv[:2])
        if key not in replies:
            raise FileNotFoundError(argv[0])
        return subprocess.CompletedProcess(argv, 0, replies[key] + "\n", "")

    return run


def test_an_unsynced_unit_says_which_server_it_tries(tmp_path: Path) -> None:
    hub = {'[broker]\nhost = "127.0.0.1"': '[broker]\nhost = "antrean-hub.local"'}
    d = doctor(write_config(tmp_path, 1883, hub), role="display", now=lambda: NOW)
    d.check_config()
    d.run = answers({"timedatectl show": "no", "timedatectl show-timesync": "antrean-hub.local"})
    r = d.check_clock()
    assert r.status == "WARN"
    assert (
        r.detail
        == "2026-11-26 02:00 UTC, not synchronized: no time yet from antrean-hub.local (the hub)"
    )
    assert "ping antrean-hub.local" in r.fix
    # timesyncd not running: the server provisioning set is the config's hub.
    d.run = answers({"timedatectl show": "no"})
    assert "from antrean-hub.local (the hub)" in d.check_clock().detail


def test_a_hub_without_internet_serves_its_own_clock(tmp_path: Path) -> None:
    d = doctor(write_config(tmp_path, 1883), role="hub", now=lambda: NOW)
    local = "7F7F0101,127.127.1.1,10,1796263200.0,0.0,0.0"
    d.run = answers({"timedatectl show": "yes", "chronyc -n": local})
    r = d.check_clock()
    assert r.status == "OK"
    assert "served to the office from this hub's own clock" in r.detail
    assert "fake-hwclock save" in r.detail
    pool = "C0A80101,192.168.1.1,2,1796263200.0,0.0,0.0"
    d.run = answers({"timedatectl show": "yes", "chronyc -n": pool})
    assert (
        d.check_clock().detail
        == "2026-11-26 02:00 UTC, synchronized with 192.168.1.1, served to the office"
    )
    # (the kernel's flag may lag: chrony's own answer counts first)
    d.run = answers({"timedatectl show": "no", "chronyc -n": local})
    assert d.check_clock().status == "OK"
    d.run = answers({"timedatectl show": "no", "chronyc -n": "00000000,,0,0.0"})
    r = d.check_clock()
    assert (r.status, r.detail) == (
        "WARN",
        "2026-11-26 02:00 UTC, not synchronized: the units take this hub's time",
    )
    assert "systemctl status chrony" in r.fix


def test_disk(tmp_path: Path) -> None:
    path = write_config(tmp_path, 1883)
    d = doctor(path, user=NOBODY)
    d.check_config()
    r = d.check_store()
    assert r.status == "FAIL"
    assert r.detail == f"nobody cannot write {tmp_path / 'var'}"
    (tmp_path / "var").rmdir()
    r = d.check_store()
    assert r.detail == f"{tmp_path / 'var'} (the store's folder) does not exist"


def test_user_can_write_follows_mode_bits(tmp_path: Path) -> None:
    f = tmp_path / "node"
    make_node(f, 0o660)
    assert not user_can_write(f, NOBODY)
    assert user_can_write(f, "root")
    os.chown(f, -1, 65534)  # nogroup: nobody's own group
    assert user_can_write(f, NOBODY)


def test_role_from_unit_file(tmp_path: Path, dev: Path) -> None:
    unit = tmp_path / "unit.toml"
    assert read_unit(unit) == (None, 0)
    unit.write_text('role = "portable"\ncounter = 2\nread_only_root = false\n')
    assert read_unit(unit) == ("portable", 2)
    # A portable unit with a counter's buttons needs GPIO like a counter unit.
    path = write_config(tmp_path, free_port(), LOGIN)
    names = [r.name for r in doctor(path, role="portable", counter=2, dev=dev).checks()]
    assert names == [
        "config", "login", "broker", "queue", "printer", "gpio", "clock", "disk", "secret"
    ]  # fmt: skip


def test_config_the_user_may_not_read_says_sudo(tmp_path: Path) -> None:
    path = tmp_path / "antrean.toml"
    path.write_text(example_text())
    path.chmod(0o640)  # as provisioned: root and group antrean only
    # The technician without sudo: a child process that becomes nobody after
    # importing the app (whose folder nobody may not read either).
    code = (
        "import os, sys; from pathlib import Path; from antrean_tools.doctor import Doctor; "
        "os.setgid(65534); os.setuid(65534); r = Doctor(Path(sys.argv[1])).check_config(); "
        "print(r.status, r.detail, r.fix, sep='|')"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    ).stdout
    assert out == f"FAIL|{path}: no permission to read it|run: sudo antrean doctor\n"
