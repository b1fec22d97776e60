"""[central.kabupaten] (issue 16): each office's kabupaten; a typo is an error naming its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from antrean.config import ConfigError
from central.config import parse_central_config

TEXT = """[central]
dsn = "host=/var/run/postgresql dbname=antrean"
offices = ["gajahmungkur", "tembalang", "ungaran"]

[central.kabupaten]
{lines}

[broker]
host = "127.0.0.1"
"""


def parse(lines: str) -> dict[str, str]:
    return parse_central_config(TEXT.format(lines=lines), "c.toml", Path(".")).kabupaten


def test_each_office_names_its_kabupaten_and_may_have_none() -> None:
    kabupaten = parse('gajahmungkur = "Kota Semarang"\ntembalang = " Kota Semarang "')
    assert kabupaten == {"gajahmungkur": "Kota Semarang", "tembalang": "Kota Semarang"}


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ('tembalng = "Kota Semarang"',
         "c.toml:6: central.kabupaten.tembalng: unknown key (not in [central] offices);"
         " did you mean tembalang?"),
        ('ungaran = ""',
         "c.toml:6: central.kabupaten.ungaran: must be the kabupaten's name, got ''"),
    ],
)  # fmt: skip
def test_an_unknown_office_or_an_empty_name_is_an_error_on_its_line(
    lines: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(lines)
    assert str(caught.value) == message
