"""The screenshot script runs end to end (in its own process: this one already has a window)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PIL import Image

from .helpers import ROOT


def test_the_screenshot_script_makes_every_screen_at_every_size(tmp_path: Path) -> None:
    out = tmp_path / "shots"
    done = subprocess.run(
        [sys.executable, "-m", "kiosk.screenshots", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for screen in ("home", "done", "trouble", "again"):
        for w, h in ((800, 480), (1280, 800), (1080, 1920)):
            with Image.open(out / f"{screen}-{w}x{h}.png") as image:
                assert image.size == (w, h)
                assert len(image.convert("RGB").getcolors(1 << 16) or []) > 4  # not blank
    for paper, width in ((80, 576), (58, 384)):
        with Image.open(out / f"ticket-{paper}mm.png") as image:
            assert image.width == width + 32
    assert (out / "home-en-800x480.png").exists()
