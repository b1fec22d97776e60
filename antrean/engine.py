"""The queue engine: every rule of numbering and calling, with no I/O.

The engine holds today's state in memory. Each operation either raises a
QueueError before it changes anything, or changes state and returns the
Changes it made (rows for the store, typed events and a typed result, which
antrean.wire turns into JSON), so the store can commit them and the service
can publish them. The clock is injected so tests can move time.
"""

from __future__ import annotations

import math
import secrets
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from antrean.booking import clean_nik, nik_problem
from antrean.bookings import (
    RESULT_PAGE,
    Booking,
    Bookings,
    BookingStatus,
    ImportRow,
    carried_booking,
)
from antrean.calls import CallKind, CallRecord
from antrean.config import Config, CounterConfig, ServiceConfig
from antrean.domain import (
    SERVICE_TIME_WINDOW,
    CounterNumber,
    CounterStatus,
    QueueError,
    ServiceCode,
    ServiceStatus,
    StoredDay,
    Ticket,
    TicketId,
    TicketStatus,
    make_ticket_id,
    ticket_code,
)
from antrean.events import (
    AtCounterEvent,
    AuditEntry,
    BookedSlot,
    BookingResult,
    BookingsResult,
    BookingView,
    BookResult,
    CalledEvent,
    CallResult,
    CarriedResult,
    ClockFloorResult,
    CounterCloseResult,
    CounterEvent,
    CounterOpenResult,
    DayResult,
    DayStartedEvent,
    Event,
    EventKind,
    ImportChunkResult,
    ImportPageResult,
    ImportResult,
    IssuedEvent,
    IssueResult,
    PublicTicket,
    PublicTicketsResult,
    PurgeResult,
    RedeemResult,
    Result,
    RunningTextEvent,
    RunningTextResult,
    ServiceEvent,
    ServiceResult,
    StockEvent,
    StockResult,
    TargetResult,
    TicketEvent,
    TicketResult,
    TicketView,
    TransferredEvent,
    VisitResult,
)
from antrean.hours import business_day, closed_reason
from antrean.lanes import Lane, Lanes
from antrean.progress import Attribution, Target, attribute, checked_kelurahan
from antrean.stock import (
    OUT_OF_CARDS,
    EntryKind,
    Stock,
    StockEntry,
    checked_count,
    checked_reason,
    who,
)
from antrean.tokens import ticket_token, token_hash
from antrean.visits import Visit, VisitStatus, checked_visit, coming, due, running_text

Clock = Callable[[], datetime]
# A "service" shorter than this was a double press on next (the resident had not
# reached the desk), not a service: it would pull every wait estimate down.
MIN_SERVICE_TIME_S = 10.0
# Bookings of days this far back stay in memory, so that an old slip's code is
# told "not today" rather than "unknown"; older ones are only in the store.
BOOKINGS_KEPT_DAYS = 7
MAX_TOKENS = 500  # phone pages asked about in one tickets_by_token (the web batches them)
# Wrong booking codes (or last four NIK digits) from one kiosk: after this many
# within the window, each further try waits this long after the last wrong one,
# so trying codes takes hours while a resident fixing one digit hardly notices.
WRONG_CODES = 3
WRONG_WINDOW_S = 60.0
WRONG_PAUSE_S = 5.0
MAX_FOUND = 20  # bookings a name search returns: a common name needs a narrower search
EXPIRY_CHECK_S = 30.0  # bookings past their grace are expired within this long
_GUESSES = frozenset({"booking_mistyped", "booking_unknown", "nik_mismatch"})
NIK_USED = "NIK ini sudah mengambil nomor hari ini."
# A unit's clock this far behind its last commit is wrong, not jitter (NTP
# steps and a slow RTC drift are seconds; a Pi without a battery is days off).
CLOCK_SLACK = timedelta(minutes=2)


@dataclass(slots=True)
class Changes:
    """What one operation changed: rows to store, events to publish, and its result."""

    result: Result | None = None
    tickets: dict[TicketId, Ticket] = field(default_factory=dict)
    counters: set[CounterNumber] = field(default_factory=set)
    services: set[ServiceCode] = field(default_factory=set)  # whose state/service changed
    service_rows: set[ServiceCode] = field(default_factory=set)  # whose status (open) changed
    events: list[Event] = field(default_factory=list)
    office_changed: bool = False
    # issue 14: rows for the calls, stock, progress and targets tables
    calls: list[CallRecord] = field(default_factory=list)
    stock: list[StockEntry] = field(default_factory=list)
    progress: list[Attribution] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    stock_changed: bool = False  # state/stock is to be published again
    # issue 12: booking rows to write, and names and phones to erase before a day
    bookings: dict[str, Booking] = field(default_factory=dict)
    erase_names_before: date | None = None
    erase_niks_before: date | None = None  # walk-in tickets' NIK hashes of earlier days
    visits: dict[str, Visit] = field(default_factory=dict)  # issue 13: rows to write
    visits_changed: bool = False  # state/visits is to be published again
    audit: list[AuditEntry] = field(default_factory=list)  # issue 15: office actions, who

    @property
    def changed(self) -> bool:
        return bool(
            self.tickets
            or self.counters
            or self.services
            or self.events
            or self.calls
            or self.stock
            or self.progress
            or self.targets
            or self.bookings
            or self.visits
            or self.audit
            or self.erase_names_before is not None
            or self.erase_niks_before is not None
        )

    def absorb(self, later: Changes) -> None:
        """Appends later changes (the next command of a batch) to these."""
        self.tickets.update(later.tickets)
        self.counters |= later.counters
        self.services |= later.services
        self.service_rows |= later.service_rows
        self.events.extend(later.events)
        self.office_changed |= later.office_changed
        self.calls.extend(later.calls)
        self.stock.extend(later.stock)
        self.progress.extend(later.progress)
        self.targets.extend(later.targets)
        self.stock_changed |= later.stock_changed
        self.bookings.update(later.bookings)
        self.visits.update(later.visits)
        self.visits_changed |= later.visits_changed
        self.audit.extend(later.audit)
        if later.erase_names_before is not None:
            self.erase_names_before = later.erase_names_before
        if later.erase_niks_before is not None:
            self.erase_niks_before = later.erase_niks_before


