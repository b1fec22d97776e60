"""`antrean demo`: the whole office on one machine, in windows.

Starts Mosquitto (unless one already listens on the config's port; it refuses
to join an office that already has a queue service there), the queue
service (in this process, without opening hours unless asked), and the kiosk,
the display board and a counter console, each as its own process with the
command line a Pi uses, and stops them all on Ctrl-C. Windows are
sized and placed through Kivy's KCFG_* environment overrides, so the apps need
no demo-only options. With no display it explains how to get one, or starts a
private Xvfb with --headless (what the tests use).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from antrean.config import Config, DeviceConfig
from antrean.domain import DeviceId, Role
from antrean.rival import AnotherQueueService
from antrean.runner import QueueServiceRunner
from antrean_testing.client import QueueClient
from antrean_testing.devbroker import DevBroker, port_open
from antrean_testing.devpostgres import DevPostgres
from antrean_testing.xvfb import VirtualScreen

log = logging.getLogger(__name__)

STOP_GRACE_S = 5.0


@dataclasses.dataclass(frozen=True, slots=True)
class DemoApp:
    """One window of the demo: its subcommand and where its window goes."""

    name: str
    args: tuple[str, ...]
    size: tuple[int, int]
    position: tuple[int, int]


# Each app as a Pi runs it, but in a window: the kiosk and the board are full
# screen on their Pis.
APPS = (
    DemoApp("kiosk", ("kiosk", "--size", "800x480"), (800, 480), (0, 0)),
    DemoApp("board", ("board", "--windowed"), (1366, 768), (820, 0)),
    # Console only: the demo's stdin is /dev/null, so the config's terminal keys
    # (counter 1 of the example office) could only warn that they are unavailable.
    DemoApp("counter", ("counter", "--counter", "1", "--console-only"), (800, 480), (0, 520)),
)

NO_DISPLAY = """\
demo: there is no display here (DISPLAY and WAYLAND_DISPLAY are not set).
      On a desktop, run `make demo` in a terminal of the desktop session.
      On a server, run it on a virtual screen and look at it with a VNC viewer
      or screenshots:
          xvfb-run -a -s "-screen 0 2200x1300x24" make demo
      or let the demo start its own (nothing to look at, tickets still print):
          .venv/bin/antrean demo --headless --config antrean.example.toml"""


JOIN_REFUSED = """\
      The demo joins a broker that already listens on the config's port, but
      not an office that already has a queue service: stop that service, or
      run the demo on a copy of the config with another [broker] port."""


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def app_env(app: DemoApp, base: dict[str, str]) -> dict[str, str]:
    """The app's environment: the window's size and place as Kivy config overrides."""
    env = dict(base)
    env.update(
        KCFG_GRAPHICS_WIDTH=str(app.size[0]),
        KCFG_GRAPHICS_HEIGHT=str(app.size[1]),
        KCFG_GRAPHICS_POSITION="custom",
        KCFG_GRAPHICS_LEFT=str(app.position[0]),
        KCFG_GRAPHICS_TOP=str(app.position[1]),
        KIVY_NO_ARGS="1",
    )
    return env


class Supervisor:
    """Starts child processes in their own process groups and stops every one of them."""

    def __init__(self) -> None:
        self.children: list[tuple[str, subprocess.Popen[bytes]]] = []

    def spawn(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        print(f"demo: starting {name}: antrean {' '.join(argv[3:])}")
        # Own process group (Ctrl-C reaches only the demo, which then stops
        # them in order) and no terminal input (a background group reading
        # the terminal would be stopped by the kernel).
        proc = subprocess.Popen(argv, env=env, start_new_session=True, stdin=subprocess.DEVNULL)
        self.children.append((name, proc))

    def exited(self) -> list[tuple[str, int]]:
        """Children that have ended by themselves, with their exit codes."""
        return [(n, p.returncode) for n, p in self.children if p.poll() is not None]

    def stop_all(self) -> None:
        # Last started, first stopped: the apps say goodbye before the queue
        # service and the broker go away.
        for name, proc in reversed(self.children):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=STOP_GRACE_S)
                except subprocess.TimeoutExpired:
                    log.warning("%s did not stop in %.0f s; killing it", name, STOP_GRACE_S)
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
            print(f"demo: {name} stopped")


class StopSignals(threading.Event):
    """Set by the first Ctrl-C or SIGTERM, which also interrupts the main thread.

    Another signal while the demo stops (an impatient second Ctrl-C) changes
    nothing: cutting the shutdown short would leave apps running.
    """

    def __init__(self) -> None:
        super().__init__()
        self._previous: dict[int, Any] = {}

    def install(self) -> StopSignals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._on_signal)
        return self

    def uninstall(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _on_signal(self, _signum: int, _frame: FrameType | None) -> None:
        if not self.is_set():
            self.set()
            raise KeyboardInterrupt


def always_open(config: Config) -> Config:
    """The office without opening hours, so that the demo works at night and on Sundays."""
    return dataclasses.replace(
        config,
        office=dataclasses.replace(config.office, hours=None),
        services=tuple(dataclasses.replace(s, hours=None) for s in config.services),
    )


def start_broker(config: Config) -> DevBroker | None:
    """A Mosquitto on the config's port, or None when a broker already listens there."""
    host, port = config.broker.host, config.broker.port
    if port_open(host, port):
        print(f"demo: using the MQTT broker already listening on {host}:{port}")
        return None
    print(f"demo: starting Mosquitto on {host}:{port}")
    return DevBroker(port=port).start()


