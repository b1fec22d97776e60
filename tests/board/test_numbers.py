"""Indonesian number words over the whole range 0-9999, and beyond where codes go."""

from __future__ import annotations

import itertools

import pytest

from display_board.voice.clips import CLIPS
from display_board.voice.numbers import DIGITS, WORDS, number_words, say_number

KNOWN = {
    0: "nol",
    1: "satu",
    7: "tujuh",
    10: "sepuluh",
    11: "sebelas",
    12: "dua belas",
    19: "sembilan belas",
    20: "dua puluh",
    21: "dua puluh satu",
    99: "sembilan puluh sembilan",
    100: "seratus",
    101: "seratus satu",
    110: "seratus sepuluh",
    111: "seratus sebelas",
    115: "seratus lima belas",
    123: "seratus dua puluh tiga",
    200: "dua ratus",
    999: "sembilan ratus sembilan puluh sembilan",
    1000: "seribu",
    1001: "seribu satu",
    1011: "seribu sebelas",
    1100: "seribu seratus",
    1999: "seribu sembilan ratus sembilan puluh sembilan",
    2005: "dua ribu lima",
    2026: "dua ribu dua puluh enam",
    4010: "empat ribu sepuluh",
    9999: "sembilan ribu sembilan ratus sembilan puluh sembilan",
    10_000: "sepuluh ribu",
    11_000: "sebelas ribu",
    100_000: "seratus ribu",
    250_312: "dua ratus lima puluh ribu tiga ratus dua belas",
}
SCALES = {"belas": 10, "puluh": 10, "ratus": 100, "ribu": 1000}
SE_WORDS = {"sepuluh": 10, "sebelas": 11, "seratus": 100, "seribu": 1000}


def parse(words: list[str]) -> int:
    """An independent reader of Indonesian number words (left to right, no tables shared)."""
    total, group, unit = 0, 0, 0
    for word in words:
        if word in DIGITS:
            assert unit == 0, f"two digits in a row in {words}"
            unit = DIGITS.index(word)
        elif word == "belas":
            group, unit = group + 10 + unit, 0
        elif word in ("puluh", "ratus"):
            group, unit = group + unit * SCALES[word], 0
        elif word == "ribu":
            total, group, unit = (group + unit) * 1000, 0, 0
        elif word == "seribu":
            total += 1000
        else:
            group += SE_WORDS[word]
    return total + group + unit


@pytest.mark.parametrize(("n", "text"), sorted(KNOWN.items()))
def test_known_values(n: int, text: str) -> None:
    assert say_number(n) == text


def test_every_number_from_0_to_9999_reads_back_and_follows_the_rules() -> None:
    for n in range(10_000):
        words = number_words(n)
        assert parse(words) == n, (n, words)
        assert set(words) <= set(WORDS), (n, words)
        # "se-" replaces "satu" before a scale word: never "satu belas/puluh/ratus/ribu".
        for a, b in itertools.pairwise(words):
            assert (a, b in SCALES) != ("satu", True), (n, words)
        # Thousands before hundreds, each at most once; "nol" only for zero itself.
        scales = [w.removeprefix("se") for w in words if w.endswith(("ribu", "ratus"))]
        assert scales in ([], ["ribu"], ["ratus"], ["ribu", "ratus"]), (n, words)
        assert ("nol" in words) == (n == 0), (n, words)


def test_the_words_are_the_clip_names() -> None:
    assert set(WORDS) <= set(CLIPS)
    assert {w for n in range(10_000) for w in number_words(n)} == set(WORDS)


@pytest.mark.parametrize("bad", [-1, 1_000_000, 2.0, True, "12"])
def test_what_cannot_be_said_is_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="whole numbers from 0"):
        number_words(bad)  # type: ignore[arg-type]
