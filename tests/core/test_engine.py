"""The engine's rules, driven directly with a clock the test moves."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from antrean import wire
from antrean.domain import QueueError, StoredDay, TicketStatus
from antrean.engine import Changes, Engine
from tests.support.helpers import OPEN_MORNING, FakeClock, example_config


def res(changes: Changes) -> dict[str, Any]:
    """The operation's result as a reply carries it."""
    return wire.result(changes.result)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def engine(tmp_path: Path, clock: FakeClock) -> Engine:
    return Engine(example_config(tmp_path), clock)


def refusal(fn: object, *args: object) -> QueueError:
    with pytest.raises(QueueError) as info:
        fn(*args)  # type: ignore[operator]
    return info.value


def test_numbers_are_consecutive_per_service_and_coded(engine: Engine) -> None:
    codes = [res(engine.issue(s))["ticket"]["code"] for s in "AACAB"]
    assert codes == ["A001", "A002", "C001", "A003", "B001"]
    t = res(engine.issue("C"))["ticket"]
    assert t["id"] == "2026-11-26/C002"
    assert t["ahead"] == 1
    assert t["status"] == "waiting"


def test_codes_grow_to_four_digits_past_999(tmp_path: Path, clock: FakeClock) -> None:
    e = Engine(example_config(tmp_path), clock)
    e.last_number["C"] = 999
    assert res(e.issue("C"))["ticket"]["code"] == "C1000"


def test_estimated_wait_uses_recent_service_times_and_open_counters(
    engine: Engine, clock: FakeClock
) -> None:
    for _ in range(3):
        engine.issue("D")
    # No service measured yet: the default 300 s per person, one counter (4) serves D.
    assert res(engine.issue("D"))["ticket"]["estimated_wait_s"] == 3 * 300
    engine.call_next(4)
    clock.advance(seconds=60)
    engine.call_next(4)  # the first D took 60 s
    t = res(engine.issue("D"))["ticket"]
    assert t["ahead"] == 2
    assert t["estimated_wait_s"] == 2 * 60


def test_a_service_of_a_few_seconds_stays_out_of_the_wait_estimate(
    tmp_path: Path, engine: Engine, clock: FakeClock
) -> None:
    for _ in range(6):
        engine.issue("D")
    engine.call_next(4)
    clock.advance(seconds=120)
    engine.call_next(4)  # D001 took 120 s
    for _ in range(2):  # a double press: D002 and D003 "served" in 0 s and 3 s
        engine.call_next(4)
        clock.advance(seconds=3)
    t = res(engine.issue("D"))["ticket"]
    assert t["ahead"] == 2
    assert t["estimated_wait_s"] == 2 * 120  # not 2 * 41
    # Nor do short ones from the store at start-up.
    snap = StoredDay(service_times={"D": [0.0, 2.5, 120.0, 240.0]})
    assert Engine(example_config(tmp_path), clock, snap).mean_service_time("D") == 180.0


def test_the_ticket_and_the_service_state_say_how_many_counters_are_open(
    engine: Engine,
) -> None:
    first = res(engine.issue("A"))["ticket"]
    assert (first["counters_open"], first["estimated_wait_s"]) == (0, 0)  # no counter open
    assert wire.service_state(engine, "A")["counters_open"] == 0
    engine.counter_open(1)
    engine.counter_open(2)  # both serve A
    assert res(engine.issue("A"))["ticket"]["counters_open"] == 2
    assert wire.service_state(engine, "A")["counters_open"] == 2
    assert wire.service_state(engine, "D")["counters_open"] == 0


def test_call_next_finishes_current_and_calls_oldest_of_counter_services(engine: Engine) -> None:
    engine.issue("C")
    engine.issue("B")
    engine.issue("C")
    first = res(engine.call_next(3))
    assert first["ticket"]["code"] == "C001"
    assert first["finished"] is None
    second = res(engine.call_next(3))
    assert second["ticket"]["code"] == "B001"
    assert second["finished"]["code"] == "C001"
    assert second["finished"]["status"] == "served"
    assert engine.counters[3].open
    assert res(engine.call_next(1))["ticket"] is None  # counter 1 serves only A


