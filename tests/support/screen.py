"""The tests' private X screen, started the first time anything imports Kivy.

Only tests that open a window need Xvfb, and those are exactly the ones that
import Kivy (directly, through the Kivy harness or through an app's UI
module), at collection time. So conftest.py installs a finder on
`sys.meta_path` that starts the screen just before `kivy` is first imported
and then steps aside: `pytest tests/core` starts no Xvfb, a Kivy test module
finds DISPLAY set before Kivy reads it.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
import tempfile
from collections.abc import Sequence
from types import ModuleType

from antrean_testing.xvfb import VirtualScreen

started = 0  # screens this process has started; tests/testing/test_screen.py reads it
_screen: VirtualScreen | None = None


def kivy_environment() -> None:
    """Kivy's settings for tests: no argv parsing, logs through logging, a throwaway home."""
    os.environ["KIVY_NO_ARGS"] = "1"  # Kivy must not parse pytest's argv
    os.environ["KIVY_NO_FILELOG"] = "1"
    os.environ["KIVY_NO_CONSOLELOG"] = "1"
    os.environ["KIVY_LOG_MODE"] = "PYTHON"  # log through logging, leave pytest's handlers alone
    os.environ["KIVY_HOME"] = tempfile.mkdtemp(prefix="antrean-kivy-home-")
    os.environ["SDL_AUDIODRIVER"] = "dummy"
    # No test may open a window on the developer's own display.
    os.environ.pop("DISPLAY", None)
    os.environ.pop("WAYLAND_DISPLAY", None)


def start() -> str:
    """Starts the one Xvfb of this process (once) and points DISPLAY at it."""
    global _screen, started  # noqa: PLW0603 - one screen per pytest process, by design
    if _screen is None:
        _screen = VirtualScreen().start()
        started += 1
        os.environ["DISPLAY"] = _screen.display
        os.environ.pop("WAYLAND_DISPLAY", None)
    return _screen.display


def stop() -> None:
    global _screen  # noqa: PLW0603
    if _screen is not None:
        _screen.stop()
        _screen = None


class _StartOnKivyImport(importlib.abc.MetaPathFinder):
    """Starts the screen when `kivy` is about to be imported; finds nothing itself."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname == "kivy":
            sys.meta_path.remove(self)
            start()
        return None


def start_on_kivy_import() -> None:
    """Arranges for the screen to start before the first `import kivy` of this process."""
    if "kivy" in sys.modules:
        start()
    elif not any(isinstance(f, _StartOnKivyImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _StartOnKivyImport())
