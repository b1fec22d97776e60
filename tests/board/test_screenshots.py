"""The documentation pictures and sample call are made by a script that really runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PIL import Image

from display_board.screenshots import DETAIL, SIZES
from tests.support.board import wav_seconds

AMBER = (255, 186, 0)
RED = (217, 38, 38)


def test_the_screenshot_script_photographs_every_tv_size_full_screen_and_writes_the_sample(
    tmp_path: Path,
) -> None:
    wav = tmp_path / "sample-call.wav"
    done = subprocess.run(
        [sys.executable, "-m", "display_board.screenshots", "--out", str(tmp_path),
         "--wav", str(wav)],
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    shots = [(f"board-{w}x{h}.png", (w, h)) for w, h in SIZES]
    shots += [("board-recall-1366x768.png", DETAIL), ("board-offline-1366x768.png", DETAIL)]
    for name, size in shots:
        with Image.open(tmp_path / name) as image:
            assert image.size == size
            rgb = image.convert("RGB")
            # The new call's panel is amber, left of centre, a third of the way down.
            assert rgb.getpixel((size[0] // 20, size[1] // 3)) == AMBER, name
            # Grabbed from the X screen: the board covers all of it (no black X root).
            assert rgb.convert("L").histogram()[0] == 0, f"{name} is cut off"
    with Image.open(tmp_path / "board-offline-1366x768.png") as image:
        header = image.convert("RGB").crop((0, 0, 1366, 80))
        assert sum(1 for p in header.getdata() if p == RED) > 500, "no offline mark"
    assert 4.0 < wav_seconds(wav) < 10.0
