"""Drives real Kivy widgets and apps inside the pytest process, on the Xvfb screen.

conftest.py sets Kivy's environment before any test module is imported, and
the first `import kivy` starts Xvfb (tests/support/screen.py), so Kivy
anywhere in the tests finds a display. There is one
Kivy window per process (Kivy's design); each test puts its app in it, pumps
Kivy's event loop from the test thread (which is Kivy's main thread), and
removes the app again. Touches go through Kivy's own UnitTestTouch, the path
a finger on the touchscreen takes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.base import EventLoop
from kivy.core.window import Window
from kivy.graphics.opengl import GL_RGBA, GL_UNSIGNED_BYTE, glReadPixels
from kivy.tests.common import UnitTestTouch
from kivy.uix.widget import Widget
from PIL import Image


def ensure_window() -> Any:
    EventLoop.ensure_window()
    return EventLoop.window


def pump(seconds: float = 0.0, frames: int = 1) -> None:
    """Runs Kivy's loop (clock, input, drawing) for at least `frames` frames and `seconds`."""
    end = time.monotonic() + seconds
    done = 0
    while done < frames or time.monotonic() < end:
        EventLoop.idle()
        done += 1
        time.sleep(0.005)


def pump_until(predicate: Callable[[], bool], timeout: float = 5.0, what: str = "") -> None:
    """Runs Kivy's loop until `predicate()` is true; fails the test after `timeout` seconds."""
    end = time.monotonic() + timeout
    while True:
        EventLoop.idle()
        if predicate():
            return
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
        time.sleep(0.005)


def set_window_size(width: int, height: int) -> None:
    """Resizes the one window (the Xvfb screen is 1920x1920, big enough for every layout)."""
    ensure_window()
    Window.size = (width, height)
    pump_until(lambda: tuple(Window.size) == (width, height), what=f"window {width}x{height}")
    pump(frames=3)


def start_app(app: App, size: tuple[int, int] | None = None) -> App:
    """Builds `app` and shows it in the window without entering Kivy's blocking run loop."""
    ensure_window()
    if size:
        set_window_size(*size)
    app._run_prepare()  # App.run() minus its blocking loop
    pump(frames=3)
    return app


def stop_app(app: App) -> None:
    """Dispatches on_stop and empties the window for the next test (the window itself stays)."""
    app.dispatch("on_stop")
    for child in list(Window.children):
        Window.remove_widget(child)
    App._running_app = None  # what App._stop does after the loop
    pump(frames=2)


def tap(widget: Widget, offset: tuple[float, float] = (0.5, 0.5), hold: float = 0.05) -> None:
    """Touches `widget` at a point given as fractions of its size: down, a short hold, up."""
    x, y = widget.to_window(
        widget.x + widget.width * offset[0], widget.y + widget.height * offset[1]
    )
    tap_at(x, y, hold)


def tap_at(x: float, y: float, hold: float = 0.05) -> None:
    """Touches the window at (x, y): down, a short hold, up (whatever is there by then)."""
    touch = UnitTestTouch(x, y)
    touch.touch_down()
    pump(seconds=hold)
    touch.touch_up()
    pump(frames=2)


def keep_tapping(widget: Widget, taps: int, every_s: float, hold: float = 0.05) -> None:
    """Taps the spot where `widget` is now, `taps` times, one every `every_s` seconds.

    The spot stays fixed while the screens change under it, like a finger that
    keeps tapping; the schedule is absolute, so slow frames do not stretch it.
    """
    x, y = widget.to_window(widget.center_x, widget.center_y)
    start = time.monotonic()
    for i in range(taps):
        pump(seconds=max(0.0, start + i * every_s - time.monotonic()))
        tap_at(x, y, hold)


def screenshot(path: Path) -> Path:
    """Saves exactly what is on the window now as a PNG."""
    pump(frames=2)
    path.parent.mkdir(parents=True, exist_ok=True)
    Window.canvas.ask_update()
    pump(frames=1)
    # Read the framebuffer itself, so popups and overlays are in the picture too
    # (RGBA: rows of 4-byte pixels need no pack alignment, whatever the width).
    width, height = (int(v) for v in Window.size)
    pixels = glReadPixels(0, 0, width, height, GL_RGBA, GL_UNSIGNED_BYTE)
    image = (
        Image.frombytes("RGBA", (width, height), pixels)
        .convert("RGB")
        .transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    )
    image.save(path)
    return path


def find(root: Widget, predicate: Callable[[Widget], bool]) -> list[Widget]:
    """All widgets under `root` (depth first) for which `predicate` holds."""
    return [w for w in root.walk(restrict=True) if predicate(w)]


def find_text(root: Widget, text: str) -> list[Widget]:
    """Widgets whose `text` contains `text` (labels and buttons)."""
    return find(root, lambda w: text in str(getattr(w, "text", "")))