def test_priority_lane_is_interleaved_at_the_ratio(engine: Engine) -> None:
    for _ in range(6):
        engine.issue("C")
    for _ in range(3):
        engine.issue("C", priority=True)
    calls = []
    for _ in range(9):
        t = res(engine.call_next(4))["ticket"]
        calls.append("P" if t["priority"] else "N")
    # ratio 2: priority first, then at most two normal calls between priority calls
    assert "".join(calls) == "PNNPNNPNN"


def test_priority_lane_does_not_wait_for_an_empty_normal_lane(engine: Engine) -> None:
    engine.issue("C", priority=True)
    engine.issue("C", priority=True)
    got = [res(engine.call_next(4))["ticket"]["code"] for _ in range(2)]
    assert got == ["C001", "C002"]


def booked_engine(tmp_path: Path, clock: FakeClock, share: int) -> tuple[Engine, list[str]]:
    """Thursday 09:00: four residents booked for today's 10.00 slot of A."""
    booking = f"[booking]\ncapacity = {{ A = 10 }}\nearly_minutes = 60\nbooked_share = {share}\n"
    e = Engine(example_config(tmp_path, edit={"[kiosk]\n": booking + "[kiosk]\n"}), clock)
    rows = [
        {"line": n, "nik_hash": f"{n:064x}", "last4": f"{n:04d}", "name": "Warga",
         "kelurahan": "Bendan Ngisor", "service": "A", "day": str(e.day)}
        for n in range(1, 5)
    ]  # fmt: skip
    results = res(e.booking_import("list", rows, len(rows)))["results"]
    assert [r[4] for r in results] == ["10:00"] * 4
    return e, [r[2] for r in results]


def test_booked_tickets_are_called_from_their_slot_at_the_share_with_priority_between(
    tmp_path: Path, clock: FakeClock
) -> None:
    e, codes = booked_engine(tmp_path, clock, share=1)
    walk_ins = [res(e.issue("A"))["ticket"]["code"] for _ in range(4)]  # A001-A004
    booked = [res(e.redeem(c))["ticket"] for c in codes]  # A005-A008
    assert all(t["booked"] and not t["priority"] for t in booked)
    assert [res(e.issue("A", priority=True))["ticket"]["code"] for _ in range(2)] == [
        "A009", "A010"
    ]  # fmt: skip
    assert walk_ins == ["A001", "A002", "A003", "A004"]
    # Before 10.00 a booked ticket waits like a walk-in, in issue order.
    before = [res(e.call_next(1))["ticket"]["code"] for _ in range(2)]
    assert before == ["A009", "A001"]
    clock.advance(hours=1)  # 10.00: the booked lane opens
    after = [res(e.call_next(1))["ticket"]["code"] for _ in range(8)]
    # booked 1 : walk-in 1, and still at most two other calls between priority calls
    assert after == ["A005", "A010", "A002", "A006", "A003", "A007", "A004", "A008"]


def test_a_larger_booked_share_calls_more_booked_but_walk_ins_still_get_their_turn(
    tmp_path: Path, clock: FakeClock
) -> None:
    e, codes = booked_engine(tmp_path, clock, share=2)
    for _ in range(4):
        e.issue("A")
    for c in codes:
        e.redeem(c)
    clock.advance(hours=1)
    calls = [res(e.call_next(1))["ticket"] for _ in range(8)]
    assert "".join("B" if t["booked"] else "W" for t in calls) == "BBWBBWWW"


def test_recall_has_a_limit(engine: Engine) -> None:
    engine.issue("A")
    engine.call_next(1)
    for n in (1, 2, 3):
        assert res(engine.recall(1))["ticket"]["recalls"] == n
    err = refusal(engine.recall, 1)
    assert err.code == "recall_limit"
    assert engine.tickets[next(iter(engine.tickets))].recalls == 3


def test_no_show_then_requeue_keeps_the_original_place(engine: Engine) -> None:
    for _ in range(3):
        engine.issue("A")
    engine.call_next(1)
    engine.no_show(1)
    assert engine.ticket_by_code("A001").status is TicketStatus.NO_SHOW
    assert engine.counters[1].current is None
    engine.requeue("A001")
    assert [t.code for t in engine.waiting(["A"])] == ["A001", "A002", "A003"]
    assert refusal(engine.requeue, "A002").code == "invalid_state"


