"""Bookings as the engine holds them: import into slots, the redemption check, erasure.

Pure state and rules, no I/O: the store loads the live bookings (from a few
weeks back on, so start-up does not grow with history) and commits the rows
that Changes.bookings carries, in the batch's one transaction with the
tickets they go with (a redeemed booking and its ticket are written together,
or neither is). Only a keyed hash of each NIK and its last four digits are
here (antrean.booking); names and phones go after `erase_after_days`.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from antrean.booking import (
    Slot,
    code_is_valid,
    day_slots,
    days_from,
    new_code,
    slot_of,
    visit_code_hash,
)
from antrean.config import BookingConfig, Config, ServiceConfig
from antrean.domain import QueueError, ServiceCode, TicketId
from antrean.visits import Visit
from antrean.words import day_text


def carried_booking(raw: Any, visits: dict[str, Visit], unit: str, now: datetime) -> Booking | None:
    """One entry of the office's sync/{unit}/bookings as a unit holds it, or None if not its own.

    Its code is the code's hash: the unit never has the code, a NIK or a name.
    """
    if not isinstance(raw, dict) or not isinstance(raw.get("code_hash"), str):
        return None
    visit = visits.get(str(raw.get("visit")))
    if visit is None or visit.unit != unit or not _HASH.match(raw["code_hash"]):
        return None
    try:
        status = BookingStatus(str(raw.get("status")))
        slot = time.fromisoformat(str(raw.get("slot")))
    except ValueError:
        return None
    if status not in (BookingStatus.BOOKED, BookingStatus.CANCELLED):
        return None
    return Booking(
        raw["code_hash"], visit.day, f"{slot:%H:%M}", ServiceCode(str(raw.get("service"))), "", "",
        None, None, visit.kelurahan, status, now, visit=visit.id,
    )  # fmt: skip


def visit_slots(visit: Visit, minutes: int) -> list[Slot]:
    """The whole slots of a visit's hours, from its start ("08:00" to "12:00": four of 60)."""
    slots, start = [], datetime.combine(visit.day, time.fromisoformat(visit.start))
    end, step = (
        datetime.combine(visit.day, time.fromisoformat(visit.end)),
        timedelta(minutes=minutes),
    )
    while start + step <= end:
        slots.append(Slot(start.time(), (start + step).time()))
        start += step
    return slots


RESULT_PAGE = 1000  # import results per reply: 10,000 rows would pass the broker's limit
MAX_STAGED_ROWS = 50_000  # rows held for unfinished imports; more is a runaway client
_HASH = re.compile(r"^[0-9a-f]{64}$")


def _folded(text: str) -> str:
    return " ".join(text.split()).casefold()


class BookingStatus(enum.StrEnum):
    BOOKED = "booked"
    REDEEMED = "redeemed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"  # nobody came by its slot's start plus grace: booked but did not come


@dataclass(frozen=True, slots=True)
class Booking:
    """One booking, as stored: no NIK, its keyed hash and last four digits."""

    code: str
    day: date
    slot: str  # its start, "08:00"
    service: ServiceCode
    nik_hash: str
    nik_last4: str
    name: str | None
    phone: str | None
    kelurahan: str
    status: BookingStatus
    booked_at: datetime
    ticket: TicketId | None = None
    redeemed_at: datetime | None = None
    visit: str | None = None  # issue 13: a slot of a mobile unit's visit, redeemed there

    def replace(self, **changes: Any) -> Booking:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One list row as the CLI sends it: the NIK already hashed."""

    line: int
    nik_hash: str
    last4: str
    name: str
    phone: str
    kelurahan: str
    service: str
    day: date | None

    @classmethod
    def parse(cls, raw: Any) -> ImportRow:
        """Checks a row's shape; a malformed one refuses the whole chunk (bad_request)."""
        if not isinstance(raw, dict):
            raise QueueError("bad_request", "Setiap baris harus objek JSON.")
        try:
            line, key, last4 = raw["line"], raw["nik_hash"], raw["last4"]
            texts = [raw.get(k, "") for k in ("name", "phone", "kelurahan", "service")]
            day = raw.get("day")
        except KeyError as exc:
            raise QueueError("bad_request", f"Baris tanpa field {exc.args[0]}.") from exc
        ok = (
            isinstance(line, int)
            and isinstance(key, str)
            and _HASH.match(key)
            and isinstance(last4, str)
            and re.fullmatch(r"\d{4}", last4)
            and all(isinstance(t, str) and len(t) <= 200 for t in texts)
            and (day is None or isinstance(day, str))
        )
        if not ok:
            raise QueueError("bad_request", f"Baris {line!r}: field tidak sah.")
        try:
            when = date.fromisoformat(day) if day else None
        except ValueError as exc:
            raise QueueError("bad_request", f"Baris {line}: tanggal harus YYYY-MM-DD.") from exc
        name, phone, kelurahan, service = texts
        return cls(line, key, last4, name, phone, kelurahan, service, when)


