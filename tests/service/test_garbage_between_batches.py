"""The worker runs the interpreter's due collection between batches, not in the middle of one."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from antrean.service import _collect_garbage_due


@pytest.fixture
def generations() -> Iterator[list[int]]:
    """The generation of each collection from here on (automatic ones too)."""
    seen: list[int] = []

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            seen.append(info["generation"])

    old = gc.get_threshold()
    gc.collect()
    gc.set_threshold(400, 10, 10)
    gc.callbacks.append(callback)
    try:
        yield seen
    finally:
        gc.callbacks.remove(callback)
        gc.set_threshold(*old)
        gc.unfreeze()


def test_a_young_collection_runs_once_half_due_and_not_before(generations: list[int]) -> None:
    kept = [[n] for n in range(150)]  # under half the threshold of new containers
    _collect_garbage_due()
    assert generations == []
    kept += [[n] for n in range(150)]
    _collect_garbage_due()
    assert generations == [0]
    assert gc.get_count()[0] < 50  # the interpreter's own count starts again
    assert len(kept) == 300


def test_the_older_generations_follow_the_interpreters_counts(generations: list[int]) -> None:
    for _ in range(9):  # nine young collections: the middle one is due next
        gc.collect(0)
    generations.clear()
    kept = [[n] for n in range(300)]
    _collect_garbage_due()
    assert generations == [1]
    # The full collection only where the start-up heap is frozen (antrean queue):
    # elsewhere the interpreter's own rule (a quarter more heap) decides it.
    for frozen, expected in ((False, [1]), (True, [2])):
        if frozen:
            gc.freeze()  # (it starts the counts again)
        for _ in range(9):
            for _ in range(9):
                gc.collect(0)
            gc.collect(1)
        for _ in range(9):  # the full collection is due next, after the middle one
            gc.collect(0)
        generations.clear()
        kept += [[n] for n in range(300)]
        _collect_garbage_due()
        assert generations == expected
    assert len(kept) == 900