def test_transfer_keeps_place_by_issue_time(engine: Engine) -> None:
    engine.issue("A")  # A001, order 1
    engine.issue("C")  # C001, order 2
    engine.call_next(1)  # A001 at counter 1
    moved = res(engine.transfer(1, "C"))["ticket"]
    assert moved["code"] == "A001"
    assert moved["service"] == "C"
    assert moved["status"] == "waiting"
    assert [t.code for t in engine.waiting(["C"])] == ["A001", "C001"]
    assert res(engine.call_next(4))["ticket"]["code"] == "A001"
    assert refusal(engine.transfer, 2, "C").code == "no_current_ticket"


def test_call_ticket_out_of_order_and_cancel(engine: Engine) -> None:
    for _ in range(3):
        engine.issue("C")
    assert res(engine.call_ticket(3, "c003"))["ticket"]["code"] == "C003"
    engine.cancel("C001")
    assert res(engine.call_next(3))["ticket"]["code"] == "C002"
    assert refusal(engine.cancel, "C001").code == "invalid_state"
    assert refusal(engine.call_ticket, 3, "C009").code == "unknown_ticket"


def test_complete_and_counter_close(engine: Engine) -> None:
    engine.issue("C")
    engine.issue("C")
    engine.call_next(4)
    assert res(engine.complete(4))["ticket"]["status"] == "served"
    assert refusal(engine.complete, 4).code == "no_current_ticket"
    engine.call_next(4)
    closed = res(engine.counter_close(4))
    assert closed["finished"]["code"] == "C002"
    assert not engine.counters[4].open


def test_closed_service_refuses_with_its_reason(engine: Engine) -> None:
    engine.service_close("B", "Blanko KTP-el habis")
    err = refusal(engine.issue, "B")
    assert (err.code, err.message) == ("service_closed", "Blanko KTP-el habis")
    engine.service_open("B")
    assert res(engine.issue("B"))["ticket"]["code"] == "B001"


def test_quota(tmp_path: Path, clock: FakeClock) -> None:
    e = Engine(example_config(tmp_path, edit={"daily_quota = 80": "daily_quota = 2"}), clock)
    e.issue("B")
    e.issue("B")
    before = dict(e.tickets)
    err = refusal(e.issue, "B")
    assert err.code == "quota_full"
    assert "Kuota hari ini sudah penuh" in err.message
    assert e.tickets == before


@pytest.mark.parametrize(
    ("utc", "fragment"),
    [
        (datetime(2026, 11, 26, 0, 30, tzinfo=UTC), "dibuka pukul 08.00"),  # Thu 07:30 WIB
        (datetime(2026, 11, 26, 8, 0, tzinfo=UTC), "ditutup pukul 15.00"),  # Thu 15:00 WIB
        (datetime(2026, 11, 27, 4, 0, tzinfo=UTC), "ditutup pukul 11.00"),  # Fri 11:00 WIB
        (datetime(2026, 11, 28, 2, 0, tzinfo=UTC), "tutup hari ini"),  # Saturday
    ],
)
def test_outside_office_hours_issues_nothing(
    engine: Engine, clock: FakeClock, utc: datetime, fragment: str
) -> None:
    clock.set(utc)
    engine.tick()
    err = refusal(engine.issue, "C")
    assert err.code == "office_closed"
    assert fragment in err.message
    assert not engine.tickets


def test_friday_morning_is_open(engine: Engine, clock: FakeClock) -> None:
    clock.set(datetime(2026, 11, 27, 3, 59, tzinfo=UTC))  # Fri 10:59 WIB
    engine.tick()
    assert res(engine.issue("C"))["ticket"]["code"] == "C001"


