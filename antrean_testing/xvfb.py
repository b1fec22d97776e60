"""A private virtual X screen (Xvfb) for Kivy tests, screenshots and headless demos.

Like `devbroker`, this only manages a process; it imports no UI library.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from types import TracebackType


class VirtualScreen:
    """Runs `Xvfb` on the first free display number, which X picks itself (-displayfd)."""

    def __init__(self, width: int = 1920, height: int = 1920, depth: int = 24) -> None:
        self.geometry = f"{width}x{height}x{depth}"
        self.display = ""
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> VirtualScreen:
        binary = shutil.which("Xvfb")
        if binary is None:
            raise RuntimeError("Xvfb not found: install the Debian package xvfb")
        read_fd, write_fd = os.pipe()
        self._proc = subprocess.Popen(
            [
                binary,
                "-displayfd",
                str(write_fd),
                "-screen",
                "0",
                self.geometry,
                "-nolisten",
                "tcp",
            ],
            pass_fds=(write_fd,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # like the broker: not stopped by a terminal's Ctrl-C
        )
        os.close(write_fd)
        # Xvfb writes the display number once it accepts clients; EOF means it died.
        with os.fdopen(read_fd, "rb") as pipe:
            number = pipe.readline().strip().decode()
        if not number:
            self.stop()
            raise RuntimeError("Xvfb exited before it opened a display")
        self.display = f":{number}"
        return self

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    def __enter__(self) -> VirtualScreen:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