def start_queue(config: Config, stop: threading.Event) -> QueueServiceRunner | None:
    """The demo's queue service, or None (and why) when the office already has one."""
    queue = QueueServiceRunner(config, on_rival=stop.set)
    try:
        return queue.start()
    except AnotherQueueService as exc:
        queue.store.close()
        print(f"demo: {exc}\n{JOIN_REFUSED}", file=sys.stderr)
        return None


DEMO_CARDS = 500  # the example office's first delivery of blank cards


def first_delivery(queue: QueueServiceRunner) -> None:
    """A demo store with no cards records a delivery, so the printing service takes tickets."""
    if not any(s.uses_card for s in queue.config.services) or queue.service.engine.stock.balance:
        return
    admin = next((d.id for d in queue.config.devices if d.role is Role.ADMIN), None)
    if admin is None:
        return
    client = QueueClient(queue.config.office.id, admin, queue.config.broker).start()
    try:
        reply = client.request("stock_receive", {"count": DEMO_CARDS, "note": "demo"})
    finally:
        client.stop()
    if reply.get("ok"):
        print(f"demo: recorded a first delivery of {DEMO_CARDS} blank cards (note 'demo')")


DEMO_USER, DEMO_PASSWORD = "petugas", "petugas-demo"  # printed by the demo; loopback only


def start_web(config: Config, cli: list[str], source: str, supervisor: Supervisor) -> None:
    """`antrean web` as a Pi runs it, with a demo account, when the office has a web device."""
    if not any(d.role is Role.WEB for d in config.devices):
        return
    if importlib.util.find_spec("starlette") is None:
        print("demo: the office web is left out: install the 'web' extra (pip install .[web])")
        return
    from web.settings import web_settings  # noqa: PLC0415 - the web app's own section
    from web.users import Users, WebRole  # noqa: PLC0415

    settings = web_settings(config)
    if port_open(settings.host, settings.port):
        print(f"demo: the office web is left out: port {settings.port} is taken ([web] port)")
        return
    users = Users(settings.users_path)
    try:
        if users.get(DEMO_USER) is None:
            users.add(DEMO_USER, WebRole.PETUGAS, DEMO_PASSWORD)
    finally:
        users.close()
    supervisor.spawn("web", [*cli, "web", "--config", source], dict(os.environ))
    print(f"demo: the office web is at {settings.public_url} ({DEMO_USER} / {DEMO_PASSWORD})")


def with_central(config: Config) -> Config:
    """The office with the `central` device the replay action needs (a bridged office has it)."""
    if any(d.role is Role.CENTRAL for d in config.devices):
        return config
    central = DeviceConfig(id=DeviceId("central"), role=Role.CENTRAL)
    return dataclasses.replace(config, devices=(*config.devices, central))