def test_day_rollover_expires_waiting_and_restarts_numbers(
    engine: Engine, clock: FakeClock
) -> None:
    engine.issue("C")
    engine.issue("C")
    engine.issue("A")
    engine.call_next(4)
    engine.complete(4)
    engine.call_next(4)
    # Midnight WIB is 17:00 UTC; the next morning 09:00 WIB.
    clock.set(datetime(2026, 11, 26, 17, 0, tzinfo=UTC))
    out = engine.tick()
    assert [e.kind for e in out.events] == ["day_started"]
    assert wire.event(out.events[0])["expired"] == 2  # C002 at the counter and A001 waiting
    statuses = {t.code: t.status for t in out.tickets.values()}
    assert statuses == {"C002": TicketStatus.EXPIRED, "A001": TicketStatus.EXPIRED}
    assert engine.tickets == {}
    assert not any(c.open or c.current for c in engine.counters.values())
    clock.set(datetime(2026, 11, 27, 2, 0, tzinfo=UTC))
    engine.tick()
    assert res(engine.issue("C"))["ticket"]["id"] == "2026-11-27/C001"


def test_business_day_follows_office_local_time(tmp_path: Path) -> None:
    # 23:30 UTC on the 25th is 06:30 on the 26th in WIT (Asia/Jayapura).
    clock = FakeClock(datetime(2026, 11, 25, 23, 30, tzinfo=UTC))
    cfg = example_config(
        tmp_path, hours=False, edit={'timezone = "Asia/Jakarta"': 'timezone = "Asia/Jayapura"'}
    )
    assert res(Engine(cfg, clock).issue("C"))["ticket"]["id"] == "2026-11-26/C001"


def test_refusals_change_nothing(engine: Engine) -> None:
    engine.issue("A")
    seq, tickets = engine.seq, dict(engine.tickets)
    for fn, args in [
        (engine.issue, ("Z",)),
        (engine.call_next, (9,)),
        (engine.recall, (1,)),
        (engine.transfer, (1, "C")),
        (engine.cancel, ("A404",)),
        (engine.service_close, ("Q", "x")),
    ]:
        refusal(fn, *args)
    assert engine.seq == seq
    assert engine.tickets == tickets


def test_events_carry_consecutive_seq(engine: Engine) -> None:
    seqs = []
    for out in (engine.issue("C"), engine.call_next(4), engine.recall(4), engine.complete(4)):
        seqs += [e.seq for e in out.events]
    assert seqs == list(range(1, len(seqs) + 1))
    assert OPEN_MORNING.tzinfo is UTC


def test_a_clock_set_back_across_midnight_does_not_reopen_the_earlier_day(
    engine: Engine, clock: FakeClock
) -> None:
    assert res(engine.issue("C"))["ticket"]["id"] == "2026-11-26/C001"
    clock.set(datetime(2026, 11, 27, 2, 0, tzinfo=UTC))  # the next morning
    engine.tick()
    assert res(engine.issue("C"))["ticket"]["id"] == "2026-11-27/C001"
    clock.set(datetime(2026, 11, 26, 3, 0, tzinfo=UTC))  # set back a day
    assert engine.tick().events == []
    # The day in hand goes on: no second 2026-11-26/C001 to overwrite the first.
    assert res(engine.issue("C"))["ticket"]["id"] == "2026-11-27/C002"


def test_a_service_unknown_to_the_config_is_a_queue_error_not_an_assert(engine: Engine) -> None:
    with pytest.raises(QueueError, match="unknown_service"):
        engine.refusal("Z")
    assert engine.config.services_by_code["A"] is engine.config.service("A")


def test_a_booked_recording_counts_for_its_bookings_kelurahan(
    tmp_path: Path, clock: FakeClock
) -> None:
    # A served recording from a booking: the booking names the kelurahan, no console choice needed.
    e, codes = booked_engine(tmp_path, clock, share=1)
    e.redeem(codes[0])
    walk_in = res(e.issue("A"))["ticket"]["code"]
    assert res(e.call_next(1))["ticket"]["booked"]
    done = e.complete(1)  # a GPIO button: no kelurahan chosen
    assert [(a.kelurahan, a.source.value) for a in done.progress] == [("Bendan Ngisor", "booking")]
    assert res(e.call_next(1))["ticket"]["code"] == walk_in
    walked = e.complete(1)
    assert [(a.kelurahan, a.source.value) for a in walked.progress] == [(None, "unknown")]
