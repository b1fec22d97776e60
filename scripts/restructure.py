#!/usr/bin/env python3
"""Issue 19's layout step: moves the tooling out of the core and the tests into packages.

Run from the repository root, on a clean tree: `python scripts/restructure.py`.
It `git mv`s every file in the tables below, rewrites every reference to a
moved module or file (imports, `-m` command lines, string module paths, docs,
pyproject, Makefile, deploy/), moves `NoAnswer` into the core, writes the
README's layout bullets, then sorts imports and formats the Python files it
changed with ruff. It is idempotent: a second run changes nothing. It never
commits; review `git status` and commit the result.

A test file that is not in TEST_MOVES is left where it is, with its imports
rewritten, and named in a loud warning at the end: add it to the table and
run again. The same for a module in antrean/ that is neither core nor moved.
"""

from __future__ import annotations

import argparse
import ast
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

# --- the tables --------------------------------------------------------------

# Code: old path -> new path (a folder moves with everything in it).
CODE_MOVES = {
    "antrean/cli.py": "antrean_tools/cli.py",
    "antrean/demo.py": "antrean_tools/demo.py",
    "antrean/doctor.py": "antrean_tools/doctor.py",
    "antrean/report.py": "antrean_tools/report.py",
    "antrean/report_cli.py": "antrean_tools/report_cli.py",
    "antrean/report_html.py": "antrean_tools/report_html.py",
    "antrean/figures.py": "antrean_tools/figures.py",
    "antrean/logs.py": "antrean_tools/logs.py",
    "antrean/booking_cli.py": "antrean_tools/booking_cli.py",
    "antrean/broker": "antrean_tools/broker",
    "antrean/devbroker.py": "antrean_testing/devbroker.py",
    "antrean/xvfb.py": "antrean_testing/xvfb.py",
    "antrean/client.py": "antrean_testing/client.py",
    # The apps' full screen is not the queue's business (issue 19's last step).
    "antrean/fullscreen.py": "antrean_apps/fullscreen.py",
}

NEW_PACKAGES = {
    "antrean_tools/__init__.py": (
        '"""The tools around the queue: the `antrean` command line, the demo, the doctor,\n'
        "the day's report and the office broker's files. They use the core; the core\n"
        'never imports them."""\n'
    ),
    "antrean_apps/__init__.py": (
        '"""What the Kivy apps share that is not the queue\'s core: the X screen\'s size\n'
        'for their full screen. No UI import at module level."""\n'
    ),
    "antrean_testing/__init__.py": (
        '"""Helpers for tests, benchmarks, screenshots and the demo: a development Mosquitto,\n'
        'a private Xvfb screen and a request/reply client of the queue service."""\n'
    ),
}

# What antrean/ keeps (plus what the other streams of issue 19 add), for the README
# bullet and for the warning about modules nobody placed.
CORE_MODULES = {
    "__init__.py": "",
    "domain.py": "tickets, codes, statuses and the queue's errors",
    "engine.py": "every queue rule, no I/O, clock injected",
    "actions.py": "the one table of actions",
    "lanes.py": "the order in which waiting tickets are called",
    "hours.py": "opening hours",
    "protocol.py": "topics, command parsing, roles",
    "wire.py": "the JSON of events, replies and retained states",
    "store.py": "SQLite, WAL, synchronous FULL, migrations",
    "service.py": "the queue service",
    "runner.py": "the queue service as a process",
    "ratelimit.py": "a token bucket per device",
    "rival.py": "another queue service for the office, found and yielded to",
    "mqtt.py": "the only module that imports paho-mqtt",
    "device.py": "every app's MQTT session: presence, health, commands, retained state",
    "config.py": "the office config, validated into typed models",
    "systemd.py": "sd_notify",
    "disk.py": "a full disk under the store, named",
    "calls.py": "the record of every call (first call, recalls, no-shows, moves)",
    "stock.py": "the blank-card ledger's rules",
    "progress.py": "the recording drive's progress per kelurahan",
    "booking.py": "pre-registration: NIK checks, keyed hashes, slots, codes",
    "backends.py": "the small registry the apps' hardware backends register in",
    "events.py": "typed events and results, and the EventKind every client uses",
    "bookings.py": "the bookings the engine holds in memory (a week back and the horizon)",
    "checkpoint.py": "the WAL written back on a thread of its own, never inside a commit",
}