def start_central(config: Config, cli: list[str], supervisor: Supervisor) -> DevPostgres | None:
    """`antrean central` on a private PostgreSQL, reading the office's broker as the centre's.

    On one machine there is no bridge: the central service subscribes to the
    office's own Mosquitto, where the topics are the ones a bridge would carry.
    """
    if importlib.util.find_spec("psycopg") is None:
        print("demo: the central service is left out: install the 'central' extra")
        return None
    try:
        postgres = DevPostgres().start()
    except (RuntimeError, OSError) as exc:
        print(f"demo: the central service is left out: {exc}")
        return None
    path = config.path("var/demo-central.toml")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# Written by `antrean demo` for its central service; remade at every start.\n"
        f"[central]\ndsn = {postgres.dsn!r}\noffices = [{config.office.id!r}]\n\n"
        f"[broker]\nhost = {config.broker.host!r}\nport = {config.broker.port}\n",
        encoding="utf-8",
    )
    supervisor.spawn("central", [*cli, "central", "--config", str(path)], dict(os.environ))
    print(f"demo: the central service writes every event into PostgreSQL ({postgres.dsn})")
    return postgres


def stop_in_order(
    supervisor: Supervisor,
    postgres: DevPostgres | None,
    queue: QueueServiceRunner | None,
    broker: DevBroker | None,
    screen: VirtualScreen | None,
) -> None:
    """The apps first, then what they talk to, so that none logs a lost broker."""
    supervisor.stop_all()
    if postgres:
        postgres.cleanup()
        print("demo: PostgreSQL stopped")
    if queue:
        queue.stop()
        print("demo: queue service stopped")
    if broker:
        broker.cleanup()
        print("demo: Mosquitto stopped")
    if screen:
        screen.stop()


def run_demo(config: Config, headless: bool = False, office_hours: bool = False) -> int:
    """Runs until Ctrl-C or SIGTERM, or until an app ends; stops everything it started."""
    if not headless and not has_display():
        print(NO_DISPLAY, file=sys.stderr)
        return 2
    stop = StopSignals().install()
    screen: VirtualScreen | None = None
    broker: DevBroker | None = None
    queue: QueueServiceRunner | None = None
    postgres: DevPostgres | None = None
    supervisor = Supervisor()
    try:
        if headless:
            screen = VirtualScreen(2200, 1300).start()
            os.environ["DISPLAY"] = screen.display
            print(f"demo: running on a private virtual screen {screen.display}")
        broker = start_broker(config)
        cli = [sys.executable, "-m", "antrean_tools.cli"]
        source = str(Path(config.source).resolve())
        # The board speaks from clips made by espeak-ng; make the missing ones (seconds).
        if subprocess.run([*cli, "voice", "build", "--config", source], check=False).returncode:
            print("demo: the voice clips could not be made; the board will be silent")
        # The queue service runs in this process: it is the one part that
        # applies opening hours, which the demo leaves out unless asked.
        if not office_hours:
            print("demo: opening hours left out, so it works any day (--office-hours keeps them)")
        served = with_central(config if office_hours else always_open(config))
        queue = start_queue(served, stop)
        if queue is None:
            return 1
        print(f"demo: queue service for {config.office.name}, store {config.store_path}")
        first_delivery(queue)
        for app in APPS:
            argv = [*cli, *app.args[:1], "--config", source, *app.args[1:]]
            supervisor.spawn(app.name, argv, app_env(app, dict(os.environ)))
        start_web(config, cli, source, supervisor)
        postgres = start_central(config, cli, supervisor)
        printer = config.sections.get("printer", {})
        if printer.get("driver") == "sim":
            tickets = config.path(str(printer.get("sim_output", "var/tickets")))
            print(f"demo: the simulated printer writes each ticket to {tickets} (PNG and bytes)")
        print("demo: Ctrl-C stops everything")
        while not stop.wait(0.5):
            for name, code in supervisor.exited():
                print(f"demo: {name} ended with exit code {code}; stopping the demo")
                return 1
        return 1 if queue.rival else 0
    except KeyboardInterrupt:
        print("\ndemo: stopping")
        return 0
    finally:
        stop.set()  # from here on a signal changes nothing: the demo stops in its order
        stop_in_order(supervisor, postgres, queue, broker, screen)
        stop.uninstall()
