"""The import rule: the core package `antrean/` imports no UI, hardware, tool or app.

Every import statement counts, at the top of a module or inside a function,
and so does `importlib.import_module("...")` with a literal name. paho-mqtt
is allowed in antrean/mqtt.py only (the one door to the network). The apps
may not import the test helpers (antrean_testing), except their screenshot
generators, which run the app against a development broker on Xvfb.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.support.helpers import ROOT

# top-level module -> why the core may not import it
FORBIDDEN_IN_CORE = {
    "kivy": "UI",
    "escpos": "printer hardware",
    "usb": "printer hardware",
    "serial": "serial hardware",
    "PIL": "images belong to the kiosk",
    "qrcode": "images belong to the kiosk",
    "gpiozero": "GPIO hardware",
    "evdev": "keypad hardware",
    "kiosk": "an app",
    "counter": "an app",
    "display_board": "an app",
    "web": "an app",
    "central": "an app",
    "psycopg": "the central service's PostgreSQL driver",
    "starlette": "the web app's framework",
    "uvicorn": "the web app's server",
    "jinja2": "the web app's templates",
    "antrean_tools": "the tools use the core, not the other way",
    "antrean_testing": "test helpers",
    "antrean_apps": "what the apps share",
    "paho": "paho-mqtt is wrapped by antrean/mqtt.py alone",
}
PAHO_HOME = "antrean/mqtt.py"
APPS = ("kiosk", "display_board", "counter", "web", "central", "antrean_apps")
FORBIDDEN_IN_APPS = {"antrean_testing": "test helpers", "antrean_tools": "the tools"}
# The web's reports and booking desk reuse what the report and booking commands
# compute, so the page says what the command says (issue 15): these modules
# only, until they move to a package the apps share.
WEB_REUSES = frozenset(
    f"antrean_tools.{m}"
    for m in ("figures", "report_cli", "report_html", "booking_cli", "booking_slips")
)
# Screenshot generators for docs/ start a development broker and Xvfb themselves.
APP_EXEMPT = {"kiosk/screenshots.py", "display_board/screenshots.py"}


def imported_modules(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, module) for every absolute import in the tree, wherever it stands."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id)
            in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value


def forbidden_imports(
    source: str, filename: str, forbidden: dict[str, str], allowed: frozenset[str] = frozenset()
) -> list[str]:
    """One line per import of a forbidden top-level module, as `file:line: imports x (why)`."""
    found = []
    for line, module in sorted(imported_modules(ast.parse(source, filename))):
        top = module.split(".")[0]
        if top in forbidden and top not in allowed:
            found.append(f"{filename}:{line}: imports {module} ({forbidden[top]})")
    return found


def modules(folder: str) -> list[Path]:
    return sorted(p for p in (ROOT / folder).rglob("*.py") if "__pycache__" not in p.parts)


def test_the_core_imports_no_ui_hardware_tool_or_app() -> None:
    found = []
    core = modules("antrean")
    assert len(core) > 10, "the core package was not found"
    for path in core:
        name = path.relative_to(ROOT).as_posix()
        allowed = frozenset({"paho"}) if name == PAHO_HOME else frozenset()
        found += forbidden_imports(
            path.read_text(encoding="utf-8"), name, FORBIDDEN_IN_CORE, allowed
        )
    assert not found, "the core imports what it must not:\n" + "\n".join(found)


def test_the_apps_do_not_import_the_test_helpers_or_the_tools() -> None:
    found = []
    for app in APPS:
        for path in modules(app):
            name = path.relative_to(ROOT).as_posix()
            if name not in APP_EXEMPT:
                lines = forbidden_imports(path.read_text(encoding="utf-8"), name, FORBIDDEN_IN_APPS)
                reused = [x for x in lines if app == "web" and x.split()[2] in WEB_REUSES]
                found += [x for x in lines if x not in reused]
    assert not found, "an app imports what it must not:\n" + "\n".join(found)


SOURCE = """\
import json
import paho.mqtt.client as paho
from antrean.domain import Ticket
from escpos.printer import Dummy


def draw():
    from kivy.uix.label import Label
    import importlib
    return importlib.import_module("antrean_tools.cli"), Label


class Board:
    def speak(self):
        import display_board.voice
"""


def test_the_checker_sees_top_level_function_local_and_dynamic_imports() -> None:
    assert forbidden_imports(SOURCE, "antrean/x.py", FORBIDDEN_IN_CORE) == [
        "antrean/x.py:2: imports paho.mqtt.client (paho-mqtt is wrapped by antrean/mqtt.py alone)",
        "antrean/x.py:4: imports escpos.printer (printer hardware)",
        "antrean/x.py:8: imports kivy.uix.label (UI)",
        "antrean/x.py:10: imports antrean_tools.cli (the tools use the core, not the other way)",
        "antrean/x.py:15: imports display_board.voice (an app)",
    ]


def test_paho_is_allowed_in_the_mqtt_adapter_only() -> None:
    found = forbidden_imports(SOURCE, PAHO_HOME, FORBIDDEN_IN_CORE, frozenset({"paho"}))
    assert not [line for line in found if "paho" in line]
    assert len(found) == 4
