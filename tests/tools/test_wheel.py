"""The built wheel, installed as a Pi installs it: every app starts from it, outside the tree.

The other tests import the packages from the source tree, where every file is
beside its module; a unit runs the wheel from the offline bundle
(deploy/raspberrypi/build-bundle.sh), which holds only what pyproject.toml
packs. So this builds the wheel the way the bundle does, installs it alone
(`--no-deps`) into a fresh venv that borrows the test venv's dependencies
(its site-packages on a .pth line: the dependencies, not the editable
checkout, whose own .pth hooks are not run from there), and starts each app
from that venv with its working directory outside the tree.
"""

from __future__ import annotations

import os
import shutil
import signal
import site
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import ImageGrab

from antrean.config import load_config
from antrean_testing.devbroker import DevBroker
from antrean_testing.xvfb import VirtualScreen
from tests.support.helpers import ROOT, example_text
from tests.support.mqtt_watch import Watcher

PACKAGES = ("antrean", "antrean_apps", "kiosk", "display_board", "counter")
# Left out of the copy the wheel is built from: none of it belongs in a wheel.
NOT_SOURCE = (".git", ".venv", "var", "build", "dist", "*.egg-info", "__pycache__", ".*_cache")
PIP = [sys.executable, "-m", "pip", "--quiet", "--disable-pip-version-check"]
START_S = 40  # from Popen to online and drawn; a cold Kivy start is 2-5 s on a shared machine
DRAWN_COLOURS = 16  # anti-aliased text gives hundreds; a blank or one-colour window gives 1


@dataclass(frozen=True, slots=True)
class Installed:
    venv: Path
    site_packages: Path
    wheel: Path

    @property
    def antrean(self) -> Path:
        return self.venv / "bin" / "antrean"


def build_wheel(out: Path) -> Path:
    """The app's wheel, made as build-bundle.sh makes it, from a copy of the tree."""
    src = out / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    subprocess.run(
        [*PIP, "wheel", "--no-deps", "-w", str(out / "dist"), str(src)],
        check=True,
        timeout=180,
    )
    (wheel,) = (out / "dist").glob("antrean-*.whl")
    return wheel


def dependency_dirs() -> list[str]:
    """Where this interpreter finds the apps' dependencies (not the source tree)."""
    dirs = [*site.getsitepackages()]
    if site.ENABLE_USER_SITE:
        dirs.append(site.getusersitepackages())
    return [d for d in dict.fromkeys(dirs) if Path(d).is_dir() and Path(d) != ROOT]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("wheel")
    wheel = build_wheel(work)
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [*PIP, "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)],
        check=True,
        timeout=120,
    )
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    site_packages = Path(purelib)
    (site_packages / "antrean-test-deps.pth").write_text("\n".join(dependency_dirs()) + "\n")
    return Installed(venv, site_packages, wheel)


def clean_env(home: Path, display: str = "") -> dict[str, str]:
    """The environment of a unit: no PYTHONPATH into the tree, Kivy's files in `home`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "KIVY", "KCFG"))}
    env.update(
        KIVY_HOME=str(home / "kivy"),
        KIVY_NO_FILELOG="1",
        SDL_AUDIODRIVER="dummy",
        # A hung app dumps every thread's stack on SIGABRT (what wait_until sends).
        PYTHONFAULTHANDLER="1",
    )
    if display:
        env["DISPLAY"] = display
    return env


@pytest.fixture
def unit(tmp_path: Path) -> Path:
    """A working directory outside the tree (like /var/lib/antrean), with its office config."""
    assert not tmp_path.resolve().is_relative_to(ROOT)
    return tmp_path


def run_installed(installed: Installed, unit: Path, *argv: str) -> str:
    """Runs a program of the installed venv in the unit's folder; its output."""
    run = subprocess.run(
        [str(installed.venv / "bin" / argv[0]), *argv[1:]],
        cwd=unit,
        env=clean_env(unit),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def test_the_installed_packages_come_from_the_wheel_not_the_tree(
    installed: Installed, unit: Path
) -> None:
    names = ", ".join(PACKAGES)
    code = f"import {names}\nfor m in ({names}): print(m.__file__)"
    files = [Path(line) for line in run_installed(installed, unit, "python", "-c", code).split()]
    assert len(files) == len(PACKAGES)
    assert all(f.is_relative_to(installed.site_packages) for f in files), files


def package_data() -> list[Path]:
    """Every file the packages hold that is not Python: layouts, fonts, sounds, templates."""
    found = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*"):
            if (
                path.is_file()
                and path.suffix not in (".py", ".pyc")
                and "__pycache__" not in path.parts
            ):
                found.append(path.relative_to(ROOT))
    return sorted(found)


def test_every_data_file_of_the_packages_is_in_the_wheel(installed: Installed) -> None:
    data = package_data()
    assert Path("display_board/screen.kv") in data
    assert Path("counter/console.kv") in data
    missing = [str(p) for p in data if not (installed.site_packages / p).is_file()]
    assert not missing, f"left out of the wheel: {missing}"


class App:
    """One app process of the installed venv, with its output kept in a file."""

    def __init__(self, installed: Installed, unit: Path, display: str, *args: str) -> None:
        self.log = unit / f"{args[0]}.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [str(installed.antrean), *args],
                cwd=unit,
                env=clean_env(unit, display),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def dump(self) -> str:
        """The app's output after SIGABRT, with each thread's stack (faulthandler)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGABRT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.output()

    def alive(self) -> None:
        assert self.proc.poll() is None, f"exited with {self.proc.returncode}:\n{self.output()}"

    def stop(self) -> int:
        """SIGTERM, as systemd stops a unit; the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"did not stop on SIGTERM:\n{self.output()}") from None