# Tests: old path -> new path, under tests/. Shared helpers go to tests/support/.
TEST_MOVES = {
    # shared helpers
    "helpers.py": "support/helpers.py",
    "mqtt_watch.py": "support/mqtt_watch.py",
    "kivy_harness.py": "support/kivy_harness.py",
    "counter_helpers.py": "support/counter_helpers.py",
    "broker_world.py": "support/broker_world.py",
    "mqtt5_probe.py": "support/mqtt5_probe.py",
    "board/helpers.py": "support/board.py",  # make_board is used end to end too
    "stall_proxy.py": "support/stall_proxy.py",  # issue 18 (counter stall), if merged
    "layout_check.py": "support/layout_check.py",  # issue 18 (screens), if merged
    # core
    "test_engine.py": "core/test_engine.py",
    "test_engine_state_machine.py": "core/test_engine_state_machine.py",
    "test_store.py": "core/test_store.py",
    "test_config.py": "core/test_config.py",
    "test_mqtt.py": "core/test_mqtt.py",
    "test_device.py": "core/test_device.py",
    "test_systemd_notify.py": "core/test_systemd_notify.py",
    "test_domain.py": "core/test_domain.py",
    "test_lanes.py": "core/test_lanes.py",
    "test_hours.py": "core/test_hours.py",
    "test_import_rule.py": "core/test_import_rule.py",
    # protocol (issue 19 stream B's checks of the contract, if they land flat)
    "test_protocol.py": "protocol/test_protocol.py",
    "test_protocol_doc.py": "protocol/test_protocol_doc.py",
    "test_actions.py": "protocol/test_actions.py",
    "test_wire.py": "protocol/test_wire.py",
    "test_actions_doc.py": "protocol/test_actions_doc.py",
    "test_protocol_examples.py": "protocol/test_protocol_examples.py",
    # service
    "test_service.py": "service/test_service.py",
    "test_crash.py": "service/test_crash.py",
    "test_burst.py": "service/test_burst.py",  # issue 18, if merged
    "test_rival.py": "service/test_rival.py",  # issue 18, if merged
    "test_disk_full.py": "service/test_disk_full.py",
    "test_stock.py": "service/test_stock.py",
    "test_booking.py": "service/test_booking.py",
    # kiosk
    "test_kiosk_app.py": "kiosk/test_app.py",
    "test_kiosk_config.py": "kiosk/test_config.py",
    "test_kiosk_controller.py": "kiosk/test_controller.py",
    "test_kiosk_printer.py": "kiosk/test_printer.py",
    "test_kiosk_screenshots.py": "kiosk/test_screenshots.py",
    "test_kiosk_view.py": "kiosk/test_view.py",
    "test_kiosk_layout.py": "kiosk/test_layout.py",  # issue 18, if merged
    "test_kiosk_no_counter.py": "kiosk/test_no_counter.py",
    "test_kiosk_registry.py": "kiosk/test_registry.py",
    "test_kiosk_booking.py": "kiosk/test_booking.py",
    "test_fullscreen.py": "kiosk/test_fullscreen.py",  # the kiosk's and the board's
    # counter
    "test_counter_agent.py": "counter/test_agent.py",
    "test_counter_cli.py": "counter/test_cli.py",
    "test_counter_console.py": "counter/test_console.py",
    "test_counter_sources.py": "counter/test_sources.py",
    "test_counter_stall.py": "counter/test_stall.py",  # issue 18, if merged
    "test_counter_console_layout.py": "counter/test_console_layout.py",  # issue 18, if merged
    "test_counter_registry.py": "counter/test_registry.py",
    # tools
    "test_broker_access.py": "tools/test_broker_access.py",
    "test_broker_bridge.py": "tools/test_broker_bridge.py",
    "test_broker_e2e.py": "tools/test_broker_e2e.py",
    "test_broker_provision.py": "tools/test_broker_provision.py",
    "test_doctor.py": "tools/test_doctor.py",
    "test_report.py": "tools/test_report.py",
    "test_demo.py": "tools/test_demo.py",
    "test_deploy.py": "tools/test_deploy.py",
    "test_cli.py": "tools/test_cli.py",
    "test_config_check.py": "tools/test_config_check.py",  # issue 18, if merged
    "test_cli_help.py": "tools/test_cli_help.py",
    "test_report_browser.py": "tools/test_report_browser.py",
    "test_wheel.py": "tools/test_wheel.py",  # the built wheel, installed outside the tree
    # end to end
    "test_e2e_busy_morning.py": "e2e/test_busy_morning.py",
    "test_e2e_office.py": "e2e/test_office.py",
    "test_e2e_month.py": "e2e/test_month.py",
    # the test harness itself (tests/support, antrean_testing)
    "test_kivy_harness.py": "testing/test_kivy_harness.py",
}
TEST_PACKAGES = ("support", "core", "protocol", "service", "kiosk", "counter", "board", "tools")
TEST_PACKAGES += ("e2e", "testing")
TESTS_STAY = {"__init__.py", "conftest.py"}

