"""The /kantor row's IKM: only the office's current month counts as "bulan ini"."""

from __future__ import annotations

from datetime import date

from web.central_view import OfficeRow, _state, sort_rows

NOVEMBER = {"month": "2026-11", "responses": 2, "ikm": 87.5, "band": "B", "services": {}}


def row(office: str, day: str, ikm: dict[str, object] | None) -> OfficeRow:
    r = OfficeRow(office, office)
    _state(r, "office", {"name": office, "day": day})
    if ikm is not None:
        _state(r, "ikm", ikm)
    return r


def test_an_ended_month_or_no_response_shows_a_dash_and_sorts_last() -> None:
    current = row("a", "2026-11-30", NOVEMBER)
    ended = row("b", "2026-12-01", NOVEMBER)  # the web has not said December yet
    empty = row("c", "2026-11-30", {**NOVEMBER, "responses": 0, "ikm": None, "band": None})
    low = row("d", "2026-11-30", {**NOVEMBER, "ikm": 60.0, "band": "D"})
    assert current.ikm_text == "87,50 B"
    assert [r.ikm for r in (ended, empty, row("e", "2026-11-30", None))] == [None] * 3
    assert ended.ikm_text == empty.ikm_text == "\u2013"
    assert current.day == date(2026, 11, 30)
    order = [r.office for r in sort_rows([current, ended, empty, low], "ikm", False)]
    assert order == ["d", "a", "b", "c"]
