"""One check for the whole file: check-config refuses what any app would refuse, and typos.

Each case is a mistake a technician makes; check-config must name its file,
line and key, and say exactly what the program that reads the section says
when it starts (so an OK from check-config means every app will start).
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from antrean.config import (
    APP_SECTIONS,
    Config,
    ConfigError,
    check_app_sections,
    load_config,
    parse_config,
)
from antrean_tools.cli import main
from antrean_tools.doctor import Doctor
from central.config import parse_central_config
from counter.settings import counter_inputs
from display_board.settings import board_settings
from kiosk.settings import kiosk_settings
from tests.e2e.test_busy_morning import INPUTS as BUSY_MORNING_INPUTS
from tests.support.counter_helpers import INPUTS_1, counter_config
from tests.support.helpers import EXAMPLE, ROOT, example_text


def queue_service(config: Config) -> None:
    """The core's own parse already ran in load_config: nothing more to read."""


# (old text, new text, dotted key, message after "key: ", the reader that refuses it at start)
CASES: list[tuple[str, str, str, str, Callable[[Config], Any]]] = [
    (
        'language = "id"',
        'language = "jv"',
        "kiosk.language",
        "must be 'id' or 'en', got 'jv'",
        kiosk_settings,
    ),
    (
        "home_after_s = 8",
        "home_aftr_s = 8",
        "kiosk.home_aftr_s",
        "unknown key; did you mean home_after_s?",
        kiosk_settings,
    ),
    (
        "keyboard = true",
        "keybord = true",
        "counter_inputs.1.keybord",
        "unknown key; did you mean keyboard?",
        lambda c: counter_inputs(c, 1),
    ),
    (
        "recent_rows = 6",
        'recent_rows = "six"',
        "board.recent_rows",
        "must be a whole number from 0 to 10, got 'six'",
        board_settings,
    ),
    (
        "recall_limit = 3",
        "recal_limit = 3",
        "queue.recal_limit",
        "unknown key; did you mean recall_limit?",
        queue_service,
    ),
    (
        "daily_quota = 80",
        "quota = 80",
        "service[1].quota",
        "unknown key; did you mean daily_quota?",
        queue_service,
    ),
    ("[board]\n", "[boardd]\n", "boardd", "unknown section; did you mean [board]?", queue_service),
    ("[office]\n", "[offic]\n", "offic", "unknown section; did you mean [office]?", queue_service),
    (
        "[[service]]\ncode",
        "[[services]]\ncode",
        "services",
        "unknown section; did you mean [[service]]?",
        queue_service,
    ),
    (
        "[office.hours]\n",
        "[office.hour]\n",
        "office.hour",
        "unknown key; did you mean hours?",
        queue_service,
    ),
]


def line_of(text: str, new: str) -> int:
    first = new.splitlines()[0]
    return next(n for n, raw in enumerate(text.splitlines(), 1) if raw.startswith(first))


@pytest.mark.parametrize(
    ("old", "new", "key", "message", "reader"), CASES, ids=[c[2] for c in CASES]
)
def test_check_config_refuses_each_mistake_as_the_program_that_reads_it_does(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    old: str,
    new: str,
    key: str,
    message: str,
    reader: Callable[[Config], Any],
) -> None:
    text = example_text(edit={old: new})
    path = tmp_path / "antrean.toml"
    path.write_text(text, encoding="utf-8")
    expected = f"{path}:{line_of(text, new)}: {key}: {message}"

    assert main(["check-config", "--config", str(path)]) == 2
    assert capsys.readouterr().err == f"antrean: config error: {expected}\n"
    # The same words from the program that reads the section, when it starts.
    with pytest.raises(ConfigError) as refused:
        reader(load_config(path))
    assert str(refused.value) == expected


def test_every_program_refuses_an_unknown_section_before_it_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "antrean.toml"
    text = example_text(edit={"[board]\n": "[boardd]\n"})
    path.write_text(text, encoding="utf-8")
    expected = f"{path}:{line_of(text, '[boardd]')}: boardd: unknown section; did you mean [board]?"
    for command in (["queue"], ["kiosk"], ["board"], ["counter", "--counter", "1"], ["doctor"]):
        status = main([*command, "--config", str(path)])
        err = capsys.readouterr()
        assert status in (1, 2), command
        assert expected in err.err + err.out, (command, err)


