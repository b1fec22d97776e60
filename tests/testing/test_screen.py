"""Xvfb starts only for tests that open a window (the first `import kivy` of a run)."""

from __future__ import annotations

import subprocess
import sys

from tests.support.helpers import ROOT

# Collects each group of tests in turn, in one fresh process, and prints how
# many Xvfb processes are its children once the group is collected (before
# pytest's clean-up stops them).
COLLECT = """\
import os, sys, pytest
from pathlib import Path


def xvfb_children():
    found = 0
    for proc in Path("/proc").iterdir():
        try:
            stat = (proc / "stat").read_text()
        except OSError:
            continue
        name, fields = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :]
        found += name == "Xvfb" and int(fields.split()[1]) == os.getpid()
    return found


class Probe:
    def pytest_collection_finish(self, session):
        print(f"{' '.join(session.config.args)}: {xvfb_children()} Xvfb")


for tests in sys.argv[1:]:
    args = ["--collect-only", "-q", "-p", "no:cacheprovider", *tests.split()]
    assert pytest.main(args, plugins=[Probe()]) == 0, tests
"""


def test_a_screen_only_once_kivy_is_imported() -> None:
    groups = ["tests/core", "tests/board/test_numbers.py", "tests/board/test_app.py"]
    run = subprocess.run(
        [sys.executable, "-c", COLLECT, *groups],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert [line for line in run.stdout.splitlines() if line.endswith(" Xvfb")] == [
        "tests/core: 0 Xvfb",
        "tests/board/test_numbers.py: 0 Xvfb",
        "tests/board/test_app.py: 1 Xvfb",
    ]