# (module, name) -> the core module that defines it after the step; "" = find it.
NAME_MOVES = {("antrean.client", "NoAnswer"): "", ("antrean_testing.client", "NoAnswer"): ""}

TEXT_SUFFIXES = {".py", ".md", ".toml", ".sh", ".service", ".cfg", ".ini", ".txt", ".conf"}
TEXT_NAMES = {"Makefile", "user-data", "run"}
SELF = "scripts/restructure.py"

# --- helpers -----------------------------------------------------------------


@dataclass
class Run:
    """What this run did and what a person must look at."""

    dry: bool
    moved: list[tuple[str, str]] = field(default_factory=list)
    changed: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)

    def warn(self, text: str) -> None:
        self.warnings.append(text)
        print(f"WARNING: {text}", file=sys.stderr)


def git(*args: str) -> str:
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout


def tracked(under: str = ".") -> list[str]:
    """Tracked and untracked-but-not-ignored files, as repository paths."""
    out = git("ls-files", "-co", "--exclude-standard", "--", under)
    return sorted(p for p in out.splitlines() if Path(p).is_file())


def module_of(path: str) -> str:
    """The dotted module name of a .py path ("tests/support/__init__.py" -> tests.support)."""
    parts = list(Path(path).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def file_moves() -> dict[str, str]:
    """Every file-level move: code moves expanded over their folders, and test moves."""
    moves: dict[str, str] = {}
    for old, new in CODE_MOVES.items():
        if old.endswith(".py"):
            moves[old] = new
            continue
        for base in (old, new):  # before the move, or already moved (a second run)
            for path in tracked(base):
                rel = Path(path).relative_to(base).as_posix()
                moves[f"{old}/{rel}"] = f"{new}/{rel}"
    for old, new in TEST_MOVES.items():
        moves[f"tests/{old}"] = f"tests/{new}"
    return moves


def module_map(moves: dict[str, str]) -> dict[str, str]:
    """Old dotted module -> new dotted module, for every moved .py file and moved folder."""
    mapping = {module_of(o): module_of(n) for o, n in moves.items() if o.endswith(".py")}
    for old, new in CODE_MOVES.items():
        if not old.endswith(".py"):
            mapping[old.replace("/", ".")] = new.replace("/", ".")
    return mapping


def renamed(module: str, mapping: dict[str, str]) -> str:
    """The module's new name: the longest moved prefix replaced."""
    parts = module.split(".")
    for i in range(len(parts), 0, -1):
        head = ".".join(parts[:i])
        if head in mapping:
            return ".".join([mapping[head], *parts[i:]])
    return module


# --- step 1: moves -----------------------------------------------------------


def move(run: Run, old: str, new: str) -> None:
    if not Path(old).exists():
        return
    if Path(new).exists():
        run.warn(f"{old} and {new} both exist: merge them by hand, then run again")
        return
    run.moved.append((old, new))
    if run.dry:
        return
    Path(new).parent.mkdir(parents=True, exist_ok=True)
    git("mv", old, new)
    leftover = Path(old).parent
    for cache in leftover.glob("__pycache__"):
        shutil.rmtree(cache)  # stale .pyc would let a moved module still import


def write_new(run: Run, path: str, text: str) -> None:
    if Path(path).exists():
        return
    run.changed.add(path)
    if not run.dry:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text, encoding="utf-8")
        git("add", path)


