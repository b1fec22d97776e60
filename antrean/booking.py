"""Pre-registration (issue 12): NIK checks, keyed NIK hashes, booking codes, slots.

Pure rules with no store and no network, so the CLI (which hashes NIKs before
anything leaves its process) and the queue service (which assigns slots and
redeems codes) share them. The one file this module touches is the office
secret, the HMAC key of every NIK hash.

Personal data (UU 27/2022): a full NIK lives only in the memory of the
process that read it from the kelurahan's list. Everything else sees
`nik_key()` (HMAC-SHA256 with the office secret) and the last four digits;
messages show `masked()`. An unkeyed hash would not do: a NIK has no
checksum and about 10^11 plausible values, so SHA-256 of every one of them
is a few hours on a laptop; without the secret the HMAC cannot be tried.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from antrean.config import OpeningHours, WeeklyHours

NIK_DIGITS = 16
CODE_DIGITS = 8  # seven random digits and a Damm check digit
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


# ---- NIK -----------------------------------------------------------------------


def clean_nik(raw: str) -> str:
    """The NIK as typed in a spreadsheet: spaces and Excel's leading apostrophe removed."""
    return "".join(raw.split()).lstrip("'")


def nik_problem(nik: str) -> str | None:
    """Why `nik` cannot be a NIK (Indonesian, never quoting it), or None.

    Digits 7-8 are the day of birth (plus 40 for women), 9-10 the month.
    """
    if len(nik) != NIK_DIGITS or not (nik.isascii() and nik.isdigit()):
        return f"NIK harus {NIK_DIGITS} angka"
    day, month = int(nik[6:8]), int(nik[8:10])
    if not 1 <= month <= 12:
        return "bulan lahir di NIK (angka ke-9 dan 10) harus 01-12"
    if day > 40:
        day -= 40
    if not 1 <= day <= _MONTH_DAYS[month - 1]:
        return "tanggal lahir di NIK (angka ke-7 dan 8) harus 01-31, atau 41-71 untuk perempuan"
    return None


def masked(nik: str) -> str:
    """A NIK as messages show it: its last four digits only."""
    return "NIK ****" + nik[-4:] if len(nik) > 4 else "NIK ****"


def nik_key(secret: bytes, nik: str) -> str:
    """The NIK's keyed hash (HMAC-SHA256 with the office secret), as stored."""
    return hmac.new(secret, nik.encode("ascii"), hashlib.sha256).hexdigest()


class SecretError(RuntimeError):
    """The office secret cannot be used (unreadable, damaged, or readable by others)."""


SECRET_BYTES = 32  # HMAC-SHA256's own block of entropy; written as 64 hex digits


def office_secret(path: Path) -> bytes:
    """The office's HMAC key: read from `path`, or made there on first use (mode 0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_secret(path)
    except OSError as exc:
        raise SecretError(f"cannot create the office secret {path}: {exc.strerror}") from exc
    key = secrets.token_bytes(SECRET_BYTES)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key.hex() + "\n")
        f.flush()
        os.fsync(f.fileno())
    return key


def _read_secret(path: Path) -> bytes:
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretError(f"cannot read the office secret {path}: {exc}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SecretError(
            f"the office secret {path} is open to other users (mode {stat.filemode(mode)}); "
            f"run: chmod 600 {path}"
        )
    problem = secret_problem(text)
    if problem:
        raise SecretError(f"the office secret {path} is {problem}")
    return bytes.fromhex(text)


def secret_problem(text: str) -> str | None:
    """Why a secret file's text is no key ("empty", "damaged (...)"), or None for a good one."""
    if not text.strip():
        return "empty"
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        return "damaged (not hex digits)"
    if len(key) < SECRET_BYTES:
        return f"damaged (not {2 * SECRET_BYTES} hex digits)"
    return None


# ---- booking codes ---------------------------------------------------------------

# Damm's quasigroup of order 10: the check digit catches every single wrong
# digit and every swap of two neighbours (H. M. Damm, 2004).
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)


def damm(digits: str) -> int:
    """The Damm interim digit of `digits`: the check digit, or 0 for a valid code."""
    interim = 0
    for d in digits:
        interim = _DAMM[interim][int(d)]
    return interim


def new_code() -> str:
    """A fresh random booking code: 8 digits, the last one the check digit.

    Digits only, typed on a phone-like keypad: no letters means no O/0 or I/1
    to confuse. It never starts with 0, which spreadsheets drop.
    """
    body = str(secrets.randbelow(9 * 10 ** (CODE_DIGITS - 2)) + 10 ** (CODE_DIGITS - 2))
    return body + str(damm(body))


def code_is_valid(code: str) -> bool:
    """True when `code` has 8 digits and a matching check digit."""
    return len(code) == CODE_DIGITS and code.isascii() and code.isdigit() and damm(code) == 0


# ---- slots ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True, order=True)
class Slot:
    """One booking window of a day: [start, end), office-local."""

    start: time
    end: time

    @property
    def key(self) -> str:
        """The slot as stored: "08:00"."""
        return f"{self.start:%H:%M}"

    @property
    def text(self) -> str:
        """The slot as residents read it: "08.00-09.00"."""
        return f"{self.start:%H.%M}-{self.end:%H.%M}"


def visit_code_hash(visit: str, code: str) -> str:
    """A visit booking's code as a unit carries it (issue 13): out of sight, not a secret.

    8-digit codes can all be hashed by whoever holds the unit; that gives
    nothing personal (the unit carries no NIK, name or phone), only a place
    at that visit.
    """
    return hashlib.sha256(f"{visit}:{code}".encode()).hexdigest()


def day_slots(hours: WeeklyHours | None, day: date, minutes: int) -> list[Slot]:
    """The slots of `day`: whole slots from opening, none past closing (Friday is shorter)."""
    today: OpeningHours | None = (
        hours.get(day.weekday()) if hours is not None else OpeningHours(time(0), time(23, 59))
    )
    if today is None:
        return []
    slots, start = [], datetime.combine(day, today.opens)
    closes = datetime.combine(day, today.closes)
    step = timedelta(minutes=minutes)
    while start + step <= closes:
        slots.append(Slot(start.time(), (start + step).time()))
        start += step
    return slots


def slot_of(hours: WeeklyHours | None, day: date, minutes: int, key: str) -> Slot:
    """The slot stored as `key` ("08:00") on `day`, even if the hours changed since."""
    for s in day_slots(hours, day, minutes):
        if s.key == key:
            return s
    start = datetime.combine(day, time.fromisoformat(key))
    return Slot(start.time(), (start + timedelta(minutes=minutes)).time())


def days_from(first: date, last: date) -> Iterator[date]:
    """Every day from `first` to `last`, both included."""
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def parse_day(text: str) -> date | None:
    """A preferred day as kelurahan spreadsheets write it: 2026-11-27, 27/11/2026, 27-11-2026."""
    text = text.strip()
    for sep in ("/", "-", "."):
        parts = text.split(sep)
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            a, b, c = (int(p) for p in parts)
            try:
                return date(a, b, c) if len(parts[0]) == 4 else date(c, b, a)
            except ValueError:
                return None
    return None
