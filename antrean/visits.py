"""Visits of the mobile unit (issue 13): the plan, its checks and the board's running text.

A visit is planned at the office (visit_plan) and kept in the store of the
office and of the unit that goes. On the day the unit opens it (visit_open,
or by itself at the planned time) and every ticket it issues carries the
visit's id. No I/O here: the engine calls these rules.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from antrean.domain import QueueError, iso_time
from antrean.words import DAYS_ID, MONTHS_ID

DEFAULT_SERVICES = ("Perekaman KTP-el",)
EN_DASH = "\u2013"  # between the hours, an en dash as in "08.00-12.00" in print
DEFAULT_BRING = "Bawa fotokopi Kartu Keluarga."
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class VisitKind(enum.StrEnum):
    """Where the unit goes; the label starts the place's name on the board."""

    POSYANDU = "posyandu"
    PKK = "pkk"
    PENGAJIAN = "pengajian"
    RT_RW = "rt_rw"
    BALAI_DESA = "balai_desa"
    SCHOOL = "school"
    OTHER = "other"


KIND_LABEL = {
    VisitKind.POSYANDU: "Posyandu",
    VisitKind.PKK: "Pertemuan PKK",
    VisitKind.PENGAJIAN: "Pengajian",
    VisitKind.RT_RW: "Pertemuan RT/RW",
    VisitKind.BALAI_DESA: "Balai Desa",
    VisitKind.SCHOOL: "Sekolah",
    VisitKind.OTHER: "",
}


class VisitStatus(enum.StrEnum):
    PLANNED = "planned"
    OPEN = "open"  # the unit is numbering for it now
    CLOSED = "closed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Visit:
    """One planned trip of a unit to one place on one day."""

    id: str
    unit: str
    day: date
    start: str  # "08:00", office-local
    end: str
    place: str
    kind: VisitKind
    kelurahan: str
    desa: bool = False  # a desa (village) rather than a kelurahan
    services: tuple[str, ...] = DEFAULT_SERVICES
    organiser: str = ""  # who to contact there (a kader, the RT head)
    expected: int = 0  # residents expected
    bring: str = DEFAULT_BRING
    status: VisitStatus = VisitStatus.PLANNED
    opened_at: datetime | None = None
    closed_at: datetime | None = None

    def replace(self, **changes: Any) -> Visit:
        return dataclasses.replace(self, **changes)

    @property
    def place_name(self) -> str:
        """ "Posyandu Melati": the kind's label before the name, unless the name has it."""
        label = KIND_LABEL[self.kind]
        if not label or self.place.lower().startswith(label.lower()):
            return self.place
        return f"{label} {self.place}"

    def hours(self) -> tuple[time, time]:
        return time.fromisoformat(self.start), time.fromisoformat(self.end)

    def as_dict(self) -> dict[str, Any]:
        """The visit as state/visits and the store's JSON carry it."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out.update(
            day=self.day.isoformat(),
            kind=self.kind.value,
            status=self.status.value,
            services=list(self.services),
            opened_at=iso_time(self.opened_at),
            closed_at=iso_time(self.closed_at),
            place_name=self.place_name,
        )
        return out


def visit_from_dict(d: dict[str, Any]) -> Visit:
    """The inverse of Visit.as_dict (the store keeps visits as this JSON)."""
    fields = {f.name for f in dataclasses.fields(Visit)}
    v = {k: d[k] for k in fields if k in d}
    v.update(
        day=date.fromisoformat(d["day"]),
        kind=VisitKind(d["kind"]),
        status=VisitStatus(d.get("status", "planned")),
        services=tuple(d.get("services", DEFAULT_SERVICES)),
        opened_at=datetime.fromisoformat(d["opened_at"]) if d.get("opened_at") else None,
        closed_at=datetime.fromisoformat(d["closed_at"]) if d.get("closed_at") else None,
    )
    return Visit(**v)


def checked_visit(
    units: Iterable[str],
    unit: str,
    day: str,
    start: str,
    end: str,
    place: str,
    kind: str,
    kelurahan: str,
    id: str | None = None,
    desa: bool = False,
    services: list[Any] | None = None,
    organiser: str = "",
    expected: int = 0,
    bring: str | None = None,
) -> Visit:
    """A new or changed visit from visit_plan's args, or a QueueError naming the bad one."""
    try:
        when = date.fromisoformat(day)
    except ValueError:
        raise _bad(f"Tanggal {day!r} bukan YYYY-MM-DD.") from None
    if not _CLOCK.match(start) or not _CLOCK.match(end) or start >= end:
        raise _bad(f"Jam {start}-{end}: tulis HH:MM, mulai sebelum selesai.")
    try:
        visit_kind = VisitKind(kind)
    except ValueError:
        raise _bad(f"Jenis {kind!r}: pilih {', '.join(k.value for k in VisitKind)}.") from None
    if not place.strip() or not kelurahan.strip():
        raise _bad("Tempat (place) dan kelurahan wajib diisi.")
    if unit not in set(units):
        raise _bad(f"Unit {unit!r} tidak terdaftar di [mobile] units kantor ini.")
    names = tuple(str(s).strip() for s in (services or DEFAULT_SERVICES))
    if not names or not all(names):
        raise _bad("Layanan (services): daftar nama layanan, tidak kosong.")
    if not 0 <= expected <= 10_000:
        raise _bad("Perkiraan warga (expected): 0 sampai 10000.")
    visit_id = id or f"{when.isoformat()}-{_slug(place)}"
    if not _ID.match(visit_id):
        raise _bad(f"Id kunjungan {visit_id!r}: huruf kecil, angka dan '-'.")
    return Visit(
        visit_id, unit, when, start, end, place.strip(), visit_kind, kelurahan.strip(), desa,
        names, organiser.strip(), expected, DEFAULT_BRING if bring is None else bring.strip(),
    )  # fmt: skip


