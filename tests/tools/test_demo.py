"""`antrean demo`: the whole office as separate processes, and nothing left behind."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psycopg

from antrean.config import Config, load_config
from antrean_testing.client import QueueClient
from antrean_testing.devbroker import DevBroker, free_port, port_open
from central.config import load_central_config
from tests.support.helpers import FakeClock, Office, example_config, example_text
from tests.support.mqtt_watch import Watcher

DEVICES = ("queue", "kiosk-1", "board-1", "counter-1", "web")


def demo_processes(marker: str) -> list[str]:
    """Command lines of running processes that name the demo's config file."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if marker in cmdline:
            found.append(cmdline)
    return found


def test_without_a_display_the_demo_says_how_to_get_one(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    run = subprocess.run(
        [sys.executable, "-m", "antrean_tools.cli", "demo", "--config", "antrean.example.toml"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 2
    assert "there is no display here" in run.stderr
    assert "xvfb-run" in run.stderr
    assert "--headless" in run.stderr


def stop_demo(demo: subprocess.Popen[str]) -> None:
    """After a failure: Ctrl-C first, since a SIGKILLed demo cannot stop its apps."""
    if demo.poll() is None:
        demo.send_signal(signal.SIGINT)
        try:
            demo.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            demo.kill()
            demo.communicate()


def issued_in_central(dsn: str, code: str, timeout: float = 30) -> bool:
    """Whether the central service's PostgreSQL gets the `issued` event of `code`."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with psycopg.connect(dsn) as db:
            try:
                rows = db.execute("SELECT body FROM events WHERE kind = 'issued'").fetchall()
            except psycopg.errors.UndefinedTable:  # the service has not made its tables yet
                rows = []
        if any(code in str(body) for (body,) in rows):
            return True
        time.sleep(0.5)
    return False


def start_demo(
    tmp_path: Path, *options: str, group: bool = False, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], Config]:
    """`antrean [options] demo --headless` on a port of its own, once every device is online.

    With group=True the demo leads a process group of its own, as a shell's
    foreground job does, so that a test can signal the group as Ctrl-C does.
    """
    port = free_port()
    source = tmp_path / "demo.toml"
    web_port = free_port()
    text = example_text(port).replace("port = 8080", f"port = {web_port}")
    source.write_text(text.replace(":8080", f":{web_port}"), encoding="utf-8")
    config = load_config(source)
    demo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "antrean_tools.cli",
            *options,
            "demo",
            "--headless",
            "--config",
            str(source),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        process_group=0 if group else None,
        env=env,
    )
    try:
        end = time.monotonic() + 60
        while not port_open("127.0.0.1", port):
            assert demo.poll() is None, demo.stdout.read() if demo.stdout else ""
            assert time.monotonic() < end, "the demo never started Mosquitto"
            time.sleep(0.1)
        watch = Watcher(config.broker, "antrean/v1/gajahmungkur/device/+/status").start()
        try:
            for device in DEVICES:
                topic = f"antrean/v1/gajahmungkur/device/{device}/status"
                watch.wait_for(lambda t, body, x=topic: t == x and body["online"], timeout=60)
        finally:
            watch.stop()
    except BaseException:
        stop_demo(demo)
        raise
    return demo, config


def test_the_demo_runs_every_part_and_ctrl_c_stops_them_all(tmp_path: Path) -> None:
    demo, config = start_demo(tmp_path)
    try:
        # The queue service answers, whatever the day and hour (opening hours are left out).
        client = QueueClient("gajahmungkur", "admin", config.broker).start()
        try:
            reply = client.request("issue", {"service": "D"})
        finally:
            client.stop()
        assert reply["ok"], reply
        assert len(demo_processes(config.source)) == 5  # the demo, kiosk, board, counter, web
        # The central service joins the demo: the issue reaches its PostgreSQL.
        central = load_central_config(tmp_path / "var" / "demo-central.toml")
        assert issued_in_central(central.dsn, reply["result"]["ticket"]["code"])
        web = f"http://127.0.0.1:{config.sections['web']['port']}"
        with urllib.request.urlopen(f"{web}/masuk", timeout=10) as page:
            assert "Masuk" in page.read().decode()

        demo.send_signal(signal.SIGINT)  # what Ctrl-C in its terminal does
        out, _ = demo.communicate(timeout=60)
    finally:
        stop_demo(demo)
    assert demo.returncode == 0, out
    for part in ("counter stopped", "board stopped", "kiosk stopped", "Mosquitto stopped"):
        assert f"demo: {part}" in out
    assert f"demo: the office web is at {web} (petugas / petugas-demo)" in out
    assert "demo: web stopped" in out
    assert "demo: central stopped" in out
    assert "demo: PostgreSQL stopped" in out
    assert demo_processes(config.source) == []
    assert not port_open("127.0.0.1", config.broker.port)


def descendants(pid: int) -> set[int]:
    """Every process below pid (children in their own sessions too), while it runs."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                kids = (task / "children").read_text().split()
            except OSError:
                continue
            for kid in map(int, kids):
                if kid not in found:
                    found.add(kid)
                    todo.append(kid)
    return found


def alive(pid: int) -> bool:
    """Running and not a zombie waiting for its parent."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_ctrl_c_twice_at_the_terminal_stops_the_apps_first_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    # A terminal sends Ctrl-C to its whole foreground process group: the demo in
    # a group of its own plays the shell's part, and the test signals that group.
    demo, config = start_demo(tmp_path, group=True)
    try:
        everything = descendants(demo.pid)
        assert len(everything) >= 5  # Mosquitto, Xvfb, kiosk, board, counter
        os.killpg(demo.pid, signal.SIGINT)
        time.sleep(0.3)  # the impatient second Ctrl-C, while the demo is stopping
        os.killpg(demo.pid, signal.SIGINT)
        out, _ = demo.communicate(timeout=60)
    finally:
        stop_demo(demo)
    assert demo.returncode == 0, out
    order = [
        out.index(f"demo: {part}")
        for part in ("counter stopped", "board stopped", "kiosk stopped", "queue service stopped")
    ]
    order.append(out.index("demo: Mosquitto stopped"))
    assert order == sorted(order), out
    assert "lost the MQTT broker" not in out, out
    assert "cannot reach MQTT broker" not in out, out
    assert "X connection" not in out, out  # the virtual screen outlived the apps
    assert "terminal keyboard unavailable" not in out, out
    assert [pid for pid in everything if alive(pid)] == []
    assert not port_open("127.0.0.1", config.broker.port)


# One line per record, ours: "2026-11-26 09:00:00,123 INFO kiosk.app: ...".
RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) ")
PAYLOAD = re.compile(r" antrean\.mqtt: (in|out) antrean/")


def run_demo_with_traffic(tmp_path: Path, *options: str) -> list[str]:
    """The demo's output lines: start, issue and call a few tickets, wait 3 s, Ctrl-C.

    Kivy logs as it does on a Pi, not as this test session set it up (conftest).
    """
    env = {k: v for k, v in os.environ.items() if k not in ("KIVY_LOG_MODE", "KIVY_NO_CONSOLELOG")}
    env["KIVY_HOME"] = str(tmp_path / "kivy")  # a first start, as on a fresh unit
    demo, config = start_demo(tmp_path, *options, env=env)
    try:
        with contextlib.ExitStack() as stack:
            admin = QueueClient("gajahmungkur", "admin", config.broker).start()
            stack.callback(admin.stop)
            counter = QueueClient("gajahmungkur", "counter-2", config.broker).start()
            stack.callback(counter.stop)
            for _ in range(5):
                assert admin.request("issue", {"service": "A"})["ok"]
            for _ in range(3):
                assert counter.request("call_next", {"counter": 2})["ok"]
        time.sleep(3)
        demo.send_signal(signal.SIGINT)
        out, _ = demo.communicate(timeout=60)
    finally:
        stop_demo(demo)
    assert demo.returncode == 0, out
    return out.splitlines()


def test_the_apps_log_each_line_once_at_info_without_payloads(tmp_path: Path) -> None:
    lines = run_demo_with_traffic(tmp_path)
    records = [line for line in lines if RECORD.match(line)]
    others = [line for line in lines if line and not RECORD.match(line) and not _demo_says(line)]
    assert others == [], "\n".join(others)  # e.g. Kivy's "[INFO   ] [Window ] ..." copies
    assert [line for line in records if " DEBUG " in line] == []
    assert [line for line in records if PAYLOAD.search(line)] == []
    assert not [line for line in records if "Older configuration version" in line]
    # Three Kivy apps, the queue service, the web and the demo, with traffic:
    # measured 298 lines before (most of them payloads, and Kivy's copy of each
    # line); the web adds about 6, the central service and its PostgreSQL 8.
    assert len(lines) < 136, "\n".join(lines)


def _demo_says(line: str) -> bool:
    """The demo's own words and `antrean voice build`'s summary (a command's output)."""
    return line.startswith("demo: ") or " clips written to " in line


def test_verbose_logs_every_message_in_and_out(tmp_path: Path) -> None:
    lines = run_demo_with_traffic(tmp_path, "--verbose")
    payloads = [line for line in lines if PAYLOAD.search(line)]
    kiosk_in = [line for line in payloads if "state/service/A" in line]
    assert len(kiosk_in) >= 5, "\n".join(lines)
    assert [line for line in lines if line.startswith("[")] == []


def test_the_demo_refuses_to_join_an_office_that_has_a_queue_service(
    tmp_path: Path, broker: DevBroker, clock: FakeClock
) -> None:
    office = Office(example_config(tmp_path / "hub", broker.port), clock).start()
    try:
        source = tmp_path / "demo.toml"
        source.write_text(example_text(broker.port), encoding="utf-8")
        demo = subprocess.run(
            [
                sys.executable,
                "-m",
                "antrean_tools.cli",
                "demo",
                "--headless",
                "--config",
                str(source),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert demo.returncode == 1, demo.stdout + demo.stderr
        assert "another queue service for office 'gajahmungkur' is running" in demo.stderr
        assert "demo: starting kiosk" not in demo.stdout
        # The office's own service went on serving from its store.
        assert office.ok("admin", "issue", service="D")["ticket"]["code"] == "D001"
    finally:
        office.close()
