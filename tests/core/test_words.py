"""One list of Indonesian day and month names (antrean/words.py) for the core and every app.

The core cannot import the apps, so it keeps the names, and the kiosk, the
board, the booking slips and the visits' running text read them from there.
A second copy of the month names anywhere in the packages fails here.
"""

from __future__ import annotations

import ast
from datetime import date, datetime

from antrean import visits, words
from tests.support.helpers import ROOT

PACKAGES = ("antrean", "antrean_apps", "antrean_tools", "kiosk", "display_board", "counter",
            "web", "central")  # fmt: skip


def test_a_day_is_written_as_residents_read_it() -> None:
    saturday = date(2026, 12, 5)
    assert words.day_month(saturday) == "Sabtu, 5 Desember"
    assert words.day_text(saturday) == "Sabtu, 5 Desember 2026"
    assert words.day_text(datetime(2026, 11, 26, 9, 4)) == "Kamis, 26 November 2026"
    assert visits.hari_tanggal(saturday) == "Sabtu 5 Desember"  # the running text's own form
    assert [words.day_month(date(2026, m, 1)).split()[-1] for m in (1, 5, 8)] == [
        "Januari", "Mei", "Agustus",
    ]  # fmt: skip
    assert words.DAYS_ID[date(2026, 11, 27).weekday()] == "Jumat"


def _name_lists(path: str) -> list[int]:
    """Lines of tuples or lists in a module that spell Indonesian month or day names."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Tuple | ast.List):
            texts = {e.value for e in node.elts if isinstance(e, ast.Constant)}
            if {"Januari", "Desember"} <= texts or {"Senin", "Minggu"} <= texts:
                found.append(node.lineno)
    return found


def test_no_module_but_the_core_words_keeps_the_names() -> None:
    modules = [
        str(p.relative_to(ROOT)) for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))
    ]
    copies = {m: lines for m in modules if (lines := _name_lists(m))}
    assert copies == {"antrean/words.py": [11, 12]}