def wait_until(app: App, ready: Callable[[], bool], what: str) -> None:
    """Waits for `ready` while `app` runs; a failure shows the app's output."""
    deadline = time.monotonic() + START_S
    while not ready():
        app.alive()
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} in {START_S} s; its stacks:\n{app.dump()}")
        time.sleep(0.2)


def drawn(display: str) -> bool:
    """The screen shows more than a few flat colours: something rendered its first frame."""
    colours = ImageGrab.grab(xdisplay=display).getcolors(maxcolors=DRAWN_COLOURS + 1)
    return colours is None  # more colours than DRAWN_COLOURS


@pytest.fixture
def office(unit: Path) -> Iterator[tuple[Path, DevBroker]]:
    with DevBroker() as broker:
        config = unit / "antrean.toml"
        text = example_text(broker.port).replace('player = "aplay"', 'player = "none"')
        config.write_text(text, encoding="utf-8")
        yield config, broker


@pytest.fixture
def screen() -> Iterator[str]:
    with VirtualScreen(1280, 800) as s:
        yield s.display


APPS = {
    "kiosk": (["kiosk", "--size", "800x480"], "kiosk-1"),
    "board": (["board", "--windowed"], "board-1"),
    "console": (["counter", "--counter", "1", "--console"], "counter-1"),
}


def test_the_queue_and_every_app_start_from_the_wheel_and_stop_cleanly(
    installed: Installed, unit: Path, office: tuple[Path, DevBroker], screen: str
) -> None:
    config_file, _ = office
    config = load_config(config_file)
    assert "OK" in run_installed(
        installed, unit, "antrean", "check-config", "--config", "antrean.toml"
    )
    # As provisioning does on a board Pi: the clips, then the board that loads them.
    run_installed(installed, unit, "antrean", "voice", "build", "--config", "antrean.toml")
    root = f"antrean/v1/{config.office.id}"
    watch = Watcher(config.broker, f"{root}/device/+/status").start()

    def online(device: str, state: bool = True) -> Callable[[], bool]:
        topic = f"{root}/device/{device}/status"
        return lambda: (watch.latest(topic) or {}).get("online") is state

    queue = App(installed, unit, "", "queue", "--config", str(config_file))
    try:
        wait_until(queue, online("queue"), "queue service online")
        for name, (args, device) in APPS.items():
            app = App(installed, unit, screen, *args, "--config", str(config_file))
            try:
                wait_until(app, online(device), f"{name} online")
                wait_until(app, lambda: drawn(screen), f"{name} first frame")
                ImageGrab.grab(xdisplay=screen).save(unit / f"{name}.png")  # for a failure
            finally:
                status = app.stop()
            assert status == 0, f"{name} exited with {status}:\n{app.output()}"
            wait_until(queue, online(device, state=False), f"{name} offline")
            for bad in ("Traceback", "clips missing", " ERROR ", "[ERROR"):
                assert bad not in app.output(), app.output()
    finally:
        status = queue.stop()
        watch.stop()
    assert status == 0, queue.output()
    assert (unit / "var" / "antrean.db").is_file()  # the store, in the unit's folder