class Engine:
    """Today's queue for one office."""

    def __init__(self, config: Config, clock: Clock, snapshot: StoredDay | None = None) -> None:
        self.config = config
        self.clock = clock
        self.rules = config.rules
        snap = snapshot or StoredDay()
        self.seq = snap.seq
        self.running_text = (
            snap.running_text if snap.running_text is not None else config.office.running_text
        )
        self.day: date = snap.day or business_day(clock(), config.office.timezone)
        self.tickets: dict[TicketId, Ticket] = {t.id: t for t in snap.tickets}
        self.services = {s.code: ServiceStatus(s.code) for s in config.services}
        self.services.update({s.code: s for s in snap.services if s.code in self.services})
        self.counters = {c.number: self._fresh_counter(c.number) for c in config.counters}
        self.counters.update({c.number: c for c in snap.counters if c.number in self.counters})
        self.service_times: dict[str, deque[float]] = {
            s.code: deque(
                (t for t in snap.service_times.get(s.code, ()) if t >= MIN_SERVICE_TIME_S),
                maxlen=SERVICE_TIME_WINDOW,
            )
            for s in config.services
        }
        # Indexes kept because issue() and call_next() are the hot path; all are
        # derived from today's tickets, at start and at each rollover.
        self.last_number = {s.code: 0 for s in config.services}
        self.prefix = config.unit.prefix if config.unit else ""  # issue 13: "K" + "A001"
        self.last_order = 0
        self.lanes = Lanes(self.services)
        self._reindex()
        self._out = Changes()
        # issue 14: blank cards and the drive. `actor` is the device (and user)
        # of the command being run, set by the service: ledger entries name it.
        self.actor = ""
        self.card_services = frozenset(s.code for s in config.services if s.uses_card)
        self.stock = Stock(config.stock.warning, config.stock.rate_days, snap.stock_balance)
        self.stock.use_by_day.update(snap.stock_use_by_day)
        self.targets: dict[str, int] = {**config.drive.targets, **snap.targets}
        self.bookings = Bookings(config, snap.bookings)  # issue 12
        # issue 15: today's phone-page tokens (antrean.tokens), derived from the ids
        self.token_key = snap.ticket_key or secrets.token_bytes(32)
        self.by_token = {ticket_token(self.token_key, t): t for t in self.tickets}
        # The NIK's keyed hash, set by the service from the office secret when a
        # service is nik_per_day; and today's walk-in NIK hashes, one number each.
        self.nik_key: Callable[[str], str] | None = None
        self._expiry_checked: datetime | None = None  # bookings are looked at every so often
        self.niks_today = {t.nik_hash for t in self.tickets.values() if t.nik_hash}
        self._wrong_codes: dict[str, list[datetime]] = {}
        # issue 13: planned visits; on a mobile unit, the visit open now and the
        # latest time it has committed (a clock behind it must not number).
        self.unit = config.unit
        self.visits: dict[str, Visit] = {v.id: v for v in snap.visits}
        self.clock_high = snap.clock_high

    def _reindex(self) -> None:
        """Derives the numbering counters and the lanes from today's tickets."""
        for code in self.last_number:
            self.last_number[code] = 0
        self.lanes.rebuild(self.tickets.values())
        for t in self.tickets.values():
            original = ServiceCode(t.code[len(self.prefix)])
            self.last_number[original] = max(self.last_number.get(original, 0), t.number)
        self.last_order = max((t.order for t in self.tickets.values()), default=0)

    # ---- queries -------------------------------------------------------

    def waiting(self, services: Iterable[str] | None = None) -> list[Ticket]:
        """Waiting tickets in calling order (by original issue order)."""
        return self.lanes.waiting(self.services if services is None else services)

    def ticket_by_code(self, code: str) -> Ticket:
        """Today's ticket with this printed code."""
        t = self.tickets.get(make_ticket_id(self.day, code.upper()))
        if t is None:
            raise QueueError("unknown_ticket", f"Nomor {code} tidak ditemukan hari ini.")
        return t

    def ahead_of(self, ticket: Ticket) -> int:
        """People who will be called before this ticket in its service."""
        if ticket.status is not TicketStatus.WAITING:
            return 0
        return self.lanes.ahead(ticket)

    def mean_service_time(self, service: str) -> float:
        times = self.service_times.get(service)
        if not times:
            return float(self.rules.default_service_time_s)
        return sum(times) / len(times)

    def counters_open(self, service: str) -> int:
        """Open counters that serve this service now."""
        return sum(
            1
            for c in self.config.counters
            if service in c.services and self.counters[c.number].open
        )

    def serving_counters(self, service: str) -> int:
        """Open counters serving this service, or all configured ones if none is open yet."""
        serving = sum(1 for c in self.config.counters if service in c.services)
        return max(self.counters_open(service) or serving, 1)

    def estimated_wait_s(self, service: str, ahead: int) -> int:
        per_person = self.mean_service_time(service) / self.serving_counters(service)
        return math.ceil(ahead * per_person)

    def refusal(
        self, service: str, now: datetime | None = None, booked: bool = False
    ) -> QueueError | None:
        """Why `service` takes no tickets now (closed, hours, quota), or None.

        Walk-ins leave room in the quota for today's unredeemed bookings; a
        booking (`booked`) uses the room held for it.
        """
        cfg = self._service_cfg(service)
        status = self.services[cfg.code]
        if not status.open:
            message = status.reason or "Layanan ditutup sementara."
            return QueueError("service_closed", message, service=cfg.code)
        local = (now or self.clock()).astimezone(self.config.office.timezone)
        reason = closed_reason(cfg.hours or self.config.office.hours, local)
        if reason:
            return QueueError("office_closed", reason, service=cfg.code)
        held = 0 if booked else self.bookings.reserved(self.day, cfg.code)
        if cfg.daily_quota is not None and self.last_number[cfg.code] + held >= cfg.daily_quota:
            message = "Kuota hari ini sudah penuh. Silakan datang kembali besok."
            return QueueError("quota_full", message, service=cfg.code)
        if cfg.uses_card and self.cards_available() <= 0:
            return QueueError("out_of_cards", OUT_OF_CARDS, service=cfg.code)
        return None

    def cards_promised(self) -> int:
        """Tickets of card services waiting or at a counter: each will need a card."""
        waiting = sum(self.lanes.count(code) for code in self.card_services)
        at_counters = sum(
            1
            for c in self.counters.values()
            if c.current and self.tickets[c.current].service in self.card_services
        )
        return waiting + at_counters

    def cards_available(self) -> int:
        """Cards in stock that no ticket has been promised yet."""
        return self.stock.balance - self.cards_promised()

    def stock_view(self) -> dict[str, Any]:
        """state/stock (issue 14)."""
        view = self.stock.view(self.day, self.cards_promised())
        view["services"] = sorted(self.card_services)
        return view

    def view(self, t: Ticket) -> TicketView:
        """A ticket with its place and wait worked out now (they are not updated later)."""
        ahead = self.ahead_of(t)
        waiting = t.status is TicketStatus.WAITING
        return TicketView(
            ticket=t,
            ahead=ahead,
            estimated_wait_s=self.estimated_wait_s(t.service, ahead) if waiting else 0,
            counters_open=self.counters_open(t.service),
        )

    def waiting_count(self, service: str, priority_only: bool = False) -> int:
        """Tickets waiting in a service now (in the priority lane only, if asked)."""
        return self.lanes.count(service, priority_only=priority_only)

    def last_called(self, service: str) -> Ticket | None:
        """The service's ticket called or recalled most recently today."""
        return self.lanes.last_called(service)

    def issued_today(self, service: str) -> int:
        """Numbers issued today for a service (the last number)."""
        return self.last_number[ServiceCode(service)]

    def recent_calls(self) -> list[Ticket]:
        """Today's calls and recalls, most recent first, for the board."""
        return self.lanes.recent_calls(self.rules.recent_calls)

    # ---- time ----------------------------------------------------------

    def tick(self) -> Changes:
        """Rolls over to a new business day when the office-local date has moved on.

        Tickets still waiting or being served expire (their rows stay in the
        store), counters close, and numbering starts again at 1.
        """
        now = self.clock()
        today = business_day(now, self.config.office.timezone)
        self._out = Changes()
        # Only forwards. A clock set back across midnight (NTP correcting a
        # clock that ran ahead, a technician's `date -s`) must not reopen an
        # earlier day: numbering from 1 again there would reuse its codes and
        # overwrite its tickets in the store. The day in hand goes on instead.
        if today <= self.day:
            self._open_due_visit(now)
            self._expire_bookings(now)
            return self._out
        previous, expired = self.day, 0
        for t in self.tickets.values():
            if t.status in (TicketStatus.WAITING, TicketStatus.CALLED):
                self._put(t.replace(status=TicketStatus.EXPIRED, finished_at=now))
                expired += 1
        self.tickets = {}
        self.by_token = {}  # yesterday's phone pages end with the day
        self.niks_today = set()
        self.day = today
        self._reindex()
        self.bookings.forget_before(today - timedelta(days=BOOKINGS_KEPT_DAYS))
        for number in self.counters:
            self._put_counter(self._fresh_counter(number))
        self._out.services |= set(self.services)
        self._out.office_changed = True
        self._emit(DayStartedEvent, EventKind.DAY_STARTED, previous_day=previous, expired=expired)
        self._out.visits_changed = True  # yesterday's visits leave the schedule
        self._close_visits_before(today, now)
        self._open_due_visit(now)
        self._expire_bookings(now, every_s=0)
        return self._finish(DayResult(today))

    def _expire_bookings(self, now: datetime, every_s: float = EXPIRY_CHECK_S) -> None:
        """Bookings nobody redeemed by their slot's start plus grace: expired (did not come).

        The room they held for the day goes back to walk-ins; the slot stays
        counted, as booked but not come. A visit's booking, once its visit
        is closed here (the unit's items are home) and its day is over.
        """
        last = self._expiry_checked
        if last is not None and 0 <= (now - last).total_seconds() < every_s:
            return
        self._expiry_checked = now
        home = {v.id for v in self.visits.values() if v.status is VisitStatus.CLOSED}
        for b in self.bookings.due_to_expire(now, home):
            self._put_booking(b.replace(status=BookingStatus.EXPIRED))

    # ---- resident actions ------------------------------------------------

    def issue(self, service: str, priority: bool = False, nik: str | None = None) -> Changes:
        """A new number for `service`, in the priority lane if asked (a NIK where required)."""
        self._begin()
        if priority and not self.rules.priority_enabled:
            raise QueueError("priority_disabled", "Antrean prioritas tidak tersedia di kantor ini.")
        key = self._walk_in_nik(self._service_cfg(service), nik)
        view = self._new_ticket(service, priority, nik_hash=key)
        if key is not None:
            self.niks_today.add(key)
        return self._finish(IssueResult(view, self._token(view.ticket.id)))

    def _token(self, ticket_id: TicketId) -> str:
        token = ticket_token(self.token_key, ticket_id)
        self.by_token[token] = ticket_id
        return token

    def tickets_by_token(self, tokens: list[Any]) -> Changes:
        """The phone page's public view of today's tickets with these tokens (read-only)."""
        if len(tokens) > MAX_TOKENS or not all(isinstance(t, str) for t in tokens):
            raise QueueError("bad_request", f"tokens: at most {MAX_TOKENS} strings")
        found = []
        for token in tokens:
            ticket_id = self.by_token.get(token)
            if ticket_id is not None:
                found.append(self._public(token, self.tickets[ticket_id]))
        return Changes(result=PublicTicketsResult(found))

    def _public(self, token: str, t: Ticket) -> PublicTicket:
        waiting = t.status is TicketStatus.WAITING
        called = t.status is TicketStatus.CALLED
        counter = self.config.counters_by_number.get(t.counter) if called and t.counter else None
        ahead = self.ahead_of(t) if waiting else None
        return PublicTicket(
            token=token,
            day=t.day,
            code=t.code,
            service=t.service,
            service_name=self._service_cfg(t.service).name,
            status=t.status.value,
            ahead=ahead,
            estimated_wait_s=self.estimated_wait_s(t.service, ahead) if ahead is not None else None,
            counters_open=self.counters_open(t.service),
            counter=counter.number if counter else None,
            counter_name=counter.name if counter else None,
            called_at=t.last_called_at if called else None,
            recalls=t.recalls,
        )

    def _walk_in_nik(self, cfg: ServiceConfig, nik: str | None) -> str | None:
        """The keyed hash of a nik_per_day walk-in's NIK, or a refusal (never quoting it)."""
        if not cfg.nik_per_day:
            return None
        if not nik or not nik.strip():
            message = "Layanan ini memerlukan NIK. Masukkan 16 angka NIK Anda."
            raise QueueError("nik_required", message, service=cfg.code)
        nik = clean_nik(nik)
        problem = nik_problem(nik)
        if problem:
            raise QueueError("nik_invalid", f"{problem}. Periksa lagi.", service=cfg.code)
        if self.nik_key is None:  # the service sets it; an engine without one cannot check
            raise QueueError("nik_unavailable", "Pemeriksaan NIK belum siap.", service=cfg.code)
        key = self.nik_key(nik)
        # A booking of today counts unless it expired: it gave no number, and
        # its resident is told to take a normal one.
        booked = any(
            b.day == self.day and b.status is not BookingStatus.EXPIRED
            for b in self.bookings.live_of(key, self.day)
        )
        if key in self.niks_today or booked:
            raise QueueError("nik_used_today", NIK_USED, service=cfg.code)
        return key

    def _new_ticket(
        self,
        service: str,
        priority: bool,
        booked_from: datetime | None = None,
        nik_hash: str | None = None,
    ) -> TicketView:
        cfg = self._service_cfg(service)
        now = self.clock()
        refusal = self.refusal(cfg.code, now, booked_from is not None)
        if refusal:
            raise refusal
        self._check_clock(now)
        number = self.last_number[cfg.code] + 1
        code_text = self.prefix + ticket_code(cfg.code, number)
        self.last_number[cfg.code] = number
        self.last_order += 1
        order = self.last_order
        ticket = Ticket(
            id=make_ticket_id(self.day, code_text),
            day=self.day,
            service=cfg.code,
            number=number,
            code=code_text,
            priority=priority,
            status=TicketStatus.WAITING,
            issued_at=now,
            order=order,
            booked_from=booked_from,
            nik_hash=nik_hash,
            visit=self.open_visit,
        )
        self._put(ticket)
        self._out.services.add(cfg.code)
        view = self.view(ticket)
        hashed = token_hash(self._token(ticket.id))
        self._emit(IssuedEvent, EventKind.ISSUED, ticket=view, token_hash=hashed)
        return view

    # ---- pre-registration (issue 12; rules in antrean/bookings.py) -------------

    def booking_import(
        self, batch: str, rows: list[Any], count: int | None = None, user: str | None = None
    ) -> Changes:
        """One chunk of a kelurahan list; the last one (with `count`) books every good row."""
        self._begin()
        desk = self.bookings
        staged = desk.stage(self.actor, batch, rows)
        if count is None:
            return self._finish(ImportChunkResult(batch, len(staged)))
        results = desk.book_all(desk.take(self.actor, batch, count), self.day, self.clock())
        for r in results:
            if r[1] == "booked":
                b = desk.by_code[r[2]]
                self._out.bookings[b.code] = b
                if b.day == self.day:
                    self._out.services.add(b.service)  # walk-ins' room shrank
        desk.results[(self.actor, batch)] = results
        n = Counter(r[1] for r in results)
        self._audit("booking_import", user, f"{batch}: {n['booked']} booked of {count}")
        page = self.booking_import_result(batch, 0).result
        assert isinstance(page, ImportPageResult)
        return self._finish(
            ImportResult(
                batch, n["booked"], n["unchanged"], n["refused"], 0, page.results, page.more
            )
        )

    def booking_import_result(self, batch: str, offset: int) -> Changes:
        """A page of a finished import's per-line results (read-only)."""
        results = self.bookings.results.get((self.actor, batch))
        if results is None:
            raise QueueError("unknown_batch", f"Hasil impor {batch} tidak ada (lagi).")
        page = results[offset : offset + RESULT_PAGE]
        return Changes(
            result=ImportPageResult(batch, offset, page, offset + len(page) < len(results))
        )

    def redeem(self, code: str, nik_last4: str | None = None) -> Changes:
        """A ticket for a booking code, on its day and within its window."""
        self._begin()
        self._slowed_down()
        try:
            visit = self.open_visit if self.unit is not None else None
            b, slot = self.bookings.redeemable(code, self.day, self.clock(), visit)
            if self.config.booking.confirm_nik_last4 and b.nik_last4:  # a unit holds no digits
                self._confirm_last4(b, nik_last4)
        except QueueError as err:
            if err.code in _GUESSES:
                self._wrong_codes.setdefault(self.actor, []).append(self.clock())
            raise
        # Called ahead of walk-ins (the booked lane) from the slot's start.
        starts = datetime.combine(b.day, slot.start, self.config.office.timezone)
        view = self._new_ticket(b.service, False, booked_from=starts)
        used = b.replace(
            status=BookingStatus.REDEEMED, ticket=view.ticket.id, redeemed_at=self.clock()
        )
        self._put_booking(used)
        slot_view = BookedSlot(code.strip(), b.day, slot.text, b.service)  # a unit's: a hash
        return self._finish(RedeemResult(view, slot_view, self._token(view.ticket.id)))

    def _slowed_down(self) -> None:
        """too_many_attempts while this kiosk has had WRONG_CODES wrong codes lately."""
        now = self.clock()
        recent = [
            t
            for t in self._wrong_codes.get(self.actor, ())
            if (now - t).total_seconds() < WRONG_WINDOW_S
        ]
        self._wrong_codes[self.actor] = recent
        if len(recent) >= WRONG_CODES:
            wait = math.ceil(WRONG_PAUSE_S - (now - recent[-1]).total_seconds())
            if wait > 0:
                raise QueueError(
                    "too_many_attempts",
                    f"Terlalu banyak kode salah. Coba lagi dalam {wait} detik.",
                    retry_after_s=wait,
                )

    @staticmethod
    def _confirm_last4(b: Booking, last4: str | None) -> None:
        if not last4 or not last4.strip():
            raise QueueError("nik_last4_required", "Masukkan 4 angka terakhir NIK Anda.")
        if last4.strip() != b.nik_last4:
            raise QueueError("nik_mismatch", "4 angka terakhir NIK tidak cocok dengan booking ini.")

    def find_booking(
        self, code: str | None = None, name: str | None = None, kelurahan: str | None = None
    ) -> Changes:
        """A booking by its code, or those of a name in a kelurahan, for staff (read-only)."""
        if code:
            return Changes(result=BookingResult(self._booking_view(self.bookings.find(code))))
        if not (name and name.strip() and kelurahan and kelurahan.strip()):
            raise QueueError("bad_request", "Cari dengan kode, atau dengan nama dan kelurahan.")
        found = self.bookings.named(name, kelurahan, MAX_FOUND)
        return Changes(result=BookingsResult([self._booking_view(b) for b in found]))

    def book(
        self, name: str, nik: str, kelurahan: str, service: str,
        phone: str | None = None, day: str | None = None, user: str | None = None,
        visit: str | None = None,
    ) -> Changes:  # fmt: skip
        """A booking taken by staff on the phone: the day's (or `visit`'s) first free slot."""
        self._begin()
        nik = clean_nik(nik)
        problem = nik_problem(nik)
        if problem:
            raise QueueError("nik_invalid", f"{problem}. Periksa lagi.")
        if self.nik_key is None:
            raise QueueError("nik_unavailable", "Pemeriksaan NIK belum siap.")
        if not name.strip() or not kelurahan.strip():
            raise QueueError("bad_request", "Nama dan kelurahan harus diisi.")
        try:
            when = date.fromisoformat(day) if day else None
        except ValueError as exc:
            raise QueueError("bad_request", "day: YYYY-MM-DD.") from exc
        row = ImportRow(
            0, self.nik_key(nik), nik[-4:], name.strip(), (phone or "").strip(),
            kelurahan.strip(), service, when,
        )  # fmt: skip
        if visit is None:
            ((_line, outcome, what, *_),) = self.bookings.book_all([row], self.day, self.clock())
        else:
            _line, outcome, what, *_ = self.bookings.book_visit(
                row, self._bookable_visit(visit), self.clock()
            )
        if outcome == "refused":
            raise QueueError("booking_refused", str(what))
        b = self.bookings.by_code[str(what)]
        self._audit("book", user, b.code)  # the code only: no name, NIK or phone here
        if outcome == "booked":
            self._out.bookings[b.code] = b
            if b.day == self.day:
                self._out.services.add(b.service)  # walk-ins' room shrank
        return self._finish(BookResult(self._booking_view(b), again=outcome != "booked"))

    def _bookable_visit(self, visit_id: str) -> Visit:
        """A visit still planned, of today or later, that residents may book (issue 13)."""
        v = self.visits.get(visit_id)
        if v is None or v.status is not VisitStatus.PLANNED or v.day < self.day:
            raise QueueError(
                "booking_refused", f"Kunjungan {visit_id} tidak ada atau tidak bisa dipesan lagi."
            )
        return v

    def visit_bookings(self, bookings: list[Any]) -> Changes:
        """On a unit: the office's bookings of its visits, as code hashes (issue 13).

        What the unit redeemed or saw expire stays; a booking the office
        cancelled since is cancelled here too.
        """
        self._begin()
        if self.unit is None:
            raise QueueError("not_a_unit", "Booking kunjungan hanya dibawa unit keliling ([unit]).")
        taken = 0
        for raw in bookings:
            b = carried_booking(raw, self.visits, self.unit.id, self.clock())
            held = self.bookings.by_code.get(b.code) if b is not None else None
            if b is None or (held is not None and (held.status is not BookingStatus.BOOKED
                                                   or held.status is b.status)):  # fmt: skip
                continue
            self._put_booking(b)
            taken += 1
        return self._finish(CarriedResult(taken))

    def cancel_booking(self, code: str, user: str | None = None) -> Changes:
        """Cancels a booking that is not yet used: its slot is free again."""
        self._begin()
        b = self.bookings.find(code)
        if b.status is not BookingStatus.BOOKED:
            raise QueueError(
                "invalid_state", f"Booking {b.code} tidak bisa dibatalkan ({b.status})."
            )
        gone = b.replace(status=BookingStatus.CANCELLED)
        self._put_booking(gone)
        self._audit("cancel_booking", user, gone.code)
        return self._finish(BookingResult(self._booking_view(gone)))

    def booking_purge(self) -> Changes:
        """Erases names and phones of bookings `erase_after_days` past their day."""
        self._begin()
        before = self.day - timedelta(days=self.config.booking.erase_after_days)
        for b in self.bookings.to_erase(self.day):
            self._put_booking(b.replace(name=None, phone=None))
        self._out.erase_names_before = before  # also those no longer held in memory
        self._out.erase_niks_before = self.day  # a NIK hash serves its own day's rule only
        return self._finish(PurgeResult(before))

    def _put_booking(self, b: Booking) -> None:
        self.bookings.put(b)
        self._out.bookings[b.code] = b
        if b.day == self.day:
            self._out.services.add(b.service)  # the room kept for bookings changed

    def _booking_view(self, b: Booking) -> BookingView:
        slot = self.bookings.slot(b).text
        return BookingView(
            b.code, b.day, slot, b.service, b.nik_last4, b.name, b.kelurahan, b.status.value,
            b.ticket, b.visit,
        )  # fmt: skip

    # ---- counter actions -------------------------------------------------

    def call_next(self, counter: int) -> Changes:
        """Finishes the counter's ticket (served) and calls the next one for its services."""
        self._begin()
        cfg = self._counter_cfg(counter)
        finished = self._finish_current(cfg.number, TicketStatus.SERVED)
        self._open_counter(cfg.number)
        ticket = self._pick_next(cfg.number, cfg.services)
        called = self._call(cfg.number, ticket, in_order=True) if ticket else None
        return self._finish(CallResult(called, finished))

    def call_ticket(self, counter: int, code: str) -> Changes:
        """Calls a specific waiting (or skipped) number out of order."""
        self._begin()
        cfg = self._counter_cfg(counter)
        ticket = self.ticket_by_code(code)
        if ticket.status not in (TicketStatus.WAITING, TicketStatus.NO_SHOW):
            raise QueueError(
                "invalid_state",
                f"Nomor {ticket.code} tidak sedang menunggu ({ticket.status.value}).",
            )
        if (
            ticket.status is TicketStatus.NO_SHOW
            and ticket.service in self.card_services
            and self.cards_available() <= 0
        ):
            raise QueueError("out_of_cards", OUT_OF_CARDS, service=ticket.service)
        finished = self._finish_current(cfg.number, TicketStatus.SERVED)
        self._open_counter(cfg.number)
        called = self._call(cfg.number, self.tickets[ticket.id], in_order=False)
        return self._finish(CallResult(called, finished))

    def recall(self, counter: int) -> Changes:
        """Calls the counter's current ticket again, up to the recall limit."""
        self._begin()
        ticket = self._current(counter)
        if ticket.recalls >= self.rules.recall_limit:
            raise QueueError(
                "recall_limit",
                f"Nomor {ticket.code} sudah dipanggil ulang {ticket.recalls} kali.",
                limit=self.rules.recall_limit,
            )
        # A recall leaves called_at (the latest call) alone: service times run from the call.
        ticket = ticket.replace(recalls=ticket.recalls + 1, recalled_at=self.clock())
        self._put(ticket)
        self._record(CallKind.RECALL, ticket)
        self._out.counters.add(CounterNumber(counter))  # its state shows the ticket
        view = self.view(ticket)
        self._emit_at_counter(EventKind.RECALLED, view, CounterNumber(counter))
        return self._finish(TicketResult(view))

    def no_show(self, counter: int) -> Changes:
        """Skips the counter's current ticket; staff can requeue it later."""
        return self._end_current(counter, TicketStatus.NO_SHOW)

    def complete(self, counter: int, kelurahan: str | None = None) -> Changes:
        """Marks the counter's current ticket served (a recording: for `kelurahan`, if chosen)."""
        if kelurahan is not None:
            checked_kelurahan(kelurahan, set(self.targets))
        return self._end_current(counter, TicketStatus.SERVED, kelurahan)

    def transfer(self, counter: int, service: str) -> Changes:
        """Moves the counter's current ticket to another service, keeping its place."""
        self._begin()
        ticket = self._current(counter)
        target = self._service_cfg(service)
        if target.code == ticket.service:
            raise QueueError("invalid_state", f"Nomor {ticket.code} sudah di layanan {service}.")
        if (
            target.uses_card
            and ticket.service not in self.card_services
            and self.cards_available() <= 0
        ):
            raise QueueError("out_of_cards", OUT_OF_CARDS, service=target.code)
        moved = ticket.replace(
            service=target.code,
            status=TicketStatus.WAITING,
            counter=None,
            called_at=None,
            recalled_at=None,
            recalls=0,
        )
        self._put(moved)
        self._record(CallKind.TRANSFER, moved, CounterNumber(counter))
        self._put_counter(self._counter(counter, current=None))
        self._out.services |= {ticket.service, target.code}
        view = self.view(moved)
        self._emit(
            TransferredEvent,
            EventKind.TRANSFERRED,
            ticket=view,
            from_service=ticket.service,
            counter=counter,
            counter_name=self._counter_cfg(counter).name,
        )
        return self._finish(TicketResult(view))

    def requeue(self, code: str) -> Changes:
        """Puts a skipped (no-show) ticket back in the queue at its original place."""
        self._begin()
        ticket = self.ticket_by_code(code)
        if ticket.status is not TicketStatus.NO_SHOW:
            raise QueueError(
                "invalid_state", f"Hanya nomor yang dilewati bisa diantrekan ulang ({ticket.code})."
            )
        back = ticket.replace(
            status=TicketStatus.WAITING,
            counter=None,
            called_at=None,
            recalled_at=None,
            finished_at=None,
            recalls=0,
        )
        if back.service in self.card_services and self.cards_available() <= 0:
            raise QueueError("out_of_cards", OUT_OF_CARDS, service=back.service)
        self._put(back)
        self._record(CallKind.REQUEUE, back)
        self._out.services.add(back.service)
        view = self.view(back)
        self._emit(TicketEvent, EventKind.REQUEUED, ticket=view)
        return self._finish(TicketResult(view))

    def cancel(self, code: str) -> Changes:
        """Cancels a waiting ticket (the resident left, or it was issued by mistake)."""
        self._begin()
        ticket = self.ticket_by_code(code)
        if ticket.status is not TicketStatus.WAITING:
            raise QueueError(
                "invalid_state", f"Nomor {ticket.code} tidak sedang menunggu ({ticket.status})."
            )
        gone = ticket.replace(status=TicketStatus.CANCELLED, finished_at=self.clock())
        self._put(gone)
        self._out.services.add(gone.service)
        view = self.view(gone)
        self._emit(TicketEvent, EventKind.CANCELLED, ticket=view)
        return self._finish(TicketResult(view))

    def counter_open(self, counter: int, user: str | None = None) -> Changes:
        """Opens a counter (a call opens it too)."""
        self._begin()
        cfg = self._counter_cfg(counter)
        self._open_counter(cfg.number)
        self._audit("counter_open", user, str(cfg.number))
        return self._finish(CounterOpenResult(cfg.number, True))

    def counter_close(self, counter: int, user: str | None = None) -> Changes:
        """Closes a counter; its current ticket, if any, is finished as served."""
        self._begin()
        cfg = self._counter_cfg(counter)
        self._audit("counter_close", user, str(cfg.number))
        finished = self._finish_current(cfg.number, TicketStatus.SERVED)
        if self.counters[cfg.number].open:
            self._put_counter(self._counter(cfg.number, open=False))
            self._out.services |= set(cfg.services)
            self._emit(
                CounterEvent, EventKind.COUNTER_CLOSED, counter=cfg.number, counter_name=cfg.name
            )
        return self._finish(CounterCloseResult(cfg.number, False, finished))

    # ---- office actions --------------------------------------------------

    def service_open(self, service: str, user: str | None = None) -> Changes:
        """Takes tickets for a service again."""
        return self._set_service(service, True, "", user)

    def service_close(self, service: str, reason: str = "", user: str | None = None) -> Changes:
        """Stops issuing tickets for a service; the reason is shown to residents."""
        reason = reason.strip() or "Layanan ditutup sementara."
        return self._set_service(service, False, reason, user)

    def set_running_text(self, text: str, user: str | None = None) -> Changes:
        """The announcement line the board scrolls."""
        self._begin()
        self._audit("set_running_text", user, text)
        if text != self.running_text:
            self.running_text = text
            self._out.office_changed = True
            self._emit(RunningTextEvent, EventKind.RUNNING_TEXT, text=text)
        return self._finish(RunningTextResult(text))

    # ---- visits of the mobile unit (issue 13; rules in antrean/visits.py) ---------

    def visit_plan(self, user: str | None = None, **plan: Any) -> Changes:
        """Plans a visit, or changes a planned one (the same id)."""
        self._begin()
        units = set(self.config.units) | ({self.unit.id} if self.unit else set())
        visit = checked_visit(units=units, **plan)  # the args as antrean.actions declares them
        earlier = self.visits.get(visit.id)
        if earlier is not None and earlier.status is not VisitStatus.PLANNED:
            raise QueueError("invalid_state", f"Kunjungan {visit.id} sudah {earlier.status}.")
        self._put_visit(visit)
        self._audit("visit_plan", user, visit.id)
        return self._finish(VisitResult(visit.as_dict()))

    def visit_cancel(self, id: str, user: str | None = None) -> Changes:
        """Cancels a planned visit (it leaves the schedule and the board)."""
        self._begin()
        visit = self._visit(id, VisitStatus.PLANNED)
        self._audit("visit_cancel", user, id)
        self._put_visit(visit.replace(status=VisitStatus.CANCELLED))
        return self._finish(VisitResult(self.visits[id].as_dict()))

    def visit_open(self, id: str) -> Changes:
        """On the unit that goes: starts numbering for the visit (its tickets carry its id)."""
        self._begin()
        if self.unit is None:
            raise QueueError("not_a_unit", "Hanya unit keliling ([unit]) yang membuka kunjungan.")
        visit = self._visit(id, VisitStatus.PLANNED)
        if visit.unit != self.unit.id:
            raise QueueError("forbidden", f"Kunjungan {id} untuk unit {visit.unit}.")
        if self.open_visit is not None:
            raise QueueError("invalid_state", f"Kunjungan {self.open_visit} masih dibuka.")
        self._put_visit(visit.replace(status=VisitStatus.OPEN, opened_at=self.clock()))
        return self._finish(VisitResult(self.visits[id].as_dict()))

    def visit_close(self, id: str) -> Changes:
        """Ends the open visit: the unit numbers untagged again (its residents are served)."""
        self._begin()
        visit = self._visit(id, VisitStatus.OPEN)
        self._put_visit(visit.replace(status=VisitStatus.CLOSED, closed_at=self.clock()))
        return self._finish(VisitResult(self.visits[id].as_dict()))

    @property
    def open_visit(self) -> str | None:
        """The id of the visit this unit numbers for now, if any."""
        if self.unit is None:
            return None
        return next((v.id for v in self.visits.values() if v.status is VisitStatus.OPEN), None)

    def coming_visits(self) -> list[Visit]:
        """The schedule: visits today or later, not cancelled or closed."""
        return coming(self.visits.values(), self.day)

    def board_text(self) -> str:
        """Staff's running text, else the coming visits' (issue 13)."""
        return self.running_text or running_text(self.visits.values(), self.day)

    def _visit(self, id: str, status: VisitStatus) -> Visit:
        visit = self.visits.get(id)
        if visit is None:
            raise QueueError("unknown_visit", f"Kunjungan {id} tidak ada.")
        if visit.status is not status:
            raise QueueError("invalid_state", f"Kunjungan {id} {visit.status}, bukan {status}.")
        return visit

    def _put_visit(self, visit: Visit) -> None:
        self.visits[visit.id] = visit
        self._out.visits[visit.id] = visit
        self._out.visits_changed = True
        if not self.running_text:
            self._out.office_changed = True  # the board's text follows the schedule

    def _open_due_visit(self, now: datetime) -> None:
        if self.unit is None or self.open_visit is not None:
            return
        visit = due(self.visits.values(), self.unit.id, now.astimezone(self.config.office.timezone))
        if visit is not None:
            self._put_visit(visit.replace(status=VisitStatus.OPEN, opened_at=now))

    def _close_visits_before(self, today: date, now: datetime) -> None:
        if self.unit is None:
            return  # the office's copy closes when the unit's own close comes home, after
            # every item of the visit: its unredeemed bookings then count as not come
        for v in list(self.visits.values()):
            if v.status is VisitStatus.OPEN and v.day < today:
                self._put_visit(v.replace(status=VisitStatus.CLOSED, closed_at=now))

    def _check_clock(self, now: datetime) -> None:
        """A unit on a clock clearly behind what it has already recorded does not number."""
        high = self.clock_high
        if self.unit is None or high is None or now >= high - CLOCK_SLACK:
            return
        zone = self.config.office.timezone
        raise QueueError(
            "clock_behind",
            f"Jam unit mundur: sekarang {now.astimezone(zone):%d-%m-%Y %H.%M}, padahal sudah "
            f"tercatat {high.astimezone(zone):%d-%m-%Y %H.%M}. Setel jam unit "
            "(sudo date -s 'YYYY-MM-DD HH:MM'), lalu coba lagi.",
            recorded=high.isoformat(timespec="seconds"),
        )

    def clock_floor_reset(self, confirm: str, user: str | None = None) -> Changes:
        """On a unit: the clock floor set to now, after its clock ran ahead and was set right.

        The floor stops numbering on a clock gone back; once staff know the
        clock is right, only this lowers it. `confirm` must be the unit's id.
        Numbers are the day's counter, so they go on without reuse.
        """
        self._begin()
        if self.unit is None:
            raise QueueError("not_a_unit", "Batas jam hanya ada di unit keliling ([unit]).")
        if confirm != self.unit.id:
            raise QueueError(
                "not_confirmed",
                f"Ketik id unit ({self.unit.id}) untuk memastikan jam unit sudah benar.",
            )
        previous, now = self.clock_high, self.clock()
        self.clock_high = now
        was = previous.isoformat(timespec="seconds") if previous else "-"
        self._audit("clock_floor_reset", user, f"{was} -> {now.isoformat(timespec='seconds')}")
        return self._finish(ClockFloorResult(previous, now))

    # ---- blank cards and the drive (issue 14; rules in antrean/stock.py) ---------

    def stock_receive(
        self, count: int, note: str, day: str | None = None, user: str | None = None
    ) -> Changes:
        """Records a delivery of blank cards (its delivery note required)."""
        when = self._day_arg(day)
        note = checked_reason(note, "Nomor surat jalan (note)")
        return self._stock(EntryKind.DELIVERY, checked_count(count), note, user, when)

    def stock_spoil(self, count: int, reason: str, user: str | None = None) -> Changes:
        """Records cards spoiled by a failed print (a reason required)."""
        reason = checked_reason(reason, "Alasan (reason)")
        return self._stock(EntryKind.SPOILED, -checked_count(count), reason, user)

    def stock_adjust(self, count: int, reason: str, user: str | None = None) -> Changes:
        """Corrects the balance by a signed count after a count by staff (a reason required)."""
        reason = checked_reason(reason, "Alasan (reason)")
        return self._stock(EntryKind.CORRECTION, checked_count(count, signed=True), reason, user)

    def drive_target(self, kelurahan: str, target: int, user: str | None = None) -> Changes:
        """Sets a kelurahan's target: residents still to record there."""
        self._begin()
        name = kelurahan.strip()
        if not name or not 0 <= target <= 10_000_000:
            raise QueueError("bad_request", "Kelurahan wajib diisi, target 0 sampai 10000000.")
        self.targets[name] = target
        self._out.targets.append(Target(name, target, self.clock(), who(self.actor, user)))
        self._out.office_changed = True
        return self._finish(TargetResult(name, target))

    def _stock(
        self, kind: EntryKind, count: int, note: str, user: str | None, day: date | None = None
    ) -> Changes:
        self._begin()
        self._ledger(kind, count, note, user, day)
        return self._finish(StockResult(self.stock_view()))

    def _ledger(
        self,
        kind: EntryKind,
        count: int,
        note: str,
        user: str | None,
        day: date | None = None,
        ticket: TicketId | None = None,
    ) -> None:
        entry = StockEntry(
            kind, count, day or self.day, self.clock(), note, who(self.actor, user), ticket
        )
        self.stock.add(entry)
        self._out.stock.append(entry)
        self._out.services |= self.card_services  # accepting may have changed
        self._emit(
            StockEvent, EventKind.STOCK, entry=kind.value, count=count, balance=self.stock.balance
        )

    def _day_arg(self, day: str | None) -> date | None:
        if day is None:
            return None
        try:
            return date.fromisoformat(day)
        except ValueError:
            raise QueueError("bad_request", f"Tanggal {day!r} bukan YYYY-MM-DD.") from None

    def _record(self, kind: CallKind, t: Ticket, counter: CounterNumber | None = None) -> None:
        self._out.calls.append(
            CallRecord(t.id, t.day, kind, self.clock(), counter or t.counter, t.service, t.visit)
        )

    def _on_served(self, ticket: Ticket, kelurahan: str | None) -> None:
        """A served ticket uses a card (card services) and counts for the drive (recording)."""
        if ticket.service in self.card_services:
            self._ledger(EntryKind.USED, -1, ticket.code, None, ticket=ticket.id)
        cfg = self.config.service(ticket.service)
        if cfg is not None and cfg.recording:
            visit = self.visits.get(ticket.visit or "")
            booked = self.bookings.of_ticket(ticket.id) if ticket.booked_from else None
            self._out.progress.append(
                attribute(
                    ticket.id,
                    ticket.day,
                    self.clock(),
                    kelurahan,
                    set(self.targets),
                    booking=booked.kelurahan if booked else None,
                    visit=visit.kelurahan if visit else None,
                )
            )

    # ---- internals -------------------------------------------------------

    def _begin(self) -> None:
        self._out = Changes()

    def _finish(self, result: Result) -> Changes:
        out, self._out = self._out, Changes()
        if self.unit is not None:
            now = self.clock()
            if self.clock_high is None or now > self.clock_high:
                self.clock_high = now
        out.result = result
        out.stock_changed = bool(out.stock) or bool(out.services & self.card_services)
        if out.events:
            out.office_changed = True  # state/office carries the last seq
        return out

    def _audit(self, action: str, user: str | None, subject: str) -> None:
        """The store's record of an office action with its device and user (issue 15)."""
        who_ = who(self.actor, user)
        self._out.audit.append(AuditEntry(self.clock(), self.day, who_, action, subject))

    def _emit(self, cls: type[Event], kind: EventKind, **data: Any) -> None:
        self.seq += 1
        self._out.events.append(cls(self.seq, kind, self.clock(), self.day, **data))

    def _emit_at_counter(self, kind: EventKind, view: TicketView, counter: CounterNumber) -> None:
        name = self._counter_cfg(counter).name
        self._emit(AtCounterEvent, kind, ticket=view, counter=counter, counter_name=name)

    def _put(self, ticket: Ticket) -> None:
        self.lanes.update(self.tickets.get(ticket.id), ticket)
        self.tickets[ticket.id] = ticket
        self._out.tickets[ticket.id] = ticket
        self._out.services.add(ticket.service)

    def _put_counter(self, status: CounterStatus) -> None:
        self.counters[status.number] = status
        self._out.counters.add(status.number)

    def _counter(self, number: int, **changes: Any) -> CounterStatus:
        c = self.counters[CounterNumber(number)]
        return CounterStatus(
            number=c.number,
            open=changes.get("open", c.open),
            current=changes.get("current", c.current),
            normal_streak=changes.get("normal_streak", c.normal_streak),
            booked_streak=changes.get("booked_streak", c.booked_streak),
        )

    def _fresh_counter(self, number: CounterNumber) -> CounterStatus:
        # A fresh day starts with a full streak so a waiting priority ticket goes first.
        return CounterStatus(number, normal_streak=self.rules.priority_ratio)

    def _counter_cfg(self, counter: int) -> CounterConfig:
        cfg = self.config.counter(counter)
        if cfg is None:
            raise QueueError("unknown_counter", f"Loket {counter} tidak ada.")
        return cfg

    def _service_cfg(self, service: str) -> ServiceConfig:
        cfg = self.config.service(service)
        if cfg is None:
            raise QueueError("unknown_service", f"Layanan {service} tidak ada.")
        return cfg

    def _current(self, counter: int) -> Ticket:
        self._counter_cfg(counter)
        current = self.counters[CounterNumber(counter)].current
        if current is None:
            raise QueueError("no_current_ticket", f"Loket {counter} sedang tidak melayani nomor.")
        return self.tickets[current]

    def _open_counter(self, counter: CounterNumber) -> None:
        if not self.counters[counter].open:
            self._put_counter(self._counter(counter, open=True))
            cfg = self._counter_cfg(counter)
            self._out.services |= set(cfg.services)  # wait estimates change
            self._emit(
                CounterEvent, EventKind.COUNTER_OPENED, counter=counter, counter_name=cfg.name
            )

    def _finish_current(
        self, counter: CounterNumber, status: TicketStatus, kelurahan: str | None = None
    ) -> TicketView | None:
        current = self.counters[counter].current
        if current is None:
            return None
        now = self.clock()
        ticket = self.tickets[current].replace(status=status, finished_at=now)
        self._put(ticket)
        self._put_counter(self._counter(counter, current=None))
        if status is TicketStatus.SERVED and ticket.called_at is not None:
            took = (now - ticket.called_at).total_seconds()
            if took >= MIN_SERVICE_TIME_S:
                self.service_times[ticket.service].append(took)
        if status is TicketStatus.SERVED:
            self._on_served(ticket, kelurahan)
        elif status is TicketStatus.NO_SHOW:
            self._record(CallKind.NO_SHOW, ticket, counter)
        view = self.view(ticket)
        self._emit_at_counter(EventKind(status.value), view, counter)
        return view

    def _end_current(
        self, counter: int, status: TicketStatus, kelurahan: str | None = None
    ) -> Changes:
        self._begin()
        self._current(counter)
        view = self._finish_current(CounterNumber(counter), status, kelurahan)
        return self._finish(TicketResult(view))

    def _pick_next(self, counter: CounterNumber, services: Iterable[str]) -> Ticket | None:
        """Oldest waiting ticket, interleaving the priority and booked lanes at their shares.

        While priority and other tickets wait, a counter makes at most
        `priority_ratio` other calls between two priority calls. Of those, while
        booked tickets (from their slot's start) and walk-ins wait, it makes
        `booked_share` booked calls per walk-in call. No lane starves.
        """
        now = self.clock()
        first_priority = self.lanes.first(services, Lane.PRIORITY)
        first_booked = self.lanes.first_booked(services, now, due=True)
        first_walk_in = self.lanes.first_walk_in(services, now)
        c = self.counters[counter]
        others = first_booked or first_walk_in
        if first_priority and (not others or c.normal_streak >= self.rules.priority_ratio):
            self._put_counter(self._counter(counter, normal_streak=0))
            return first_priority
        streak = c.normal_streak + 1
        share = self.config.booking.booked_share
        if first_booked and (not first_walk_in or c.booked_streak < share):
            self._put_counter(
                self._counter(counter, normal_streak=streak, booked_streak=c.booked_streak + 1)
            )
            return first_booked
        if first_walk_in:
            self._put_counter(self._counter(counter, normal_streak=streak, booked_streak=0))
            return first_walk_in
        return None

    def _call(self, counter: CounterNumber, ticket: Ticket, in_order: bool) -> TicketView:
        called = ticket.replace(
            status=TicketStatus.CALLED,
            counter=counter,
            called_at=self.clock(),
            recalled_at=None,
            finished_at=None,
            recalls=0,
        )
        self._put(called)
        self._record(CallKind.CALL, called, counter)
        self._put_counter(self._counter(counter, current=called.id))
        view = self.view(called)
        self._emit(
            CalledEvent,
            EventKind.CALLED,
            ticket=view,
            counter=counter,
            in_order=in_order,
            counter_name=self._counter_cfg(counter).name,
        )
        return view

    def _set_service(self, service: str, open_: bool, reason: str, user: str | None) -> Changes:
        self._begin()
        cfg = self._service_cfg(service)
        if open_:
            self._audit("service_open", user, cfg.code)
        else:
            self._audit("service_close", user, f"{cfg.code}: {reason}")
        status = ServiceStatus(cfg.code, open_, reason)
        if self.services[cfg.code] != status:
            self.services[cfg.code] = status
            self._out.services.add(cfg.code)
            self._out.service_rows.add(cfg.code)
            kind = EventKind.SERVICE_OPENED if open_ else EventKind.SERVICE_CLOSED
            self._emit(ServiceEvent, kind, service=cfg.code, reason=reason)
        return self._finish(ServiceResult(cfg.code, open_, reason))
