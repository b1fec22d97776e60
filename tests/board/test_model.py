"""The board's model alone: retained state, seq order, duplicates, gaps and resync."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from display_board.model import BoardModel, Call, clock_text, date_text

OFFICE = {
    "id": "gajahmungkur",
    "name": "Kecamatan Gajahmungkur",
    "day": "2026-11-26",
    "timezone": "Asia/Makassar",
    "running_text": "Bawa fotokopi KK.",
    "seq": 7,
    "services": ["A", "B"],
    "counters": [1, 2],
}


def called(
    seq: int, code: str, counter: int = 1, kind: str = "called", at: str = "09:00"
) -> dict[str, Any]:
    ticket = {"code": code, "service": code[0], "number": int(code[1:]), "status": "called"}
    return {"seq": seq, "kind": kind, "ticket": ticket, "counter": counter,
            "counter_name": f"Loket {counter}", "at": f"2026-11-26T{at}:00.000+08:00"}  # fmt: skip


def entry(code: str, status: str, counter: int = 1, recalls: int = 0) -> dict[str, Any]:
    return {"code": code, "counter": counter, "counter_name": f"Loket {counter}",
            "recalls": recalls, "status": status}  # fmt: skip


def test_retained_state_builds_the_view_in_config_order() -> None:
    m = BoardModel()
    m.apply_state("office", OFFICE)
    m.apply_state("service/B", {"code": "B", "name": "Pencetakan", "waiting": 4,
                                "accepting": False, "refusal": {"code": "quota_full"}})  # fmt: skip
    m.apply_state("service/A", {"code": "A", "name": "Perekaman", "waiting": 2, "accepting": True})
    m.apply_state("counter/2", {"number": 2, "name": "Loket 2", "open": False, "current": None})
    m.apply_state("counter/1", {"number": 1, "name": "Loket 1", "open": True,
                                "current": {"code": "A003"}})  # fmt: skip
    m.apply_state("calls", {"calls": [
        {"code": "A003", "counter": 1, "counter_name": "Loket 1", "recalls": 1},
        {"code": "A002", "counter": 1, "counter_name": "Loket 1", "recalls": 0},
    ]})  # fmt: skip
    assert (m.office_name, m.last_seq, m.timezone.key) == (OFFICE["name"], 7, "Asia/Makassar")
    assert [(s.code, s.waiting, s.note) for s in m.service_views()] == [
        ("A", 2, ""), ("B", 4, "Kuota hari ini penuh"),
    ]  # fmt: skip
    assert [(c.number, c.serving, c.open) for c in m.counter_views()] == [
        (1, "A003", True), (2, None, False),
    ]  # fmt: skip
    assert m.latest == Call("A003", 1, "Loket 1", recall=True)
    assert m.latest.headline == "A003 \u2192 LOKET 1"


def test_a_malformed_state_is_ignored_and_the_last_good_one_kept() -> None:
    m = BoardModel()
    m.apply_state("office", OFFICE)
    assert not m.apply_state("office", {"no": "name"})
    assert not m.apply_state("counter/1", {"number": "x"})
    assert not m.apply_state("calls", {"calls": "A001"})
    assert not m.apply_state("something/else", {})
    assert m.office_name == OFFICE["name"]


def test_live_calls_are_announced_once_in_seq_order() -> None:
    m = BoardModel()
    m.apply_state("office", OFFICE)
    first = m.apply_event(called(8, "A004"))
    assert first.announce == Call("A004", 1, "Loket 1", seq=8)
    assert not first.resync
    assert m.counters[1].serving == "A004"
    assert m.recent[0].code == "A004"
    assert m.apply_event(called(8, "A004")).announce is None  # a QoS 1 duplicate
    assert m.apply_event(called(6, "A001")).announce is None  # older than the state
    recall = m.apply_event(called(9, "A004", kind="recalled")).announce
    assert recall is not None
    assert recall.recall
    assert [c.code for c in m.recent] == ["A004"]  # a recall moves it up, not twice
    other = m.apply_event({"seq": 10, "kind": "issued", "ticket": {"code": "B009"}})
    assert (other.announce, other.changed, m.last_seq) == (None, False, 10)


def test_a_gap_in_seq_asks_for_a_resync_and_the_next_office_state_sets_seq() -> None:
    m = BoardModel()
    m.apply_state("office", OFFICE)  # seq 7
    gap = m.apply_event(called(10, "A077"))
    assert gap.resync
    assert gap.announce is not None  # it is still a live call
    assert (m.last_seq, m.resyncs) == (10, 1)
    m.apply_state("office", {**OFFICE, "seq": 9})  # the retained truth after the resync
    assert m.last_seq == 9
    assert m.apply_event(called(10, "A077")).announce is None  # never spoken twice
    assert m.apply_event(called(11, "A005")).announce is not None
    m.apply_state("office", {**OFFICE, "seq": 11})  # the state that follows event 11
    assert (m.last_seq, m.rewinds) == (11, 0)


def test_events_without_a_seq_or_malformed_calls_change_nothing() -> None:
    m = BoardModel()
    m.apply_state("office", OFFICE)
    assert m.apply_event({"kind": "called"}).announce is None
    assert m.apply_event({"seq": True, "kind": "called"}).announce is None
    assert m.apply_event({"seq": 8, "kind": "called", "ticket": {}}).announce is None
    assert m.recent == []


def test_codes_split_into_letter_and_number() -> None:
    # From a queue service that sent no number in state/calls: the code's digits.
    assert (Call("A012", 3, "x").letter, Call("A012", 3, "x").number) == ("A", 12)
    assert (Call("D1000", 3, "x").letter, Call("D1000", 3, "x").number) == ("D", 1000)


def test_a_transferred_ticket_is_spoken_with_the_letter_it_holds_and_the_number_sent() -> None:
    m = BoardModel()
    m.apply_state("office", OFFICE)
    event = called(8, "A012", counter=2)
    event["ticket"]["service"] = "B"  # transferred from A to B: the resident still holds A012
    call = m.apply_event(event).announce
    assert call is not None
    assert (call.letter, call.number, call.sent_number) == ("A", 12, 12)
    m.apply_state("calls", {"calls": [{**entry("A012", "called", 2), "number": 12}]})
    assert m.latest is not None
    assert m.latest.sent_number == 12


def test_date_and_clock_in_indonesian() -> None:
    now = datetime(2026, 11, 26, 9, 5, tzinfo=ZoneInfo("Asia/Jakarta"))
    assert date_text(now) == "Kamis, 26 November 2026"
    assert clock_text(now) == "09.05"
    assert date_text(datetime(2027, 8, 1)) == "Minggu, 1 Agustus 2027"


def test_only_live_calls_are_shown_and_the_big_panel_only_a_ticket_still_called() -> None:
    m = BoardModel()
    m.apply_state("office", OFFICE)
    m.apply_state("calls", {"calls": [
        entry("A001", "no_show"), entry("A004", "served", 2), entry("A003", "called", 2),
        entry("A002", "called"),
    ]})  # fmt: skip
    assert [(c.code, c.status) for c in m.recent] == [
        ("A004", "served"), ("A003", "called"), ("A002", "called"),
    ]  # fmt: skip
    assert m.latest == Call("A003", 2, "Loket 2")  # served A004 is not being called now
    assert m.is_current(Call("A002", 1, "Loket 1", seq=12))
    assert not m.is_current(Call("A004", 2, "Loket 2"))
    assert not m.is_current(Call("A001", 1, "Loket 1"))
    m.apply_state("calls", {"calls": [entry("A001", "no_show")]})  # as after a transfer of A002
    assert (m.recent, m.latest) == ([], None)


def test_one_malformed_entry_in_the_history_is_skipped_not_the_whole_list() -> None:
    m = BoardModel()
    m.apply_state("office", OFFICE)
    calls = [entry("A003", "called"), {"code": "A002"}, "A001", None,
             {**entry("B001", "served"), "counter": "two"},
             {**entry("B002", "served", 2), "counter_name": None},
             {"code": "A000", "counter": 1, "counter_name": "Loket 1"}]  # fmt: skip
    assert m.apply_state("calls", {"calls": calls})
    assert [(c.code, c.counter_name, c.status) for c in m.recent] == [
        ("A003", "Loket 1", "called"),
        ("B002", "Loket 2", "served"),  # no name: the counter's number stands in
        ("A000", "Loket 1", "called"),  # no status (an older queue service): called
    ]


def test_a_queue_whose_seq_goes_back_is_followed_and_its_calls_are_spoken() -> None:
    m = BoardModel()
    m.apply_state("office", OFFICE)  # seq 7
    for seq in range(8, 12):
        assert m.apply_event(called(seq, f"A{seq:03d}", at="09:00")).announce is not None
    # The store is restored from an earlier copy; the restarted queue service
    # publishes its state, then makes calls with seqs the board has spoken.
    m.apply_state("office", {**OFFICE, "seq": 5})
    assert (m.last_seq, m.rewinds) == (5, 1)
    assert m.apply_event(called(6, "A006", at="09:30")).announce is not None
    assert m.apply_event(called(7, "A007", at="09:31")).announce is not None
    new_eight = m.apply_event(called(8, "A008", at="09:32"))  # seq 8 again, a new call
    assert new_eight.announce is not None
    assert not new_eight.resync
    assert m.apply_event(called(8, "A008", at="09:32")).announce is None  # its duplicate


def test_after_a_reconnect_a_lower_office_seq_is_taken_and_new_calls_spoken() -> None:
    m = BoardModel()
    m.apply_state("office", OFFICE)  # seq 7
    assert m.apply_event(called(8, "A001")).announce is not None
    m.expect_resync()  # the broker went away; the store was reset meanwhile
    m.apply_state("office", {**OFFICE, "seq": 0})
    assert m.last_seq == 0
    calls = [m.apply_event(called(seq, "A001", at="10:00")) for seq in range(1, 10)]
    assert all(c.announce is not None for c in calls)
