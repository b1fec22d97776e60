"""Property-based test of the engine: random office days, checked against invariants.

Every outcome is also committed to a real SQLite store, and the engine is now
and then rebuilt from it, as after a restart, to show nothing is lost.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from antrean import wire
from antrean.domain import QueueError, TicketStatus
from antrean.engine import Changes, Engine
from antrean.store import Store
from tests.support.helpers import FakeClock, example_config

SERVICES = st.sampled_from("ABCD")
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
                self.codes = []
        e = self.engine
        self.store.commit(
            tickets=out.tickets.values(),
            counters=[e.counters[n] for n in out.counters],
            services=[e.services[s] for s in out.services],
            meta={"seq": str(e.seq), "day": str(e.day), "running_text": e.running_text},
            replies=[],
            now=self.clock(),
        )

    # ---- rules -----------------------------------------------------------------

    @rule(service=SERVICES, priority=st.booleans())
    def issue(self, service: str, priority: bool) -> None:
        self.apply(self.engine.issue, service, priority)

    @rule(counter=COUNTERS)
    def call_next(self, counter: int) -> None:
        services = self.config.counter(counter).services  # type: ignore[union-attr]
        waiting = self.engine.waiting(services)
        has_p = any(t.priority for t in waiting)
        has_n = any(not t.priority for t in waiting)
        out = self.apply(self.engine.call_next, counter)
        assert out is not None
        ticket = wire.result(out.result)["ticket"]
        if not waiting:
            assert ticket is None
            return
        assert ticket is not None
        if has_p and has_n:
            expect_priority = self.streak[counter] >= self.ratio
            assert ticket["priority"] == expect_priority, "priority ratio not respected"
        self.streak[counter] = 0 if ticket["priority"] else self.streak[counter] + 1
        oldest = min(
            (t for t in waiting if t.priority == ticket["priority"]), key=lambda t: t.order
        )
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

    @rule(minutes=st.integers(min_value=1, max_value=60 * 20))
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