def coming(visits: Iterable[Visit], today: date) -> list[Visit]:
    """Visits still to happen or happening, soonest first (state/visits)."""
    live = (VisitStatus.PLANNED, VisitStatus.OPEN)
    return sorted(
        (v for v in visits if v.day >= today and v.status in live), key=lambda v: (v.day, v.start)
    )


def hari_tanggal(day: date) -> str:
    """ "Sabtu 5 Desember"."""
    return f"{DAYS_ID[day.weekday()]} {day.day} {MONTHS_ID[day.month - 1]}"


def area(v: Visit) -> str:
    """ "Kelurahan Bendan Ngisor" or "Desa Sumberejo"."""
    return f"{'Desa' if v.desa else 'Kelurahan'} {v.kelurahan}"


def hours_text(v: Visit) -> str:
    """ "08.00", an en dash, "12.00": the hours as Indonesian writes them."""
    return f"{v.start.replace(':', '.')}{EN_DASH}{v.end.replace(':', '.')}"


def announcement(v: Visit) -> str:
    """One visit as the board scrolls it, in Bahasa Indonesia."""
    text = (
        f"{', '.join(v.services)} keliling: {v.place_name}, {area(v)}, "
        f"{hari_tanggal(v.day)}, {hours_text(v)}."
    )
    return f"{text} {v.bring}".strip()


MAX_ANNOUNCED = 3  # a running text longer than three visits scrolls for minutes


def running_text(visits: Iterable[Visit], today: date) -> str:
    """The board's running text from the coming visits ("" when none is planned)."""
    return "   •   ".join(announcement(v) for v in coming(visits, today)[:MAX_ANNOUNCED])


def due(visits: Iterable[Visit], unit: str, now_local: datetime) -> Visit | None:
    """The unit's planned visit whose hours contain now: it opens by itself."""
    for v in visits:
        if v.unit != unit or v.status is not VisitStatus.PLANNED or v.day != now_local.date():
            continue
        opens, closes = v.hours()
        if opens <= now_local.time().replace(tzinfo=None) < closes:
            return v
    return None


# What visit_plan carries: the fields a unit takes from the office's schedule.
PLAN_FIELDS = (
    "unit", "day", "start", "end", "place", "kind", "kelurahan", "id", "desa", "services",
    "organiser", "expected", "bring",
)  # fmt: skip


def follow_plan(
    schedule: dict[str, Any], local: Iterable[Visit], unit: str
) -> list[tuple[str, dict[str, Any]]]:
    """The commands that make a unit's planned visits the office's (`schedule`: state/visits).

    Only what differs: a visit the office plans for `unit` that the unit
    lacks or holds with other fields is planned (visit_plan); one the unit
    holds as planned, of the schedule's day or later, that the office no
    longer lists is cancelled. A visit the unit has opened or closed is its
    own from then on: nothing here touches it. An empty list: in step.
    """
    mine = {v["id"]: v for v in schedule.get("visits", []) if v.get("unit") == unit}
    held = {v.id: v for v in local}
    out: list[tuple[str, dict[str, Any]]] = []
    for visit_id, v in mine.items():
        args = {k: v[k] for k in PLAN_FIELDS if k in v}
        have = held.get(visit_id)
        if v.get("status") != VisitStatus.PLANNED.value:
            continue
        if have is None or (
            have.status is VisitStatus.PLANNED and {k: have.as_dict()[k] for k in args} != args
        ):
            out.append(("visit_plan", args))
    since = date.fromisoformat(schedule["day"])
    for visit_id, have in held.items():
        if have.status is VisitStatus.PLANNED and have.day >= since and visit_id not in mine:
            out.append(("visit_cancel", {"id": visit_id}))
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "kunjungan"


def _bad(message: str) -> QueueError:
    return QueueError("bad_request", message)