class Bookings:
    """The live bookings of an office, indexed for import and redemption."""

    def __init__(self, config: Config, rows: Iterable[Booking] = ()) -> None:
        self.config = config
        self.settings: BookingConfig = config.booking
        self.by_code: dict[str, Booking] = {}
        self._by_ticket: dict[str, str] = {}  # a redeemed booking's ticket -> its code
        self._by_nik: dict[str, list[str]] = {}
        self._per_slot: Counter[tuple[date, str, str]] = Counter()
        self._per_day: Counter[tuple[date, str]] = Counter()
        self._waiting: Counter[tuple[date, str]] = Counter()  # booked, not yet redeemed
        self._per_visit_slot: Counter[tuple[str, str, str]] = Counter()  # issue 13
        self._staged: dict[tuple[str, str], list[ImportRow]] = {}
        self.results: dict[tuple[str, str], list[list[Any]]] = {}
        for b in rows:
            self.put(b)

    def put(self, b: Booking) -> None:
        """Adds or replaces a booking, keeping every count right."""
        old = self.by_code.get(b.code)
        if old is not None:
            self._count(old, -1)
        else:
            self._by_nik.setdefault(b.nik_hash, []).append(b.code)
        self.by_code[b.code] = b
        if b.ticket is not None:
            self._by_ticket[b.ticket] = b.code
        self._count(b, 1)

    def _count(self, b: Booking, n: int) -> None:
        if b.visit is not None:  # a visit's slots are the unit's: the office's room is untouched
            if b.status is not BookingStatus.CANCELLED:
                self._per_visit_slot[(b.visit, b.service, b.slot)] += n
            return
        if b.status is not BookingStatus.CANCELLED:
            self._per_slot[(b.day, b.service, b.slot)] += n
            self._per_day[(b.day, b.service)] += n
        if b.status is BookingStatus.BOOKED:
            self._waiting[(b.day, b.service)] += n

    def reserved(self, day: date, service: str) -> int:
        """Bookings of `day` for `service` not yet redeemed: numbers walk-ins may not take."""
        return self._waiting[(day, service)]

    def of_ticket(self, ticket: str) -> Booking | None:
        """The booking redeemed for `ticket` (its kelurahan counts for the drive), if any."""
        code = self._by_ticket.get(ticket)
        return self.by_code.get(code) if code else None

    def live_of(self, nik_hash: str, today: date) -> list[Booking]:
        """A NIK's bookings from today on that are not cancelled."""
        found = (self.by_code[c] for c in self._by_nik.get(nik_hash, ()))
        return [b for b in found if b.day >= today and b.status is not BookingStatus.CANCELLED]

    def due_to_expire(self, now: datetime, home: Collection[str] = ()) -> list[Booking]:
        """Bookings still waiting whose window (slot start plus grace) has closed by `now`.

        A visit's booking waits for its outcome to come home with the unit:
        it is due once its day is over and its visit is in `home` (closed at
        the office by the unit's own items, so every redemption is here).
        """
        zone, grace = self.config.office.timezone, timedelta(minutes=self.settings.grace_minutes)
        local = now.astimezone(zone)
        due = []
        for b in self.by_code.values():
            if b.status is not BookingStatus.BOOKED or b.day > local.date():
                continue
            if b.visit:
                if b.day < local.date() and b.visit in home:
                    due.append(b)
            elif b.day < local.date() or local > self._starts(b) + grace:
                due.append(b)
        return due

    def _starts(self, b: Booking) -> datetime:
        return datetime.combine(b.day, self.slot(b).start, self.config.office.timezone)

    def forget_before(self, day: date) -> None:
        """Drops bookings of days before `day` from memory (they stay in the store)."""
        for code in [c for c, b in self.by_code.items() if b.day < day]:
            b = self.by_code.pop(code)
            self._count(b, -1)
            self._by_ticket.pop(b.ticket or "", None)
            self._by_nik[b.nik_hash].remove(code)

    # ---- import ---------------------------------------------------------------------

    def stage(self, device: str, batch: str, raw_rows: list[Any]) -> list[ImportRow]:
        """Holds a chunk's rows; returns the whole batch so far."""
        rows = [ImportRow.parse(r) for r in raw_rows]
        key = (device, batch)
        staged = self._staged.setdefault(key, [])
        if sum(len(v) for v in self._staged.values()) + len(rows) > MAX_STAGED_ROWS:
            del self._staged[key]
            raise QueueError("too_large", f"Impor lebih dari {MAX_STAGED_ROWS} baris.")
        staged.extend(rows)
        return staged

    def take(self, device: str, batch: str, count: int) -> list[ImportRow]:
        """The whole batch, once its last chunk came: `count` rows, or import_incomplete."""
        staged = self._staged.pop((device, batch), [])
        if len(staged) != count:
            raise QueueError(
                "import_incomplete",
                f"Impor {batch}: {len(staged)} dari {count} baris diterima "
                "(layanan antrean dimulai ulang?). Ulangi impor; yang sudah masuk tidak berubah.",
            )
        return staged

    def book_all(self, rows: list[ImportRow], today: date, now: datetime) -> list[list[Any]]:
        """Books each good row in its first free slot; [line, outcome, code or reason, ...]."""
        last_day = today + timedelta(days=self.settings.horizon_days)
        local = now.astimezone(self.config.office.timezone)
        in_file: dict[tuple[str, str], int] = {}
        results: list[list[Any]] = []
        for row in sorted(rows, key=lambda r: r.line):
            svc = self.config.service(row.service)
            problem = self._row_problem(row, svc, today, last_day)
            if problem or svc is None:
                results.append([row.line, "refused", problem])
                continue
            mine = self.live_of(row.nik_hash, today)
            again = next(
                (b for b in mine if b.service == svc.code and b.day == (row.day or b.day)), None
            )
            if again is not None:
                first = in_file.get((row.nik_hash, svc.code))
                if first is not None:
                    why = f"NIK ****{row.last4} sama dengan baris {first}"
                    results.append([row.line, "refused", why])
                else:
                    results.append([row.line, "unchanged", again.code, str(again.day), again.slot])
                continue
            if row.day is not None and any(b.day == row.day for b in mine):
                why = f"NIK ****{row.last4} sudah punya booking pada {row.day}"
                results.append([row.line, "refused", why])
                continue
            taken = {b.day for b in mine}
            first_day = row.day or today + timedelta(days=1)
            place = self._first_free(svc, first_day, last_day, taken, local)
            if place is None:
                why = f"slot {svc.name} penuh sampai {last_day.isoformat()}"
                results.append([row.line, "refused", why])
                continue
            day, slot = place
            booking = Booking(
                self._fresh_code(), day, slot.key, svc.code, row.nik_hash, row.last4,
                row.name or None, row.phone or None, row.kelurahan, BookingStatus.BOOKED, now,
            )  # fmt: skip
            self.put(booking)
            in_file[(row.nik_hash, svc.code)] = row.line
            results.append([row.line, "booked", booking.code, str(day), slot.key])
        return results

    def _row_problem(
        self, row: ImportRow, svc: ServiceConfig | None, today: date, last_day: date
    ) -> str | None:
        if svc is None:
            return f"layanan {row.service!r} tidak ada"
        if svc.code not in self.settings.capacity:
            return f"layanan {svc.code} ({svc.name}) tidak menerima booking"
        if row.day is not None and row.day < today:
            return f"tanggal {row.day} sudah lewat"
        if row.day is not None and row.day > last_day:
            return f"tanggal {row.day} melewati batas booking ({last_day})"
        return None

    def _first_free(
        self, svc: ServiceConfig, first: date, last: date, taken: set[date], now: datetime
    ) -> tuple[date, Slot] | None:
        """The first slot with room from `first` on: that day's, else a later open day's."""
        s = self.settings
        capacity, cap = s.capacity[svc.code], s.day_cap(svc.daily_quota)
        hours = svc.hours or self.config.office.hours
        for day in days_from(first, last):
            if day in taken or (cap is not None and self._per_day[(day, svc.code)] >= cap):
                continue
            for slot in day_slots(hours, day, s.slot_minutes):
                if day == now.date() and slot.start <= now.time():
                    continue
                if self._per_slot[(day, svc.code, slot.key)] < capacity:
                    return day, slot
        return None

    def _fresh_code(self) -> str:
        # Unique among the bookings held (a few weeks'): a code is only ever
        # redeemed on its own day, so an old day's code coming back is harmless.
        while (code := new_code()) in self.by_code:
            pass
        return code

    def book_visit(self, row: ImportRow, visit: Visit, now: datetime) -> list[Any]:
        """Books a row in the first free slot of a visit's hours; one result as book_all's."""
        svc = self.config.service(row.service)
        if svc is None or svc.code not in self.settings.capacity:
            return [row.line, "refused", self._row_problem(row, svc, visit.day, visit.day)]
        if svc.code not in visit.services and svc.name not in visit.services:
            return [row.line, "refused", f"layanan {svc.name} tidak dilayani di {visit.place}"]
        mine = self.live_of(row.nik_hash, visit.day)
        again = next((b for b in mine if b.visit == visit.id and b.service == svc.code), None)
        if again is not None:
            return [row.line, "unchanged", again.code, str(again.day), again.slot]
        if any(b.day == visit.day for b in mine):
            return [
                row.line,
                "refused",
                f"NIK ****{row.last4} sudah punya booking pada {visit.day}",
            ]
        local = now.astimezone(self.config.office.timezone)
        capacity = self.settings.capacity[svc.code]
        for slot in visit_slots(visit, self.settings.slot_minutes):
            if visit.day == local.date() and slot.start <= local.time():
                continue
            if self._per_visit_slot[(visit.id, svc.code, slot.key)] < capacity:
                booking = Booking(
                    self._fresh_code(), visit.day, slot.key, svc.code, row.nik_hash, row.last4,
                    row.name or None, row.phone or None, row.kelurahan, BookingStatus.BOOKED,
                    now, visit=visit.id,
                )  # fmt: skip
                self.put(booking)
                return [row.line, "booked", booking.code, str(visit.day), slot.key]
        return [row.line, "refused", f"slot {svc.name} di {visit.place} penuh"]

    # ---- at the kiosk -----------------------------------------------------------------

    def redeemable(
        self, code: str, today: date, now: datetime, visit: str | None = None
    ) -> tuple[Booking, Slot]:
        """The booking of `code` if it may get a ticket now, else a clear refusal.

        `visit` is a unit's open visit: its bookings are held by code hash.
        """
        code = code.strip()
        if not code_is_valid(code):
            raise QueueError("booking_mistyped", "Kode booking salah ketik. Periksa lagi angkanya.")
        b = self.by_code.get(code)
        if b is None and visit is not None:
            b = self.by_code.get(visit_code_hash(visit, code))
        if b is None:
            raise QueueError(
                "booking_unknown", "Kode booking tidak ditemukan. Periksa lagi angkanya."
            )
        if b.status is BookingStatus.REDEEMED:
            raise QueueError("booking_used", "Kode booking ini sudah dipakai.", ticket=b.ticket)
        if b.status is BookingStatus.CANCELLED:
            raise QueueError("booking_cancelled", "Booking ini sudah dibatalkan.")
        slot = self.slot(b)
        if b.visit is not None and visit is None:  # issue 13: redeemed at the visit, on the unit
            raise QueueError(
                "booking_for_visit",
                f"Kode ini untuk layanan keliling pada {day_text(b.day)}, pukul {slot.text}; "
                "tukarkan di lokasi kunjungan, bukan di kantor.",
                day=str(b.day), slot=slot.text, service=b.service, visit=b.visit,
            )  # fmt: skip
        where = {"day": str(b.day), "slot": slot.text, "service": b.service}
        if b.day != today:
            raise QueueError(
                "booking_other_day",
                f"Kode ini untuk {day_text(b.day)}, pukul {slot.text}; bukan hari ini.",
                **where,
            )
        # An expired booking's window has closed, whatever the clock says now
        # (a clock set back after the expiry): late, like any past the grace.
        late = now + timedelta(days=1) if b.status is BookingStatus.EXPIRED else now
        self._check_window(b.day, slot, late, where)
        return b, slot

    def slot(self, b: Booking) -> Slot:
        svc = self.config.service(b.service)
        hours = (svc.hours if svc else None) or self.config.office.hours
        if b.visit is not None:  # a visit's slot: from its stored start, whatever the office hours
            hours = None
        return slot_of(hours, b.day, self.settings.slot_minutes, b.slot)

    def _check_window(self, day: date, slot: Slot, now: datetime, where: dict[str, Any]) -> None:
        zone, s = self.config.office.timezone, self.settings
        start = datetime.combine(day, slot.start, zone)
        opens = start - timedelta(minutes=s.early_minutes)
        closes = start + timedelta(minutes=s.grace_minutes)
        local = now.astimezone(zone)
        if local < opens:
            raise QueueError(
                "booking_early",
                f"Jadwal Anda pukul {slot.text}. Silakan kembali mulai pukul {opens:%H.%M}.",
                come_back=f"{opens:%H:%M}",
                **where,
            )
        if local > closes:
            raise QueueError(
                "booking_late",
                f"Jadwal Anda pukul {slot.text} sudah lewat (batas pukul {closes:%H.%M}). "
                "Silakan ambil nomor antrean biasa.",
                **where,
            )

    # ---- staff ------------------------------------------------------------------------

    def find(self, code: str) -> Booking:
        """A booking by its code, or booking_unknown."""
        b = self.by_code.get(code.strip())
        if b is None:
            raise QueueError("booking_unknown", "Kode booking tidak ditemukan.")
        return b

    def named(self, name: str, kelurahan: str, limit: int) -> list[Booking]:
        """Held bookings whose name contains `name` in `kelurahan` (case and spaces aside).

        Only names not yet erased can match: bookings more than
        `erase_after_days` past their day have none.
        """
        want, where = _folded(name), _folded(kelurahan)
        found = [
            b
            for b in self.by_code.values()
            if b.name is not None and want in _folded(b.name) and _folded(b.kelurahan) == where
        ]
        return sorted(found, key=lambda b: (b.day, b.slot, b.code))[:limit]

    def to_erase(self, today: date) -> list[Booking]:
        """Bookings whose name or phone is due to go: `erase_after_days` past their day."""
        before = today - timedelta(days=self.settings.erase_after_days)
        return [
            b
            for b in self.by_code.values()
            if b.day < before and (b.name is not None or b.phone is not None)
        ]
