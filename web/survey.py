"""The satisfaction survey (SKM, Permenpan RB 14/2017): nine elements scored 1-4, and the IKM.

The responses are the web's own data, in its own SQLite file beside its
users: they are the residents' answers to the office, not queue state, so
the queue service's store (one writer, on the path of every call) does not
carry them. One response per ticket (its day and code; the token is not
kept), and nothing that names the resident.

IKM: each element's mean (NRR), their weighted sum with the regulation's
equal weights (1/9), times 25; with every element answered that is the mean
of all the scores times 25. Worked in fractions and rounded half up to two
decimals, then banded.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

# (Indonesian, English), in the regulation's order U1..U9.
ELEMENTS = (
    ("Persyaratan", "Requirements"),
    ("Sistem, mekanisme, dan prosedur", "Procedure"),
    ("Waktu penyelesaian", "Completion time"),
    ("Biaya/tarif", "Cost"),
    ("Produk spesifikasi jenis pelayanan", "Service product"),
    ("Kompetensi pelaksana", "Staff competence"),
    ("Perilaku pelaksana", "Staff behaviour"),
    ("Penanganan pengaduan, saran dan masukan", "Complaint handling"),
    ("Sarana dan prasarana", "Facilities"),
)
SCALE = (
    (1, "Tidak baik", "Poor"),
    (2, "Kurang baik", "Fair"),
    (3, "Baik", "Good"),
    (4, "Sangat baik", "Very good"),
)
MAX_COMMENT = 500
# (lowest IKM of the band, letter, mutu pelayanan)
BANDS = (
    (Decimal("88.31"), "A", "Sangat baik"),
    (Decimal("76.61"), "B", "Baik"),
    (Decimal("65.00"), "C", "Kurang baik"),
    (Decimal("25.00"), "D", "Tidak baik"),
)
FIELDS = tuple(f"u{i}" for i in range(1, len(ELEMENTS) + 1))

SCHEMA = """
CREATE TABLE IF NOT EXISTS skm (
    day TEXT NOT NULL,
    code TEXT NOT NULL,
    service TEXT NOT NULL,
    at TEXT NOT NULL,
    u1 INTEGER NOT NULL, u2 INTEGER NOT NULL, u3 INTEGER NOT NULL,
    u4 INTEGER NOT NULL, u5 INTEGER NOT NULL, u6 INTEGER NOT NULL,
    u7 INTEGER NOT NULL, u8 INTEGER NOT NULL, u9 INTEGER NOT NULL,
    comment TEXT NOT NULL,
    PRIMARY KEY (day, code)
);
"""


class SurveyError(ValueError):
    """A response that cannot be kept; the message is for the resident."""


def checked_scores(form: dict[str, str]) -> tuple[int, ...]:
    """The nine scores of a posted form, or SurveyError naming what is missing."""
    scores = []
    for name, (element, _en) in zip(FIELDS, ELEMENTS, strict=True):
        raw = form.get(name, "")
        if raw not in ("1", "2", "3", "4"):
            raise SurveyError(f"Mohon beri nilai 1-4 untuk unsur \u201c{element}\u201d.")
        scores.append(int(raw))
    return tuple(scores)


def ikm_value(total: int, answers: int) -> Decimal:
    """The IKM of `answers` element scores summing to `total`: their mean times 25, two decimals."""
    exact = Fraction(total * 25, answers)
    return (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(
        Decimal("0.01"), ROUND_HALF_UP
    )


def band(ikm: Decimal) -> tuple[str, str]:
    """(letter, mutu pelayanan) of an IKM."""
    for low, letter, words in BANDS:
        if ikm >= low:
            return letter, words
    return BANDS[-1][1], BANDS[-1][2]


@dataclass(frozen=True, slots=True)
class Figure:
    """The IKM of one month (and one service, or all: service "")."""

    month: str  # "2026-11"
    service: str
    responses: int
    element_means: tuple[Decimal, ...]  # NRR per element, two decimals
    ikm: Decimal
    letter: str
    words: str


class Surveys:
    """The survey responses, in the web's own file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self.listeners: list[Callable[[], None]] = []  # called after each new response
        self.db = sqlite3.connect(str(path), check_same_thread=False, timeout=5)
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def answered(self, day: str, code: str) -> bool:
        with self._lock:
            row = self.db.execute(
                "SELECT 1 FROM skm WHERE day = ? AND code = ?", (day, code)
            ).fetchone()
        return row is not None

    def add(self, day: str, code: str, service: str, scores: tuple[int, ...], comment: str) -> bool:
        """Keeps one ticket's response; False (nothing changed) if it has one already."""
        at = datetime.now(UTC).isoformat(timespec="seconds")
        with self._lock, self.db:
            cursor = self.db.execute(
                "INSERT OR IGNORE INTO skm VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (day, code, service, at, *scores, comment),
            )
        added = cursor.rowcount == 1
        if added:
            for listener in self.listeners:
                listener()  # outside the lock: state/ikm reads the figures again
        return added

    def figures(self, only: str | None = None) -> list[Figure]:
        """Each month's IKM (or only that one's), newest first: all services, then each service."""
        sums = ", ".join(f"SUM({f})" for f in FIELDS)
        with self._lock:
            rows = self.db.execute(
                f"SELECT substr(day, 1, 7) AS month, service, COUNT(*), {sums} FROM skm"  # noqa: S608 - FIELDS are constants
                " WHERE ? IS NULL OR substr(day, 1, 7) = ?"
                " GROUP BY month, service ORDER BY month DESC, service",
                (only, only),
            ).fetchall()
        out: list[Figure] = []
        by_month: dict[str, list[tuple[int, list[int]]]] = {}
        for month, service, n, *totals in rows:
            by_month.setdefault(month, []).append((n, totals))
            out.append(_figure(month, service, n, totals))
        for month, parts in by_month.items():
            n = sum(p[0] for p in parts)
            totals = [sum(p[1][i] for p in parts) for i in range(len(FIELDS))]
            first = next(i for i, f in enumerate(out) if f.month == month)
            out.insert(first, _figure(month, "", n, totals))
        return out

    def comments(self, limit: int = 20) -> list[tuple[str, str, str]]:
        """The latest non-empty comments: (day, service, comment)."""
        with self._lock:
            rows = self.db.execute(
                "SELECT day, service, comment FROM skm WHERE comment != ''"
                " ORDER BY at DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [(str(d), str(s), str(c)) for d, s, c in rows]


def _figure(month: str, service: str, n: int, totals: list[int]) -> Figure:
    means = tuple(
        (Decimal(t) / Decimal(n)).quantize(Decimal("0.01"), ROUND_HALF_UP) for t in totals
    )
    ikm = ikm_value(sum(totals), n * len(FIELDS))
    letter, words = band(ikm)
    return Figure(month, service, n, means, ikm, letter, words)
