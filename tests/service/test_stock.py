"""Blank cards through the real queue service: the printing service never promises a card twice.

A real Mosquitto and queue service with the example office's printing
service (B, uses_card) counting cards. Two devices issue B tickets at once
while two counters serve them; the service must refuse the ticket that
would have no card, with "Blanko KTP-el habis", by itself, and reopen when
a delivery is recorded; the ledger survives a restart.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from antrean.config import Config
from antrean.store import StoreReader
from antrean_testing.devbroker import DevBroker
from tests.support.helpers import Office, example_config

CARDS = 12


@pytest.fixture
def config(tmp_path: Path, broker: DevBroker) -> Config:
    return example_config(tmp_path, broker.port, cards=True)


def issue_all(office: Office, device: str, tries: int, out: list[dict[str, Any]]) -> None:
    for _ in range(tries):
        out.append(office.request(device, "issue", service="B"))


def test_cards_are_never_promised_twice_under_concurrent_issues_and_completions(
    office: Office,
) -> None:
    refused = office.error("kiosk-1", "issue", service="B")  # nothing delivered yet
    assert (refused["code"], refused["message"]) == ("out_of_cards", "Blanko KTP-el habis")
    stock = office.ok("admin", "stock_receive", count=CARDS, note="SJ-001", user="Sri")["stock"]
    assert (stock["balance"], stock["available"]) == (CARDS, CARDS)

    replies: dict[str, list[dict[str, Any]]] = {"kiosk-1": [], "admin": []}
    served: list[str] = []

    def counter(device: str) -> None:
        for _ in range(4):
            result = office.ok(device, "call_next")
            if result["ticket"]:
                office.ok(device, "complete")
                served.append(result["ticket"]["code"])

    threads = [
        threading.Thread(target=issue_all, args=(office, d, 10, replies[d])) for d in replies
    ] + [threading.Thread(target=counter, args=(d,)) for d in ("counter-2", "counter-3")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    issued = [r for rs in replies.values() for r in rs if r["ok"]]
    refusals = [r for rs in replies.values() for r in rs if not r["ok"]]
    # Every card is promised once: exactly CARDS tickets, the rest refused by the stock.
    assert len(issued) == CARDS
    assert {r["error"]["message"] for r in refusals} == {"Blanko KTP-el habis"}
    stock = office.ok("admin", "snapshot")["stock"]
    assert stock["balance"] == CARDS - len(served)
    assert stock["promised"] == CARDS - len(served)
    assert (stock["available"], stock["out"], stock["warning"]) == (0, True, True)
    state = next(s for s in office.ok("admin", "snapshot")["services"] if s["code"] == "B")
    assert state["accepting"] is False
    assert state["refusal"]["message"] == "Blanko KTP-el habis"

    # A spoiled card at the counter, a correction by admin: both attributed, reasons kept.
    assert office.error("counter-2", "stock_adjust", count=1, reason="x")["code"] == "forbidden"
    assert office.error("counter-2", "stock_spoil", count=1, reason=" ")["code"] == "bad_request"
    office.ok("admin", "stock_adjust", count=3, reason="hitung ulang")
    office.ok("counter-2", "stock_spoil", count=1, reason="cetak gagal", user="Budi")
    # A delivery reopens the service by itself.
    office.ok("admin", "stock_receive", count=5, note="SJ-002")
    assert office.ok("kiosk-1", "issue", service="B")["ticket"]["service"] == "B"

    # Across a restart the ledger gives the same balance and the same promises.
    before = office.ok("admin", "snapshot")["stock"]
    office.restart()
    after = office.ok("admin", "snapshot")["stock"]
    assert (after["balance"], after["promised"]) == (before["balance"], before["promised"])
    reader = StoreReader(office.config.store_path)
    try:
        rows = reader.db.execute("SELECT kind, count, note, who FROM stock ORDER BY id").fetchall()
    finally:
        reader.close()
    used = [r for r in rows if r[0] == "used"]
    assert len(used) == len(served)
    assert {r[3] for r in used} <= {"counter-2", "counter-3"}  # who completed the ticket
    assert [r for r in rows if r[0] != "used"] == [
        ("delivery", CARDS, "SJ-001", "admin/Sri"),
        ("correction", 3, "hitung ulang", "admin"),
        ("spoiled", -1, "cetak gagal", "counter-2/Budi"),
        ("delivery", 5, "SJ-002", "admin"),
    ]
    assert after["balance"] == CARDS - len(served) + 3 - 1 + 5