def do_moves(run: Run) -> None:
    for path, text in NEW_PACKAGES.items():
        write_new(run, path, text)
    for folder in TEST_PACKAGES:
        write_new(run, f"tests/{folder}/__init__.py", "")
    for old, new in CODE_MOVES.items():
        if old.endswith(".py"):
            move(run, old, new)
        elif Path(old).is_dir():
            for path in tracked(old):
                move(run, path, new + path[len(old) :])
            if Path(old).is_dir() and not any(Path(old).rglob("*.py")):
                shutil.rmtree(old)
    for old, new in TEST_MOVES.items():
        move(run, f"tests/{old}", f"tests/{new}")


# --- step 2: NoAnswer into the core ------------------------------------------


def core_files() -> list[str]:
    return [p for p in tracked("antrean") if p.endswith(".py")]


def defining_module(name: str) -> str | None:
    for path in core_files():
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
        if any(isinstance(n, ast.ClassDef) and n.name == name for n in tree.body):
            return module_of(path)
    return None


def move_no_answer(run: Run) -> None:
    """Moves `class NoAnswer` from the test client into antrean/device.py (once)."""
    client = Path("antrean_testing/client.py")
    if defining_module("NoAnswer") or not client.exists():
        return
    source = client.read_text(encoding="utf-8")
    tree = ast.parse(source)
    node = next(
        (n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "NoAnswer"), None
    )
    if node is None:
        run.warn("NoAnswer is defined neither in the core nor in antrean_testing/client.py")
        return
    lines = source.splitlines(keepends=True)
    block = "".join(lines[node.lineno - 1 : node.end_lineno])
    del lines[node.lineno - 1 : node.end_lineno]
    imports = [
        n for n in ast.parse("".join(lines)).body if isinstance(n, ast.Import | ast.ImportFrom)
    ]
    lines.insert(imports[-1].end_lineno or 0, "from antrean.device import NoAnswer\n")
    client.write_text(re.sub(r"\n{4,}", "\n\n\n", "".join(lines)), encoding="utf-8")
    device = Path("antrean/device.py")
    text = device.read_text(encoding="utf-8")
    first = next(n for n in ast.parse(text).body if isinstance(n, ast.ClassDef | ast.FunctionDef))
    at = first.decorator_list[0].lineno if first.decorator_list else first.lineno
    dlines = text.splitlines(keepends=True)
    dlines.insert(at - 1, block + "\n\n")
    device.write_text("".join(dlines), encoding="utf-8")
    run.changed |= {str(client), str(device)}


# --- step 3: imports (AST) ----------------------------------------------------


def resolve_relative(module: str, is_package: bool, level: int, name: str | None) -> str:
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join([*base, name] if name else base)


def alias_text(alias: ast.alias) -> str:
    return f"{alias.name} as {alias.asname}" if alias.asname else alias.name


