"""docs/protocol.md against the action table: one section per action, its args and roles."""

from __future__ import annotations

import re

from antrean.actions import ACTIONS, Action
from antrean.domain import Role
from tests.support.helpers import ROOT

DOC = ROOT / "docs" / "protocol.md"
JSON_TYPES = {str: "string", int: "integer", bool: "boolean", list: "array"}


def action_sections() -> dict[str, str]:
    """`### name` -> its text, for every section under `## Actions`."""
    text = DOC.read_text(encoding="utf-8")
    part = text.split("\n## Actions\n", 1)[1].split("\n## ", 1)[0]
    chunks = re.split(r"^### (\S+)\n", part, flags=re.M)[1:]
    return dict(zip(chunks[::2], chunks[1::2], strict=True))


def documented_args(section: str) -> dict[str, tuple[str, bool]]:
    """arg -> (JSON type, required) from the section's argument table."""
    rows = re.findall(r"^\| `(\w+)` \| (\w+) \| (yes|no)\b", section, flags=re.M)
    return {name: (kind, req == "yes") for name, kind, req in rows}


def documented_roles(section: str) -> frozenset[Role]:
    """The roles the section's "Who:" sentence names."""
    who = re.search(r"Who:(.*?)\.(\s|$)", section, flags=re.S)
    assert who, "no 'Who:' sentence"
    words = who.group(1)
    if "every role" in words:
        return frozenset(Role)
    return frozenset(r for r in Role if re.search(rf"\b{r.value}\b", words))


def expected_args(action: Action) -> dict[str, tuple[str, bool]]:
    return {n: (JSON_TYPES[a.type], a.required) for n, a in action.args.items()}


def test_every_action_has_a_section_naming_its_args_and_roles() -> None:
    sections = action_sections()
    problems = []
    for name, action in ACTIONS.items():
        section = sections.get(name)
        if section is None:
            problems.append(f"{name}: no '### {name}' section")
            continue
        if documented_args(section) != expected_args(action):
            problems.append(f"{name}: args {documented_args(section)} != {expected_args(action)}")
        if not action.args and "No arguments." not in section:
            problems.append(f"{name}: takes no arguments but does not say so")
        if documented_roles(section) != action.roles:
            problems.append(
                f"{name}: roles {sorted(documented_roles(section))} != {sorted(action.roles)}"
            )
    assert not problems, "\n".join(problems)


def test_no_section_names_an_action_the_table_lacks() -> None:
    assert set(action_sections()) - set(ACTIONS) == set()


def test_the_roles_table_lists_every_action_once() -> None:
    text = DOC.read_text(encoding="utf-8").split("### Roles", 1)[1].split("\n##", 1)[0]
    rows = re.findall(r"^\| (`.*?) \|", text, flags=re.M)
    listed = [n for row in rows for n in re.findall(r"`(\w+)`", row)]
    assert sorted(listed) == sorted(ACTIONS)
