"""Indonesian cardinal numbers as words, the way a call is spoken: 12 -> "dua belas".

The words are also the names of the voice clips that say them (see clips.py),
so a number is spoken by playing its words one after another.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

DIGITS = ("nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan")
# Every word number_words() can return: the clip library needs one clip per word.
WORDS = (
    *DIGITS,
    "sepuluh",
    "sebelas",
    "belas",
    "puluh",
    "seratus",
    "ratus",
    "seribu",
    "ribu",
)
LARGEST = 999_999


def number_words(n: int) -> list[str]:
    """The words of n (0 to 999,999): 2005 -> ["dua", "ribu", "lima"]."""
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= LARGEST:
        raise ValueError(f"can only say whole numbers from 0 to {LARGEST}, got {n!r}")
    if n == 0:
        return ["nol"]
    return _below_million(n)


def say_number(n: int) -> str:
    """The number as one line of text: 123 -> "seratus dua puluh tiga"."""
    return " ".join(number_words(n))


def spoken_number(n: int) -> list[str]:
    """The words a call says for n: its cardinal, or past the number words its digits.

    A call must never fail to be spoken for its number: a code past 999,999 or
    a counter number from a wrong config is read digit by digit (logged).
    """
    try:
        return number_words(n)
    except ValueError:
        log.warning("cannot say %r as a number: spelling its digits", n)
        return [DIGITS[int(d)] for d in str(n) if d.isdigit()] or ["nol"]


def _below_million(n: int) -> list[str]:
    thousands, rest = divmod(n, 1000)
    words: list[str] = []
    if thousands == 1:
        words.append("seribu")  # "se-" is "one" as a prefix: seribu, not satu ribu
    elif thousands:
        words += [*_below_thousand(thousands), "ribu"]
    return words + _below_thousand(rest)


def _below_thousand(n: int) -> list[str]:
    hundreds, rest = divmod(n, 100)
    words: list[str] = []
    if hundreds == 1:
        words.append("seratus")
    elif hundreds:
        words += [DIGITS[hundreds], "ratus"]
    return words + _below_hundred(rest)


def _below_hundred(n: int) -> list[str]:
    tens, ones = divmod(n, 10)
    if n == 0:
        return []
    if n < 10:
        return [DIGITS[n]]
    if n == 10:
        return ["sepuluh"]
    if n == 11:
        return ["sebelas"]
    if tens == 1:
        return [DIGITS[ones], "belas"]
    return [DIGITS[tens], "puluh", *([DIGITS[ones]] if ones else [])]