def rewrite_imports(
    path: str, old_path: str, mapping: dict[str, str], moved: bool, homes: dict[str, str], run: Run
) -> str | None:
    """The file's text with its imports of moved modules made absolute and renamed.

    `from X import a` is edited when X (or X.a, for a module) moved, when `a`
    moved to another module (NAME_MOVES), or when it is relative and either
    this file or X moved; relative imports between files that stay are kept.
    """
    text = Path(path).read_text(encoding="utf-8")
    tree = ast.parse(text, path)
    own = module_of(path)
    old_module, is_package = module_of(old_path), old_path.endswith("__init__.py")
    edits: list[tuple[int, int, int, int, list[str], bool]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            target = resolve_relative(old_module, is_package, node.level, node.module)
        else:
            target = node.module or ""
        new_target = renamed(target, mapping)
        groups: dict[str, list[str]] = {}
        for alias in node.names:
            module, text_alias = new_target, alias_text(alias)
            sub = f"{target}.{alias.name}"
            if renamed(sub, mapping) != f"{new_target}.{alias.name}":  # `from antrean import cli`
                module, name = renamed(sub, mapping).rsplit(".", 1)
                local = alias.asname or alias.name
                text_alias = name if name == local else f"{name} as {local}"
            elif (new_target, alias.name) in NAME_MOVES or (target, alias.name) in NAME_MOVES:
                module = homes.get(alias.name, module)
            if module == own:
                continue  # the name is defined in this very file now
            groups.setdefault(module, []).append(text_alias)
        if list(groups) == [target] and not (node.level and moved):
            continue
        statements = [f"from {m} import {', '.join(names)}" for m, names in groups.items()]
        only_module = len(groups) == 1 and next(iter(groups.values())) == [
            alias_text(a) for a in node.names
        ]
        span = "".join(text.splitlines(keepends=True)[node.lineno - 1 : node.end_lineno])
        if "#" in span and not only_module:
            run.warn(f"{path}:{node.lineno}: check the comment of this rewritten import")
        end = (node.end_lineno or node.lineno, node.end_col_offset or 0)
        edits.append((node.lineno, node.col_offset, *end, statements, only_module))
    if not edits:
        return None
    lines = text.splitlines(keepends=True)
    for lineno, col, end_lineno, end_col, statements, only_module in sorted(edits, reverse=True):
        first = lines[lineno - 1]
        if only_module:  # keep the names, their layout and any comments; swap the module
            module = statements[0].split(" import ", 1)[0][len("from ") :]
            rest = re.sub(r"from\s+\.*[\w.]*", f"from {module}", first[col:], count=1)
            lines[lineno - 1] = first[:col] + rest
            continue
        tail = lines[end_lineno - 1][end_col:]
        if not statements and not first[:col].strip() and not tail.strip():
            del lines[lineno - 1 : end_lineno]  # nothing left to import
            continue
        body = ("\n" + first[:col]).join(statements) if statements else "pass"
        lines[lineno - 1 : end_lineno] = [first[:col] + body + tail]
    return "".join(lines)


# --- step 4: text (module paths, file paths) ----------------------------------


def text_rules(moves: dict[str, str], mapping: dict[str, str]) -> list[tuple[re.Pattern[str], str]]:
    rules: list[tuple[re.Pattern[str], str]] = []
    code = {o: n for o, n in mapping.items() if o.startswith("antrean.")}
    # antrean.cli, antrean.broker.acl, "-m antrean.cli", "antrean.cli:main"; not antrean.toml.
    for old, new in sorted(code.items(), key=lambda kv: -len(kv[0])):
        rules.append((re.compile(rf"(?<![\w.]){re.escape(old)}(?!\w)"), new))
    # File paths; not /etc/antrean/broker (a folder on the Pi).
    for old, new in CODE_MOVES.items():
        rules.append((re.compile(rf"(?<![\w./-]){re.escape(old)}(?![\w-])"), new))
    for old, new in sorted(moves.items(), key=lambda kv: -len(kv[0])):
        if old.startswith("tests/"):
            rules.append((re.compile(rf"(?<![\w./-]){re.escape(old)}(?!\w)"), new))
            bare = old[len("tests/") :]
            if bare.startswith("test_"):  # `test_e2e_office.py` in prose
                rules.append((re.compile(rf"(?<![\w./-]){re.escape(bare)}(?!\w)"), new))
    return rules


def rewrite_text(text: str, rules: list[tuple[re.Pattern[str], str]]) -> str:
    for pattern, new in rules:
        text = pattern.sub(new, text)
    return text


def is_text_file(path: str) -> bool:
    p = Path(path)
    return p.suffix in TEXT_SUFFIXES or p.name in TEXT_NAMES or path.startswith("deploy/")


# --- step 5: pyproject and README ---------------------------------------------


def edit_pyproject(text: str) -> str:
    text = text.replace(
        'include = ["antrean*",',
        'include = ["antrean", "antrean.*", "antrean_tools*", "antrean_testing*",',
    )
    if '"antrean_tools"' not in text:
        text = text.replace(
            'packages = ["antrean",', 'packages = ["antrean", "antrean_tools", "antrean_testing",'
        )
    return text.replace(
        'module = ["antrean.*"]', 'module = ["antrean.*", "antrean_tools.*", "antrean_testing.*"]'
    )


README_TESTS = """\
- `tests/`: one package per package of the code: `tests/core` (engine,
  hypothesis state machine, store, config, MQTT adapter, device link, the
  import rule), `tests/protocol`, `tests/service` (the queue service, crash
  tests that SIGKILL it under load), `tests/kiosk`, `tests/counter`,
  `tests/board`, `tests/tools` (broker, doctor, report, demo, provisioning:
  shellcheck and `systemd-analyze verify`), `tests/e2e` (the whole office:
  a kiosk tap to a served resident, and a busy morning of 300 tickets
  checked against the day's figures) and `tests/testing` (the harness).
  Shared helpers are in `tests/support/`, shared fixtures in
  `tests/conftest.py`. Everything is real: Mosquitto on loopback, Kivy
  windows on a private Xvfb that starts only once a test imports Kivy
  (touches through Kivy's touch events, screenshots read back from the
  framebuffer), exact printer bytes decoded back, espeak-ng clips measured
  as WAV.
"""


def readme_core_bullets() -> str:
    names = sorted(p.name for p in Path("antrean").glob("*.py") if p.name != "__init__.py")
    parts = [f"`{n}` ({CORE_MODULES[n]})" if CORE_MODULES.get(n) else f"`{n}`" for n in names]
    core = wrap(
        "- `antrean/`: the core and the queue service, nothing else (typed, strict; "
        "no UI, hardware, tool or app imports, checked by `tests/core/test_import_rule.py`): "
        + ", ".join(parts)
        + "."
    )
    tools = wrap(
        "- `antrean_tools/`: what a technician runs around the queue: `cli.py` "
        "(the `antrean` command), `demo.py`, `doctor.py`, `report.py` and "
        "`report_cli.py` (`antrean report`), `broker/` (`antrean broker`)."
    )
    testing = wrap(
        "- `antrean_testing/`: for tests, benchmarks, screenshots and the demo: "
        "`devbroker.py` (a Mosquitto on a free loopback port), `xvfb.py` (a private "
        "X screen), `client.py` (`QueueClient`, request/reply as one device)."
    )
    return core + tools + testing


def wrap(text: str, width: int = 78) -> str:
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = "  " + word
        else:
            line = f"{line} {word}" if line else word
    return "\n".join([*lines, line]) + "\n"


def replace_bullet(run: Run, text: str, start: str, new: str) -> str:
    """Replaces the Layout section's bullet that begins with `start` (up to the next bullet)."""
    section = re.search(r"^## Layout\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    if section is None:
        run.warn("README.md has no '## Layout' section")
        return text
    bullet = re.search(rf"^{re.escape(start)}.*?(?=^- |^\s*$)", section.group(1), re.S | re.M)
    if bullet is None:
        run.warn(f"README.md's Layout has no bullet starting with {start!r}")
        return text
    a = section.start(1) + bullet.start()
    return text[:a] + new + text[section.start(1) + bullet.end() :]


def edit_readme(run: Run, text: str) -> str:
    if "`antrean_tools/`" not in text:
        text = replace_bullet(run, text, "- `antrean/`:", readme_core_bullets())
    if "`tests/support/`" not in text:
        text = replace_bullet(run, text, "- `tests/`:", README_TESTS)
    return text


# --- the run -----------------------------------------------------------------


def rewrite_all(run: Run, moves: dict[str, str]) -> None:
    mapping = module_map(moves)
    back = {new: old for old, new in run.moved}
    rules = text_rules(moves, mapping)
    homes = {name: defining_module(name) or "antrean.device" for _, name in NAME_MOVES}
    for path in tracked():
        if path == SELF or not is_text_file(path):
            continue
        original = Path(path).read_text(encoding="utf-8")
        text = original
        if path.endswith(".py"):
            new = rewrite_imports(path, back.get(path, path), mapping, path in back, homes, run)
            text = new if new is not None else text
        text = rewrite_text(text, rules)
        if path == "pyproject.toml":
            text = edit_pyproject(text)
        if path == "README.md":
            text = edit_readme(run, text)
        if text != original:
            run.changed.add(path)
            if not run.dry:
                Path(path).write_text(text, encoding="utf-8")


def tidy(run: Run) -> None:
    """Sorts imports and formats the Python files this run changed (ruff, as `make lint`)."""
    files = sorted(p for p in run.changed | {n for _, n in run.moved} if p.endswith(".py"))
    files = [p for p in files if Path(p).exists()]
    beside = Path(sys.executable).parent / "ruff"  # the venv's ruff, as `make lint` runs it
    ruff = str(beside) if beside.exists() else shutil.which("ruff")
    if not files:
        return
    if ruff is None:
        run.warn("ruff not found: run `ruff check --select I --fix . && ruff format .` yourself")
        return
    subprocess.run([ruff, "check", "--select", "I", "--fix", "--quiet", *files], check=False)
    subprocess.run([ruff, "format", "--quiet", *files], check=False)
    lint = subprocess.run(
        [ruff, "check", "--quiet", *files], check=False, capture_output=True, text=True
    )
    if lint.returncode:  # e.g. a docstring that the longer module name made too long
        run.warn(
            "ruff check fails on rewritten files; reword them at their old path:\n" + lint.stdout
        )


def check_leftovers(run: Run, moves: dict[str, str]) -> None:
    for path in sorted(Path("antrean").glob("*.py")):
        if path.name not in CORE_MODULES:
            run.warn(f"{path} is neither core nor in CODE_MOVES: place it and run again")
    for path in sorted(Path("antrean").iterdir()):
        if path.is_dir() and path.name != "__pycache__":
            run.warn(f"{path}/ is neither core nor in CODE_MOVES: place it and run again")
    destinations = set(moves.values())
    for path in sorted(Path("tests").glob("*.py")):
        rel = path.as_posix()
        if path.name not in TESTS_STAY and rel not in destinations:
            run.warn(f"{rel} is not in TEST_MOVES: it stays flat; add it to the table, run again")
    depth = re.compile(r"__file__\)[^\n]*(\.parent\.parent|parents\[)")
    for _, new in run.moved:
        if new.endswith(".py") and depth.search(Path(new).read_text(encoding="utf-8")):
            run.warn(f"{new} finds a folder by its depth from __file__: check it after the move")
    code = {k: v for k, v in moves.items() if not k.startswith("tests/")}
    rules = text_rules(code, module_map(code))
    for path in tracked():
        if path != SELF and is_text_file(path):
            text = Path(path).read_text(encoding="utf-8")
            for pattern, _ in rules:
                for m in pattern.finditer(text):
                    line = text.count("\n", 0, m.start()) + 1
                    run.warn(f"{path}:{line}: still names {m.group(0)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dry-run", action="store_true", help="say what would move, change nothing"
    )
    args = parser.parse_args(argv)
    root = git("rev-parse", "--show-toplevel").strip()
    if Path.cwd().resolve() != Path(root).resolve():
        print(f"run me from the repository root ({root})", file=sys.stderr)
        return 2
    run = Run(dry=args.dry_run)
    moves = file_moves()
    do_moves(run)
    if not run.dry:
        move_no_answer(run)
        rewrite_all(run, moves)
        tidy(run)
        check_leftovers(run, moves)
    for old, new in run.moved:
        print(f"moved   {old} -> {new}")
    for path in sorted(run.changed):
        print(f"changed {path}")
    if not run.moved and not run.changed:
        print("nothing to do: the layout is already in place")
    if run.warnings:
        print(f"\n{len(run.warnings)} WARNING(S), see above:", file=sys.stderr)
        for w in run.warnings:
            print(f"  - {w}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
