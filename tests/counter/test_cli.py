"""`antrean counter` as a process: a serial box on a pseudo-terminal, SIGTERM, bad arguments."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from antrean.config import Config
from counter.cli import counter_device
from tests.support.counter_helpers import counter_config, read_lines
from tests.support.helpers import ROOT, Office
from tests.support.mqtt_watch import Watcher

ANTREAN = [sys.executable, "-m", "antrean_tools.cli"]


def write_config(tmp_path: Path, config: Config, extra: str) -> Path:
    path = tmp_path / "antrean.toml"
    text = config.text.replace('path = "var/antrean.db"', f'path = "{tmp_path / "cli.db"}"')
    path.write_text(text + extra, encoding="utf-8")
    return path


def test_the_agent_process_answers_its_serial_box_and_stops_on_sigterm(
    tmp_path: Path, config: Config, office: Office
) -> None:
    office.ok("kiosk-1", "issue", service="C")
    master, slave = os.openpty()
    serial_table = f'\n[counter_inputs.3.serial]\nport = "{os.ttyname(slave)}"\nbaudrate = 9600\n'
    path = write_config(tmp_path, counter_config(tmp_path, config.broker.port, ""), serial_table)
    watch = Watcher(config.broker, "antrean/v1/gajahmungkur/device/counter-3/status").start()
    proc = subprocess.Popen(
        [*ANTREAN, "counter", "--config", str(path), "--counter", "3"],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        watch.wait_for(lambda _t, b: b.get("online") and b.get("serial") == "ok", timeout=20)
        os.write(master, b"PING\n")
        assert read_lines(master, 1) == ["PONG"]
        os.write(master, b"NEXT\n")
        assert read_lines(master, 1) == ["OK C001"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        watch.wait_for(lambda _t, b: b.get("online") is False)
        assert "loket 3: call_next (serial) -> OK C001" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        watch.stop()
        os.close(master)
        os.close(slave)


def test_bad_arguments_and_missing_inputs_say_what_to_fix(tmp_path: Path, config: Config) -> None:
    path = write_config(tmp_path, counter_config(tmp_path, config.broker.port, ""), "")
    cases = [
        (["--counter", "9"], "--counter: no [[counter]] has number 9 (there are 1, 2, 3, 4)"),
        (["--counter", "2", "--device", "counter-1"], "--device: 'counter-1' is not a [[device]]"),
        (["--counter", "2"], "counter_inputs.2: counter has no inputs"),
    ]
    for args, message in cases:
        run = subprocess.run(
            [*ANTREAN, "counter", "--config", str(path), *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert run.returncode == 2, run.stderr
        assert message in run.stderr, run.stderr


def test_the_default_device_is_the_counters_own(tmp_path: Path, config: Config) -> None:
    assert counter_device(config, 3, None) == "counter-3"
    assert counter_device(config, 3, "counter-3") == "counter-3"


def test_gpio_that_cannot_be_opened_is_a_clear_error(tmp_path: Path, config: Config) -> None:
    gpio = "\n[counter_inputs.2.gpio]\n[counter_inputs.2.feedback]\nled = 24\n"
    path = write_config(tmp_path, counter_config(tmp_path, config.broker.port, gpio), "")
    run = subprocess.run(
        [*ANTREAN, "counter", "--config", str(path), "--counter", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={**os.environ, "GPIOZERO_PIN_FACTORY": "no-such-factory"},
    )
    assert run.returncode == 1, run.stderr
    assert "antrean counter: cannot open the counter's LED or buzzer" in run.stderr
    assert "set GPIOZERO_PIN_FACTORY=mock" in run.stderr
    assert "Traceback" not in run.stderr
