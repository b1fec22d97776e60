"""The screenshot script runs end to end (in its own processes: this one already has a window)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PIL import Image

from kiosk.screenshots import SIZES
from tests.support.helpers import ROOT


def test_the_screenshot_script_makes_every_screen_at_every_size(tmp_path: Path) -> None:
    out = tmp_path / "shots"
    done = subprocess.run(
        [sys.executable, "-m", "kiosk.screenshots", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    screens = ("home", "done", "trouble", "again", "code", "code-refused", "nik", "nik-refused")
    screens += ("kiosk-schedule-home", "kiosk-schedule")
    for screen in (*screens, "last4"):
        for w, h in SIZES:
            with Image.open(out / f"{screen}-{w}x{h}.png") as image:
                assert image.size == (w, h)
                rgb = image.convert("RGB")
                assert len(rgb.getcolors(1 << 16) or []) > 4  # not blank
                # Grabbed from the X screen: the app covers all of it (no black X root).
                assert rgb.convert("L").histogram()[0] == 0, f"{screen} {w}x{h} is cut off"
    for paper, width in ((80, 576), (58, 384)):
        with Image.open(out / f"ticket-{paper}mm.png") as image:
            assert image.width == width + 32
    assert (out / "home-en-800x480.png").exists()
    assert (out / "code-refused-en-800x480.png").exists()
    assert (out / "kiosk-schedule-en-800x480.png").exists()
