"""Full screen as a unit runs it: the real `antrean kiosk` / `antrean board`, no window manager.

Each case starts a private Xvfb of the screen's size (an `xinit` kiosk has no
window manager either), runs the app's command line in full-screen mode as the
systemd units do, grabs the X screen itself and measures how much of it the
app covers (the X root is black where no window is).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image, ImageGrab

from antrean_apps.fullscreen import fullscreen_window_settings, x11_screen_size
from antrean_testing.devbroker import DevBroker
from antrean_testing.xvfb import VirtualScreen
from tests.support.helpers import ROOT, example_text

CASES = [
    ("kiosk", (800, 480)),  # the official 7" Pi touchscreen
    ("kiosk", (1024, 600)),  # 7" HDMI panels
    ("kiosk", (1280, 800)),  # 10" panels
    ("kiosk", (720, 1280)),  # Raspberry Pi Touch Display 2, portrait
    ("kiosk", (1080, 1920)),  # a floor-standing totem
    ("board", (1280, 720)),  # cheap TVs
    ("board", (1920, 1080)),
    ("board", (3840, 2160)),  # 4K TVs, which a Pi drives
]


def covered(image: Image.Image) -> float:
    """The share of the screen that is not the bare (black) X root."""
    black = image.convert("L").histogram()[0]
    return 1 - black / (image.width * image.height)


def run_fullscreen(role: str, size: tuple[int, int], tmp_path: Path, port: int) -> float:
    """Runs `antrean ROLE` full screen on a screen of `size`; the share it covers."""
    config = tmp_path / "antrean.toml"
    config.write_text(example_text(port).replace('player = "aplay"', 'player = "none"'))
    log = tmp_path / f"{role}.log"
    best = 0.0
    with VirtualScreen(*size) as screen, log.open("w") as out:
        env = {**os.environ, "DISPLAY": screen.display, "KIVY_HOME": str(tmp_path / "kivy")}
        env.pop("WAYLAND_DISPLAY", None)
        env.pop("KIVY_NO_CONSOLELOG", None)
        app = subprocess.Popen(
            [sys.executable, "-m", "antrean_tools.cli", role, "--config", str(config)],
            cwd=tmp_path,
            env={**env, "PYTHONPATH": str(ROOT)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            end = time.monotonic() + 60
            while time.monotonic() < end and app.poll() is None and best < 0.999:
                time.sleep(0.5)
                best = max(best, covered(ImageGrab.grab(xdisplay=screen.display)))
        finally:
            app.terminate()
            app.wait(20)
    assert app.returncode in (0, -15), log.read_text()[-3000:]
    return best


@pytest.mark.parametrize(("role", "size"), CASES, ids=str)
def test_the_app_covers_a_screen_without_a_window_manager(
    role: str, size: tuple[int, int], tmp_path: Path, broker: DevBroker
) -> None:
    share = run_fullscreen(role, size, tmp_path, broker.port)
    assert share >= 0.999, f"{role} covers {share:.1%} of a {size[0]}x{size[1]} screen"


def test_the_window_settings_come_from_the_x_screen(monkeypatch: pytest.MonkeyPatch) -> None:
    with VirtualScreen(1024, 600) as screen:
        assert x11_screen_size(screen.display) == (1024, 600)
        monkeypatch.setenv("DISPLAY", screen.display)
        monkeypatch.delenv("SDL_VIDEODRIVER", raising=False)
        assert fullscreen_window_settings() == {
            "width": "1024", "height": "600", "position": "custom", "left": "0", "top": "0",
        }  # fmt: skip
        monkeypatch.setenv("SDL_VIDEODRIVER", "kmsdrm")  # as provisioned: SDL sizes it
        assert fullscreen_window_settings() == {}
    monkeypatch.setenv("SDL_VIDEODRIVER", "x11")
    monkeypatch.setenv("DISPLAY", ":999")  # no such display
    assert fullscreen_window_settings() == {}
