"""The /audit page's rows: the web's own audit and the queue store's, merged by time for one day.

Two records exist on purpose. The web's (web/users.py) has every try, refused
ones too, with the command id; the store's (migration 8) has what the queue
service committed, whoever sent it: the web, the admin tools' `--user`, a
counter. A person asking "who closed B this morning?" wants both in one list,
so each row says who, what, from which device and in which record. The store
is read through StoreReader (mode=ro): the queue service stays its one writer.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from antrean.config import Config
from antrean.hours import business_day
from antrean.store import StoreReader
from web.users import Users

WEB_RECORD = "web"
STORE_RECORD = "layanan antrean"
STORE_SQL = "SELECT at, who, action, subject FROM audit WHERE day = ? ORDER BY id DESC LIMIT ?"


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One row of /audit, from either record."""

    at: datetime  # aware
    user: str  # the staff's name, "-" when the device sent none
    device: str  # where it came from: the web, the admin tools, a counter
    action: str
    detail: str
    command: str  # the web's command id ("" in the store's record)
    outcome: str
    record: str  # WEB_RECORD or STORE_RECORD


class DayError(ValueError):
    """A `?hari=` that is not a date (the message is in Indonesian)."""


def asked_day(config: Config, text: str | None) -> date:
    """The day of `?hari=` (default: today, office time)."""
    if not text or not text.strip():
        return business_day(datetime.now(UTC), config.office.timezone)
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise DayError(f"Hari {text!r} bukan tanggal TTTT-BB-HH (mis. 2026-11-26).") from None


def _split_who(who: str) -> tuple[str, str]:
    """(device, user) of the store's `who` ("web/sri", "admin/budi", "admin")."""
    device, _slash, user = who.partition("/")
    return device, user or "-"


def store_rows(config: Config, day: date, limit: int) -> list[AuditRow] | None:
    """The store's audit of one business day; None when there is no store to read yet."""
    with contextlib.suppress(FileNotFoundError, RuntimeError):
        reader = StoreReader(config.store_path)
        try:
            found = reader.db.execute(STORE_SQL, (str(day), limit)).fetchall()
        finally:
            reader.close()
        out = []
        for at, who, action, subject in found:
            device, user = _split_who(str(who))
            when = datetime.fromisoformat(str(at))
            out.append(AuditRow(when, user, device, action, subject, "", "ok", STORE_RECORD))
        return out
    return None


def web_rows(config: Config, users: Users, device: str, day: date, limit: int) -> list[AuditRow]:
    """The web's audit of one office-local day."""
    zone = config.office.timezone
    start = datetime.combine(day, time(0), zone).astimezone(UTC)
    end = start + timedelta(days=1)  # Indonesia keeps no summer time: a day is 24 h
    rows = users.audit_between(start, end, limit)
    return [
        AuditRow(datetime.fromisoformat(at), user, device, action, detail, cmd, outcome, WEB_RECORD)
        for at, user, action, detail, cmd, outcome in rows
    ]


def merged(
    config: Config, users: Users, device: str, day: date, limit: int
) -> tuple[list[AuditRow], bool]:
    """Both records of one day, newest first, and whether the store could be read."""
    store = store_rows(config, day, limit)
    rows = web_rows(config, users, device, day, limit) + (store or [])
    rows.sort(key=lambda r: r.at, reverse=True)
    return rows, store is not None
