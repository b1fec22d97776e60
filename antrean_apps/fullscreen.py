"""Full screen that covers the whole screen, however the kiosk or the board is run.

Kivy asks SDL for "desktop" full screen and lays out for the display's size.
On KMS/DRM (as provisioned) and under a window manager the window becomes that
size. On an X display without a window manager (the `xinit` kiosk set-up,
Xvfb) nobody honours the request: the X window stays at Kivy's default
800x600, centred, while the app draws for the whole screen, so most of it is
cut off. Creating the window at the screen's size in the top-left corner
covers the screen there and changes nothing where full screen already works.
(Resizing it after Kivy has opened it is undone by the late resize events of
the round trip out of full screen and back.)

Imports no UI library: it reads the X screen through libX11 and returns the
Kivy [graphics] settings for the app's command line to apply before Kivy
opens its window.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

log = logging.getLogger(__name__)


def x11_screen_size(display: str | None = None) -> tuple[int, int] | None:
    """The size of the X screen (default $DISPLAY), or None without X or libX11."""
    name = ctypes.util.find_library("X11") or "libX11.so.6"
    try:
        xlib = ctypes.CDLL(name)
    except OSError:
        return None
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    xlib.XOpenDisplay.restype = ctypes.c_void_p
    for function in (xlib.XDefaultScreen, xlib.XCloseDisplay):
        function.argtypes = [ctypes.c_void_p]
    for function in (xlib.XDisplayWidth, xlib.XDisplayHeight):
        function.argtypes = [ctypes.c_void_p, ctypes.c_int]
    handle = xlib.XOpenDisplay(display.encode() if display else None)
    if not handle:
        return None
    try:
        screen = xlib.XDefaultScreen(handle)
        return int(xlib.XDisplayWidth(handle, screen)), int(xlib.XDisplayHeight(handle, screen))
    finally:
        xlib.XCloseDisplay(handle)


def fullscreen_window_settings() -> dict[str, str]:
    """Kivy [graphics] settings that make a full-screen window cover an X11 screen.

    Empty where SDL does not draw through X11 (KMS/DRM, Wayland): there the
    display server gives a full-screen window the whole screen itself.
    """
    driver = os.environ.get("SDL_VIDEODRIVER", "x11").split(",")[0]  # SDL takes a list too
    if driver != "x11" or not os.environ.get("DISPLAY"):
        return {}
    size = x11_screen_size()
    if size is None:
        return {}
    log.info("full screen on X11: a %dx%d window at the top-left corner", *size)
    width, height = size
    return {
        "width": str(width),
        "height": str(height),
        "position": "custom",
        "left": "0",
        "top": "0",
    }
