"""`antrean --help` and every subcommand's help: each option says what it is."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from antrean.config import DEFAULT_PATH
from antrean_tools.cli import build_parser


def parsers(
    parser: argparse.ArgumentParser, name: str = "antrean"
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """The parser and every subcommand's parser under it, with its full command name."""
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub, child in action.choices.items():
                yield from parsers(child, f"{name} {sub}")


def test_every_option_and_subcommand_of_every_command_has_help_text() -> None:
    missing = []
    seen = 0
    for name, parser in parsers(build_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            if isinstance(action, argparse._SubParsersAction):
                missing += [
                    f"{name} {choice.dest}" for choice in action._choices_actions if not choice.help
                ]
                continue
            seen += 1
            if not (action.help or "").strip() or action.help == argparse.SUPPRESS:
                missing.append(f"{name} {'/'.join(action.option_strings) or action.dest}")
    assert seen > 40  # the walk reached the subcommands' own options
    assert missing == []


def test_the_config_option_names_the_default_file() -> None:
    helps = {
        name: action.help
        for name, parser in parsers(build_parser())
        for action in parser._actions
        if "--config" in action.option_strings
    }
    assert len(helps) > 8
    for name, text in helps.items():
        special = {"antrean demo": "antrean.example.toml", "antrean central": "central.toml"}
        expected = special.get(name, str(DEFAULT_PATH))
        assert expected in (text or ""), (name, text)