def test_doctor_fails_the_config_on_an_app_section_and_stops_there(tmp_path: Path) -> None:
    path = tmp_path / "antrean.toml"
    path.write_text(example_text(edit={'language = "id"': 'language = "jv"'}), encoding="utf-8")
    results = list(Doctor(path).checks())
    assert [(r.status, r.name) for r in results] == [("FAIL", "config")]
    assert "kiosk.language: must be 'id' or 'en', got 'jv'" in results[0].detail


def test_a_name_with_nothing_close_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as bad:
        parse_config(example_text() + "\n[zzz]\n", source="antrean.toml")
    assert re.fullmatch(
        r"antrean.toml:\d+: zzz: unknown section; known: \[board\], .*", str(bad.value)
    )
    assert "[[service]]" in str(bad.value)
    text = example_text(edit={"recall_limit = 3": "xyzzy = 3"})
    with pytest.raises(
        ConfigError, match=r"queue.xyzzy: unknown key; known: default_service_time_s, "
    ):
        parse_config(text, source="antrean.toml")


def test_the_core_imports_no_app_to_parse_and_the_checkers_import_no_hardware_library() -> None:
    code = (
        "import sys\n"
        "from antrean.config import load_config, check_app_sections\n"
        f"config = load_config({str(EXAMPLE)!r})\n"
        "assert not {'kiosk', 'counter', 'display_board', 'web'} & set(sys.modules), sys.modules\n"
        "check_app_sections(config)\n"
        "heavy = {'kivy', 'escpos', 'gpiozero', 'evdev', 'serial', 'usb', 'paho', 'PIL',"
        " 'qrcode', 'starlette', 'uvicorn', 'jinja2'}\n"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert run.stdout.strip() == "[]", run.stdout + run.stderr
    assert set(APP_SECTIONS) == {
        "kiosk.settings",
        "counter.settings",
        "display_board.settings",
        "web.settings",
    }


PI_PASSWORDS = "/etc/antrean/broker/clients/{user}.password"


def toml_blocks(page: Path) -> list[str]:
    """The ```toml examples of a page."""
    return re.findall(r"```toml\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.S)


# An example that shows a [[device]] adds that device to the office (or shows
# one it has); it does not mean that the office has no other devices.
ADDED_ARRAYS = {"device"}


def with_tables(base: str, fragment: str) -> str:
    """`base` with the tables that `fragment` writes replaced by the fragment's.

    A [[device]] of the fragment replaces only the base's device of that id.
    """
    parsed = tomllib.loads(fragment)
    names = set(parsed) - ADDED_ARRAYS
    ids = {d["id"] for d in parsed.get("device", [])}
    blocks: list[list[str]] = [[]]
    for line in base.splitlines(keepends=True):
        if re.match(r"\s*\[", line):
            blocks.append([])
        blocks[-1].append(line)
    kept = []
    for block in blocks:
        header = re.match(r"\s*\[\[?\s*([\w]+)", block[0]) if block else None
        name = header.group(1) if header else ""
        if name in names:
            continue
        if name == "device" and tomllib.loads("".join(block))["device"][0]["id"] in ids:
            continue
        kept.extend(block)
    return "".join(kept) + "\n" + fragment


DOC_PAGES = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]


@pytest.mark.parametrize(
    "block",
    [(p.name, i, b) for p in DOC_PAGES for i, b in enumerate(toml_blocks(p))],
    ids=lambda b: f"{b[0]}-{b[1]}",
)
def test_every_config_example_in_the_docs_checks_out(tmp_path: Path, block: tuple) -> None:
    _, _, fragment = block
    if "central" in tomllib.loads(fragment):  # the central service's own file (docs/central.md)
        parse_central_config(textwrap.dedent(fragment), "central.toml", tmp_path)
        return
    config = parse_config(with_tables(example_text(), fragment), "doc.toml", tmp_path)
    check_app_sections(config)


def test_the_example_and_the_test_configs_check_out(tmp_path: Path) -> None:
    assert main(["check-config", "--config", str(EXAMPLE)]) == 0
    for inputs in (INPUTS_1, BUSY_MORNING_INPUTS):
        check_app_sections(counter_config(tmp_path, 1883, inputs))
    # As provisioning writes it (scripts/test-provision.sh, tests/tools/test_deploy.py).
    pi = example_text(
        edit={
            'path = "var/antrean.db"': 'path = "/var/lib/antrean/antrean.db"',
            'clips = "var/voice"': 'clips = "/var/lib/antrean/voice"',
            "port = 1883\n": f"port = 1883\npassword_file = {PI_PASSWORDS!r}\n",
        }
    )
    check_app_sections(parse_config(pi, "pi.toml", tmp_path))
