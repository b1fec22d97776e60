"""Property-based test of the engine: random office days, checked against invariants.

Every outcome is also committed to a real SQLite store, and the engine is now
and then rebuilt from it, as after a restart, to show nothing is lost.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from antrean import wire
from antrean.domain import QueueError, Ticket, TicketStatus
from antrean.engine import Changes, Engine
from antrean.store import Store
from tests.support.helpers import FakeClock, example_config

SERVICES = st.sampled_from("ABCD")
# Bookings for A and B in short slots; codes good for hours before their slot,
# so booked tickets often wait both before their slot's start (as walk-ins)
# and after it (in the booked lane).
BOOKING = """[booking]
capacity = { A = 3, B = 3 }
slot_minutes = 10
early_minutes = 240
grace_minutes = 240

[kiosk]
"""
COUNTERS = st.integers(min_value=1, max_value=4)


class OfficeDay(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="antrean-sm-"))
        # The office's real hours (refusals at night and on weekends are part of
        # the run); a high quota on A so numbering is exercised, a low one on B.
        self.config = example_config(
            self.dir,
            edit={
                "daily_quota = 120": "daily_quota = 9999",
                "daily_quota = 80": "daily_quota = 30",
                "[kiosk]\n": BOOKING,
            },
        )
        self.clock = FakeClock()
        self.store = Store(self.dir / "q.db")
        self.engine = Engine(self.config, self.clock, self.store.load("ABCD"))
        self.issued: dict[tuple[str, str], list[int]] = defaultdict(list)  # (day, letter)
        self.codes: list[str] = []
        self.last_seq = 0
        self.ratio = self.config.rules.priority_ratio
        self.streak = dict.fromkeys(range(1, 5), self.ratio)
        self.share = self.config.booking.booked_share
        self.booked_streak = dict.fromkeys(range(1, 5), 0)
        self.bookings: list[str] = []
        self.residents = 0

    def teardown(self) -> None:
        self.store.close()

    # ---- helpers -------------------------------------------------------------

    def apply(self, fn: object, *args: object) -> Changes | None:
        before = (self.engine.seq, dict(self.engine.tickets), dict(self.engine.counters))
        try:
            out: Changes = fn(*args)  # type: ignore[operator]
        except QueueError:
            after = (self.engine.seq, dict(self.engine.tickets), dict(self.engine.counters))
            assert after == before, "a refused command changed state"
            return None
        self.record(out)
        return out

    def record(self, out: Changes) -> None:
        for event in map(wire.event, out.events):
            assert event["seq"] == self.last_seq + 1, (event, self.last_seq)
            self.last_seq = event["seq"]
            if event["kind"] == "issued":
                t = event["ticket"]
                self.issued[(event["day"], t["code"][0])].append(t["number"])
                self.codes.append(t["code"])
            if event["kind"] == "day_started":
                self.streak = dict.fromkeys(self.streak, self.ratio)
                self.booked_streak = dict.fromkeys(self.booked_streak, 0)
                self.codes = []
        e = self.engine
        self.store.commit(
            tickets=out.tickets.values(),
            counters=[e.counters[n] for n in out.counters],
            services=[e.services[s] for s in out.services],
            meta={"seq": str(e.seq), "day": str(e.day), "running_text": e.running_text},
            replies=[],
            now=self.clock(),
            bookings=out.bookings.values(),
        )

    def lane(self, t: Ticket) -> str:
        """The lane a waiting ticket is called from now: priority, booked (slot begun), walk-in."""
        if t.priority:
            return "priority"
        due = t.booked_from is not None and t.booked_from <= self.clock()
        return "booked" if due else "walk_in"

    # ---- rules -----------------------------------------------------------------

    @rule(service=SERVICES, priority=st.booleans(), count=st.integers(1, 8))
    def issue(self, service: str, priority: bool, count: int) -> None:
        for _ in range(count):  # a crowd now and then, so the lanes fill up
            self.apply(self.engine.issue, service, priority)

    @rule(service=st.sampled_from("AB"), redeem=st.booleans())
    def book(self, service: str, redeem: bool) -> None:
        """A resident booked for today's first free slot (imported as a one-row list)."""
        self.residents += 1
        row = {
            "line": 1,
            "nik_hash": hashlib.sha256(b"%d" % self.residents).hexdigest(),
            "last4": f"{self.residents % 10000:04d}",
            "name": "Warga",
            "kelurahan": "Bendan Ngisor",
            "service": service,
            "day": str(self.engine.day),
        }
        out = self.apply(self.engine.booking_import, f"b{self.residents}", [row], 1)
        result = wire.result(out.result) if out else {"results": []}
        codes = [r[2] for r in result["results"] if r[1] == "booked"]
        self.bookings += codes
        if redeem and codes:  # booked, then at the kiosk soon after (the crowd again)
            self.redeem_code(codes[0])

    @precondition(lambda self: self.bookings)
    @rule(data=st.data())
    def redeem(self, data: st.DataObject) -> None:
        self.redeem_code(data.draw(st.sampled_from(self.bookings)))

    def redeem_code(self, code: str) -> None:
        out = self.apply(self.engine.redeem, code)
        if out is not None:
            ticket = wire.result(out.result)["ticket"]
            assert ticket["booked"], "a booked ticket is marked"
            assert not ticket["priority"], "a booked ticket is not in the priority lane"

    @rule(counter=COUNTERS)
    def call_next(self, counter: int) -> None:
        services = self.config.counter(counter).services  # type: ignore[union-attr]
        waiting = self.engine.waiting(services)
        lanes = {self.lane(t) for t in waiting}
        lane_of = {t.code: self.lane(t) for t in waiting}
        out = self.apply(self.engine.call_next, counter)
        assert out is not None
        ticket = wire.result(out.result)["ticket"]
        if not waiting:
            assert ticket is None
            return
        assert ticket is not None
        lane = lane_of[ticket["code"]]
        if "priority" in lanes and lanes - {"priority"}:
            expect_priority = self.streak[counter] >= self.ratio
            assert (lane == "priority") == expect_priority, "priority ratio not respected"
        if lane != "priority" and {"booked", "walk_in"} <= lanes:
            expect_booked = self.booked_streak[counter] < self.share
            assert (lane == "booked") == expect_booked, "booked share not respected"
        self.streak[counter] = 0 if lane == "priority" else self.streak[counter] + 1
        if lane != "priority":
            self.booked_streak[counter] = self.booked_streak[counter] + 1 if lane == "booked" else 0
        oldest = min((t for t in waiting if lane_of[t.code] == lane), key=lambda t: t.order)
        assert ticket["code"] == oldest.code, "not the oldest ticket of its lane"

    @rule(counter=COUNTERS)
    def recall(self, counter: int) -> None:
        self.apply(self.engine.recall, counter)

    @rule(counter=COUNTERS)
    def no_show(self, counter: int) -> None:
        self.apply(self.engine.no_show, counter)

    @rule(counter=COUNTERS)
    def complete(self, counter: int) -> None:
        self.apply(self.engine.complete, counter)

    @rule(counter=COUNTERS, service=SERVICES)
    def transfer(self, counter: int, service: str) -> None:
        self.apply(self.engine.transfer, counter, service)

    @precondition(lambda self: self.codes)
    @rule(counter=COUNTERS, data=st.data())
    def call_ticket(self, counter: int, data: st.DataObject) -> None:
        self.apply(self.engine.call_ticket, counter, data.draw(st.sampled_from(self.codes)))

    @precondition(lambda self: self.codes)
    @rule(data=st.data())
    def requeue(self, data: st.DataObject) -> None:
        self.apply(self.engine.requeue, data.draw(st.sampled_from(self.codes)))

    @precondition(lambda self: self.codes)
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        self.apply(self.engine.cancel, data.draw(st.sampled_from(self.codes)))

    @rule(counter=COUNTERS)
    def counter_close(self, counter: int) -> None:
        self.apply(self.engine.counter_close, counter)

    @rule(service=SERVICES, close=st.booleans())
    def service_switch(self, service: str, close: bool) -> None:
        if close:
            self.apply(self.engine.service_close, service, "Blanko KTP-el habis")
        else:
            self.apply(self.engine.service_open, service)

    # Mostly minutes within a morning (booked slots start), now and then a night.
    @rule(minutes=st.one_of(st.integers(1, 90), st.integers(min_value=1, max_value=60 * 20)))
    def time_passes(self, minutes: int) -> None:
        self.clock.advance(minutes=minutes)
        self.record(self.engine.tick())

    @rule()
    def restart(self) -> None:
        old = self.engine
        self.engine = Engine(self.config, self.clock, self.store.load("ABCD"))
        assert self.engine.day == old.day
        assert self.engine.seq == old.seq
        assert self.engine.tickets == old.tickets
        assert self.engine.counters == old.counters
        assert self.engine.services == old.services
        assert self.engine.last_number == old.last_number
        assert self.engine.bookings.by_code == old.bookings.by_code

    # ---- invariants ------------------------------------------------------------

    @invariant()
    def numbers_unique_and_consecutive_per_service_per_day(self) -> None:
        for numbers in self.issued.values():
            assert numbers == list(range(1, len(numbers) + 1))
        codes = [t.code for t in self.engine.tickets.values()]
        assert len(codes) == len(set(codes))

    @invariant()
    def a_ticket_is_at_no_more_than_one_counter(self) -> None:
        e = self.engine
        currents = [c.current for c in e.counters.values() if c.current]
        assert len(currents) == len(set(currents))
        for n, c in e.counters.items():
            if c.current:
                t = e.tickets[c.current]
                assert t.status is TicketStatus.CALLED
                assert t.counter == n
        called = [t.id for t in e.tickets.values() if t.status is TicketStatus.CALLED]
        assert sorted(called) == sorted(currents)

    @invariant()
    def waiting_counts_equal_waiting_tickets(self) -> None:
        e = self.engine
        for s in "ABCD":
            real = [
                t for t in e.tickets.values() if t.status is TicketStatus.WAITING and t.service == s
            ]
            state = wire.service_state(e, s)
            assert state["waiting"] == len(real)
            assert state["waiting_priority"] == sum(t.priority for t in real)

    @invariant()
    def recent_calls_are_the_latest_calls_newest_first(self) -> None:
        e = self.engine
        recent = e.recent_calls()
        called = [t for t in e.tickets.values() if t.last_called_at is not None]
        assert len(recent) == min(len(called), self.config.rules.recent_calls)
        times = [t.last_called_at for t in recent]
        assert times == sorted(times, reverse=True)  # type: ignore[type-var]
        assert all(e.tickets[t.id] == t for t in recent), "a stale ticket in the call list"
        if recent:
            newer = {t.id for t in called if t.last_called_at > times[-1]}  # type: ignore[operator]
            assert newer <= {t.id for t in recent}

    @invariant()
    def seq_matches_the_events_seen(self) -> None:
        assert self.engine.seq == self.last_seq

    @invariant()
    def day_is_office_local(self) -> None:
        local = (self.clock() + timedelta(hours=7)).date()
        assert self.engine.day <= local


OfficeDay.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestOfficeDay = OfficeDay.TestCase
