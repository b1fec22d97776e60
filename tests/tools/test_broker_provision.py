"""`antrean broker init`, `add-device` and `bridge`: the files they write, and when not to."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from antrean.config import BrokerConfig, ConfigError, load_config
from antrean_tools.broker import acl, enroll, passwords
from antrean_tools.broker.bridge import Bridge, parse_address, render_bridge
from antrean_tools.broker.files import DEFAULT_DIR, BrokerFiles, broker_owner
from antrean_tools.broker.local import SecuredBroker, open_dir
from antrean_tools.broker.mosquitto_conf import render_conf
from antrean_tools.broker.provision import (
    InitOptions,
    ProvisionError,
    add_device,
    check,
    init,
    write_bridge,
)
from antrean_tools.broker.transaction import CRASH_ENV
from antrean_tools.cli import main
from antrean_tools.doctor import Doctor
from tests.support.helpers import ROOT, example_config, example_text

QUEUE = "antrean-queue-gajahmungkur"
STAFF = "antrean-queue-gajahmungkur-staff"  # its session for the counters and admin
DEVICES = ["kiosk-1", "board-1", "counter-1", "counter-2", "counter-3", "counter-4", "admin", "web"]
OPTS = InitOptions(names=["hub.local"], ips=["192.168.1.10"])


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def owner(path: Path) -> str:
    return pwd.getpwuid(path.stat().st_uid).pw_name


def test_init_writes_everything_with_tight_modes(tmp_path: Path) -> None:
    files = BrokerFiles(tmp_path / "broker")
    result = init(example_config(tmp_path), files, OPTS)
    assert result.made_ca
    assert result.made_server_cert
    assert sorted(result.enrolled) == sorted(DEVICES)  # in enrollment files, never printed
    assert result.enrollments == [files.enrollment(d) for d in DEVICES]
    assert mode(files.enroll) == 0o700
    for path in result.enrollments:
        assert mode(path) == 0o600
    # The hub's own service: both its logins.
    assert result.saved == [files.client_password(QUEUE), files.client_password(STAFF)]
    for secret in (files.ca_key, files.server_key, files.password_file, files.acl_file):
        assert mode(secret) == 0o600, secret
    assert mode(files.client_password(QUEUE)) == 0o600
    assert mode(files.ca_cert) == 0o644
    assert mode(files.conf) == 0o644
    users = passwords.read_password_file(files.password_file)
    assert list(users) == [QUEUE, STAFF, *DEVICES]
    for device, secret in result.enrolled.items():
        assert passwords.check_password(secret, users[device])
        assert secret not in files.password_file.read_text()
    queue_secret = files.client_password(QUEUE).read_text().strip()
    assert passwords.check_password(queue_secret, users[QUEUE])


@pytest.mark.skipif(os.geteuid() != 0 or broker_owner() is None, reason="needs root")
def test_as_root_the_files_mosquitto_reads_are_given_to_it(tmp_path: Path) -> None:
    files = BrokerFiles(tmp_path / "broker")
    init(example_config(tmp_path), files, OPTS)
    for path in (files.server_key, files.password_file, files.acl_file):
        assert owner(path) == "mosquitto", path
    assert owner(files.ca_key) == "root"  # Mosquitto never needs the CA's key


def test_init_again_keeps_the_ca_and_the_passwords(tmp_path: Path) -> None:
    files = BrokerFiles(tmp_path / "broker")
    config = example_config(tmp_path)
    init(config, files, OPTS)
    ca, key, server = files.ca_cert.read_bytes(), files.ca_key.read_bytes(), files.server_cert
    hashes = files.password_file.read_text()
    cert = server.read_bytes()
    again = init(config, files, InitOptions())
    assert not again.made_ca
    assert not again.made_server_cert
    assert again.enrolled == {}
    assert again.enrollments == []
    assert again.saved == []
    assert files.ca_cert.read_bytes() == ca
    assert files.ca_key.read_bytes() == key
    assert server.read_bytes() == cert
    assert files.password_file.read_text() == hashes


def test_init_follows_the_office_config_added_and_removed_devices(tmp_path: Path) -> None:
    files = BrokerFiles(tmp_path / "broker")
    init(example_config(tmp_path), files, OPTS)
    before = passwords.read_password_file(files.password_file)
    edited = example_config(
        tmp_path,
        edit={'id = "board-1"\nrole = "board"': 'id = "board-2"\nrole = "board"'},
    )
    result = init(edited, files, InitOptions())
    assert list(result.enrolled) == ["board-2"]
    assert result.removed == ["board-1"]
    assert files.enrollment("board-2").exists()
    assert not files.enrollment("board-1").exists()  # its password is no use any more
    after = passwords.read_password_file(files.password_file)
    assert "board-1" not in after
    assert after["kiosk-1"] == before["kiosk-1"]
    rules = files.acl_file.read_text()
    assert "user board-2" in rules
    assert "board-1" not in rules


def test_a_hub_device_gets_its_password_in_a_file_and_a_new_one_if_it_was_lost(
    tmp_path: Path,
) -> None:
    files = BrokerFiles(tmp_path / "broker")
    config = example_config(tmp_path)
    result = init(config, files, InitOptions(names=["hub"], local_devices=["kiosk-1"]))
    assert "kiosk-1" not in result.enrolled
    assert not files.enrollment("kiosk-1").exists()
    saved = files.client_password("kiosk-1")
    assert saved in result.saved
    first = saved.read_text()
    saved.unlink()
    again = init(config, files, InitOptions(local_devices=["kiosk-1"]))
    assert again.saved == [saved]
    assert saved.read_text() != first
    hashed = passwords.read_password_file(files.password_file)["kiosk-1"]
    assert passwords.check_password(saved.read_text().strip(), hashed)


def test_init_refuses_half_a_ca_and_unknown_hub_devices(tmp_path: Path) -> None:
    files = BrokerFiles(tmp_path / "broker")
    config = example_config(tmp_path)
    with pytest.raises(ProvisionError, match="not a device of this office: tv-9"):
        init(config, files, InitOptions(local_devices=["tv-9"]))
    assert not files.dir.exists()  # refused before writing anything
    init(config, files, OPTS)
    files.ca_cert.unlink()
    with pytest.raises(ProvisionError, match=r"ca\.crt does not"):
        init(config, files, InitOptions())
    old_key = files.ca_key.read_bytes()
    renewed = init(config, files, InitOptions(renew_ca=True))
    assert renewed.made_ca
    assert renewed.made_server_cert  # signed by the new CA
    assert files.ca_key.read_bytes() != old_key
    verify = ["openssl", "verify", "-CAfile", str(files.ca_cert), str(files.server_cert)]
    assert subprocess.run(verify, capture_output=True, check=False).returncode == 0


def test_a_device_id_that_is_the_queue_services_user_is_refused(tmp_path: Path) -> None:
    config = example_config(tmp_path, edit={'id = "admin"': f'id = "{QUEUE}"'})
    with pytest.raises(ValueError, match="queue service's user"):
        init(config, BrokerFiles(tmp_path / "broker"), OPTS)


def test_add_device_rotates_one_password_and_keeps_the_others(tmp_path: Path) -> None:
    files = BrokerFiles(tmp_path / "broker")
    config = example_config(tmp_path)
    first = init(config, files, OPTS).enrolled
    before = passwords.read_password_file(files.password_file)
    saved = add_device(config, files, "counter-3")
    assert saved == files.enrollment("counter-3")
    secret = enroll.parse(saved).password
    after = passwords.read_password_file(files.password_file)
    assert passwords.check_password(secret, after["counter-3"])
    assert not passwords.check_password(first["counter-3"], after["counter-3"])
    assert {u: h for u, h in after.items() if u != "counter-3"} == {
        u: h for u, h in before.items() if u != "counter-3"
    }
    saved = add_device(config, files, "kiosk-1", save=True)
    assert saved == files.client_password("kiosk-1")
    assert mode(saved) == 0o600
    # A client of the hub (its password is in clients/) is saved there again.
    saved = add_device(config, files, QUEUE)
    assert saved == files.client_password(QUEUE)
    hashed = passwords.read_password_file(files.password_file)[QUEUE]
    assert passwords.check_password(saved.read_text().strip(), hashed)


def test_add_device_needs_a_known_device_and_an_initialised_folder(tmp_path: Path) -> None:
    files = BrokerFiles(tmp_path / "broker")
    config = example_config(tmp_path)
    with pytest.raises(ProvisionError, match="run `antrean broker init` first"):
        add_device(config, files, "kiosk-1")
    init(config, files, OPTS)
    with pytest.raises(ProvisionError, match=r"'kiosk-9' is not in .*known: .*kiosk-1"):
        add_device(config, files, "kiosk-9")


def test_our_hashes_are_mosquitto_passwd_hashes(tmp_path: Path) -> None:
    pw = tmp_path / "pw"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(pw), "kiosk-1", "rahasia"], check=True)
    hashed = passwords.read_password_file(pw)["kiosk-1"]
    assert passwords.check_password("rahasia", hashed)
    assert not passwords.check_password("salah", hashed)
    salt = passwords.base64.b64decode(hashed.split("$")[3])
    assert passwords.hash_password("rahasia", salt) == hashed


def test_the_committed_broker_config_is_what_init_writes() -> None:
    committed = (ROOT / "broker_config" / "antrean.conf").read_text()
    assert committed == render_conf(BrokerFiles(DEFAULT_DIR))


def test_the_access_rules_name_every_device_of_the_office(tmp_path: Path) -> None:
    text = acl.acl_text(example_config(tmp_path))
    users = [line.split()[1] for line in text.splitlines() if line.startswith("user ")]
    assert users == [QUEUE, STAFF, *DEVICES]
    # The second login of the service hears commands and answers them, nothing else.
    staff = text.split(f"user {STAFF}\n")[1].split("\n\n")[0].splitlines()
    r = "antrean/v1/gajahmungkur"
    assert staff == [f"topic read {r}/cmd/+", f"topic readwrite {r}/reply/+"]
    assert "antrean/v1/gajahmungkur/#" not in text  # nobody gets the whole office
    assert all(
        line.split()[2].startswith("antrean/v1/gajahmungkur/")
        for line in text.splitlines()
        if line.startswith("topic ")
    )


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("central.example.id", ("central.example.id", 8883)),
        ("central.example.id:18883", ("central.example.id", 18883)),
        ("10.1.2.3:8884", ("10.1.2.3", 8884)),
        ("[2001:db8::1]:8883", ("2001:db8::1", 8883)),
    ],
)
def test_bridge_addresses(text: str, want: tuple[str, int]) -> None:
    assert parse_address(text) == want


@pytest.mark.parametrize("text", ["central:", "central:99999", ":8883", "central:http"])
def test_bad_bridge_addresses_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"port|host"):
        parse_address(text)


def test_the_bridge_lets_in_only_replay_requests_and_is_kept_private(tmp_path: Path) -> None:
    files = BrokerFiles(tmp_path / "broker")
    bridge = Bridge("gajahmungkur", "central.example.id", 8883, "gajahmungkur", "s3cret", None)
    with pytest.raises(ProvisionError, match="init"):
        write_bridge(files, bridge, (2, 30))
    init(example_config(tmp_path), files, OPTS)
    ca = tmp_path / "central-ca.pem"
    ca.write_text(files.ca_cert.read_text())  # any PEM will do for the copy
    with_ca = Bridge("gajahmungkur", "central.example.id", 8883, "gajahmungkur", "s3cret", ca)
    path = write_bridge(files, with_ca, (2, 30))
    text = path.read_text()
    assert mode(path) == 0o600
    topics = [line for line in text.splitlines() if line.startswith("topic ")]
    r = "antrean/v1/gajahmungkur"
    assert topics == [
        f"topic {r}/event/# out 1",
        f"topic {r}/state/# out 1",
        f"topic {r}/device/+/status out 1",
        f"topic {r}/reply/central out 1",
        f"topic {r}/cmd/central in 1",
    ]
    for line in ("cleansession false", "local_cleansession false", "bridge_insecure false",
                 f"bridge_cafile {files.dir / 'central-ca.crt'}", "remote_password s3cret",
                 "address central.example.id:8883"):  # fmt: skip
        assert line in text.splitlines()
    assert "bridge_capath /etc/ssl/certs" in render_bridge(bridge)


def test_a_password_file_keeps_the_secret_out_of_the_config(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "kiosk-1.password").write_text("rahasia\n")
    config = example_config(
        tmp_path,
        edit={"port = 1883\n": 'port = 1883\npassword_file = "secrets/{user}.password"\n'},
    )
    assert config.broker.login("kiosk-1") == ("kiosk-1", "rahasia")
    with pytest.raises(ConfigError, match=r"counter-1.password: broker.password_file: cannot read"):
        config.broker.login("counter-1")
    (tmp_path / "secrets" / "board-1.password").write_text("\n")
    with pytest.raises(ConfigError, match="the password file is empty"):
        config.broker.login("board-1")
    assert BrokerConfig().login("kiosk-1") is None  # a development broker: anonymous
    assert BrokerConfig(username="u", password="p").login("kiosk-1") == ("u", "p")


def test_password_and_password_file_together_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"test.toml:20: broker.password_file: set password or"):
        example_config(
            tmp_path,
            edit={"port = 1883\n": 'port = 1883\npassword = "x"\npassword_file = "p"\n'},
        )


def test_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    conf = tmp_path / "antrean.toml"
    conf.write_text(example_text())
    out = tmp_path / "broker"
    args = ["broker", "init", "--config", str(conf), "--out", str(out), "--name", "hub.local"]
    assert main(args) == 0
    first = capsys.readouterr().out
    files = BrokerFiles(out)
    secrets = {d: enroll.parse(files.enrollment(d)).password for d in DEVICES}
    assert not any(s in first for s in secrets.values())  # never in a log
    assert f"enrollments   {files.enroll}/ (root only" in first
    assert "DNS:hub.local" in first
    assert main(args[:-2]) == 0
    second = capsys.readouterr().out
    assert not any(s in second for s in secrets.values())
    assert "(kept)" in second

    assert (
        main(["broker", "add-device", "counter-2", "--config", str(conf), "--out", str(out)]) == 0
    )
    shown = capsys.readouterr().out
    assert f"new password of counter-2 in {files.enrollment('counter-2')}" in shown
    new = enroll.parse(files.enrollment("counter-2")).password
    assert new != secrets["counter-2"]
    assert new not in shown
    assert main(["broker", "add-device", "tv-9", "--config", str(conf), "--out", str(out)]) == 2
    assert "'tv-9' is not in" in capsys.readouterr().err


def test_the_queue_service_names_a_missing_password_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conf = tmp_path / "antrean.toml"
    conf.write_text(
        example_text(edit={"port = 1883\n": 'port = 1883\npassword_file = "none/{user}.pw"\n'})
    )
    assert main(["queue", "--config", str(conf)]) == 2
    err = capsys.readouterr().err
    assert (
        f"{tmp_path}/none/antrean-queue-gajahmungkur.pw: broker.password_file: cannot read" in err
    )


def test_bad_options_are_refused_before_anything_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conf = tmp_path / "antrean.toml"
    conf.write_text(example_text())
    out = tmp_path / "broker"
    base = ["broker", "init", "--config", str(conf), "--out", str(out)]
    assert main([*base, "--owner", "nobody-here"]) == 2
    assert "--owner nobody-here: no such user" in capsys.readouterr().err
    assert not out.exists()
    assert main([*base, "--ip", "192.168.1.300"]) == 2
    assert "not an IP address: '192.168.1.300'" in capsys.readouterr().err
    assert not out.exists()
    assert main(["broker", "add-device", "kiosk-1", "--config", str(tmp_path / "none.toml")]) == 2
    assert "none.toml: (file): cannot read" in capsys.readouterr().err


def test_init_warns_when_mosquitto_could_not_reach_the_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)
    conf = tmp_path / "antrean.toml"
    conf.write_text(example_text())
    out = closed / "broker"
    assert main(["broker", "init", "--config", str(conf), "--out", str(out), "--name", "h"]) == 0
    assert f"warning: {closed} is closed to other users" in capsys.readouterr().out


def unit_text(hub: SecuredBroker, folder: Path, host: str = "localhost") -> str:
    """A display unit's config: the hub's LAN listener, CA and password where join puts them."""
    broker = (
        f'[broker]\nhost = "{host}"\nport = {hub.lan_port}\n'
        f'tls_ca = "{folder}/broker/ca.crt"\n'
        f'password_file = "{folder}/broker/clients/{{user}}.password"\n'
    )
    return example_text(
        edit={'[broker]\nhost = "127.0.0.1"\nport = 1883\n': broker, "var/": f"{folder}/var/"}
    )


def test_enroll_on_the_hub_join_on_the_unit_and_it_logs_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hub = SecuredBroker(example_config(tmp_path))
    unit = open_dir("antrean-unit-")  # world-traversable, like /etc/antrean
    try:
        hub.start()
        (unit / "var").mkdir()
        conf = unit / "antrean.toml"
        conf.write_text(unit_text(hub, unit))
        check = ["check-config", "--config", str(conf), "--role", "display"]
        # Before: no CA, no password. check-config and the doctor say so.
        assert main(check) == 2
        assert "credentials: the office CA (tls_ca)" in capsys.readouterr().err
        before = {r.name: r for r in Doctor(conf, role="display", timeout=3).checks()}
        assert before["login"].status == "FAIL"
        assert "broker enroll" in before["login"].fix

        # The enrollment that init wrote for board-1; a new one replaces its password.
        assert main(["broker", "enroll", "board-1", "--config", str(conf),
                     "--out", str(hub.files.dir), "--copy-to", str(unit)]) == 0  # fmt: skip
        out = capsys.readouterr().out
        stick = unit / "board-1.enroll.toml"
        secret = enroll.parse(stick).password
        assert secret not in out
        assert mode(stick) == 0o600
        assert mode(hub.files.enrollment("board-1")) == 0o600
        hub.reload()

        assert main(["broker", "join", str(stick), "--config", str(conf)]) == 0
        assert "installed" in capsys.readouterr().out
        password = unit / "broker" / "clients" / "board-1.password"
        assert mode(password) == 0o640
        assert mode(unit / "broker" / "ca.crt") == 0o644
        assert main(["broker", "join", str(stick), "--config", str(conf)]) == 0
        assert "already in place" in capsys.readouterr().out
        assert main(check) == 0
        capsys.readouterr()

        after = {r.name: r for r in Doctor(conf, role="display", timeout=5, login_as="board-1")
                 .checks()}  # fmt: skip
        assert after["login"].status == "OK"
        assert after["tls"].status == "OK"
        assert after["broker"].detail.endswith("connected as board-1")

        # Readable by root only: the service user cannot log in, and both say so.
        password.chmod(0o600)
        nobody = Doctor(conf, role="display", timeout=3, user="nobody")
        login = next(r for r in nobody.checks() if r.name == "login")
        assert login.status == "FAIL"
        assert "nobody cannot read" in login.detail
        assert main([*check, "--user", "nobody"]) == 2
        assert "nobody cannot read" in capsys.readouterr().err
        password.chmod(0o644)
        assert main([*check, "--user", "nobody"]) == 0
    finally:
        hub.cleanup()
        shutil.rmtree(unit)


def test_join_refuses_a_host_the_hub_certificate_does_not_name(tmp_path: Path) -> None:
    hub = SecuredBroker(example_config(tmp_path))
    try:
        conf = tmp_path / "unit.toml"
        conf.write_text(unit_text(hub, tmp_path, host="10.9.9.9"))
        path = hub.files.enrollment("counter-2")
        with pytest.raises(ProvisionError, match='set host = "localhost"'):
            enroll.join(load_config(conf), enroll.parse(path))
        other = example_config(tmp_path, edit={'id = "gajahmungkur"': 'id = "lain"'})
        with pytest.raises(ProvisionError, match="for office 'gajahmungkur'"):
            enroll.join(other, enroll.parse(path))
    finally:
        hub.cleanup()


def init_command(conf: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "antrean_tools.cli", "broker", "init", "--config", str(conf),
            "--out", str(out), "--name", "hub.local"]  # fmt: skip


def run_init(cmd: list[str], crash_at: str | None = None) -> int:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if crash_at:
        env[CRASH_ENV] = crash_at
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, check=False)
    return done.returncode


@pytest.mark.parametrize("point", ["ca", "server-cert", "passwords", "before-swap"])
def test_init_killed_midway_leaves_nothing_half_made_and_a_rerun_completes(
    tmp_path: Path, point: str
) -> None:
    conf = tmp_path / "antrean.toml"
    conf.write_text(example_text())
    files = BrokerFiles(tmp_path / "broker")
    cmd = init_command(conf, files.dir)
    assert run_init(cmd, crash_at=point) == -signal.SIGKILL  # a power cut, as far as init knows
    assert not files.dir.exists()  # no folder that a second run could take for done
    assert list(tmp_path.glob(".broker.new-*"))  # only the copy it was building
    assert main(["broker", "check", "--config", str(conf), "--out", str(files.dir)]) == 1
    assert run_init(cmd) == 0
    assert check(load_config(conf), files, []) == []
    assert main(["broker", "check", "--config", str(conf), "--out", str(files.dir)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["antrean.toml", "broker"]


def test_init_killed_between_the_renames_gets_the_old_folder_back(tmp_path: Path) -> None:
    conf = tmp_path / "antrean.toml"
    conf.write_text(example_text())
    files = BrokerFiles(tmp_path / "broker")
    cmd = init_command(conf, files.dir)
    assert run_init(cmd) == 0
    ca, hashes = files.ca_cert.read_bytes(), files.password_file.read_bytes()
    assert run_init([*cmd, "--new-passwords"], crash_at="between-renames") == -signal.SIGKILL
    assert not files.dir.exists()
    assert run_init(cmd[:-2]) == 0
    # The cut run never happened: same CA, same passwords, everything in place.
    assert files.ca_cert.read_bytes() == ca
    assert files.password_file.read_bytes() == hashes
    assert check(load_config(conf), files, []) == []
    assert not list(tmp_path.glob(".broker.*"))


def test_check_names_what_is_wrong(tmp_path: Path) -> None:
    config = example_config(tmp_path)
    files = BrokerFiles(tmp_path / "broker")
    init(config, files, InitOptions(names=["hub"], local_devices=["kiosk-1"]))
    assert check(config, files, ["kiosk-1"]) == []
    files.client_password("kiosk-1").write_text("salah\n")
    files.acl_file.write_text("")
    assert check(config, files, ["kiosk-1"]) == [
        f"{files.client_password('kiosk-1')} does not match {files.password_file}",
        f"{files.acl_file} is not the office config's (run init again)",
    ]
    files.conf.unlink()
    assert check(config, files, []) == [f"{files.conf} is missing"]
