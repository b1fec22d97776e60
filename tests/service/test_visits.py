"""Visits of the mobile unit through the real queue service (issue 13).

At the office: visit_plan and visit_cancel (admin), the retained schedule on
state/visits, and the board's running text made from it when staff set none.
On a unit ([unit] with a prefix): codes carry the prefix, a visit opens by
command or by itself at its planned time, every ticket and call is tagged
with it in the unit's store with an outbox item each, and a clock behind the
last recorded time is refused with how to fix it.
"""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from antrean import protocol
from antrean.config import Config, parse_config
from antrean_testing.devbroker import DevBroker
from tests.support.helpers import FakeClock, Office, example_text
from tests.support.mqtt_watch import Watcher

RUNNING_TEXT = 'running_text = "Perekaman KTP-el keliling: Kelurahan Bendan Ngisor, Sabtu'
MELATI = {
    "unit": "keliling-1", "day": "2026-12-05", "start": "08:00", "end": "12:00",
    "place": "Melati", "kind": "posyandu", "kelurahan": "Bendan Ngisor", "expected": 40,
    "organiser": "Bu Sri (kader), 0812-000",
}  # fmt: skip
EXPECTED_TEXT = (
    "Perekaman KTP-el keliling: Posyandu Melati, Kelurahan Bendan Ngisor, "
    "Sabtu 5 Desember, 08.00\u201312.00. Bawa fotokopi Kartu Keluarga."
)
MOBILE = '\n[mobile]\nunits = { "keliling-1" = "K", "keliling-2" = "L" }\n'
UNIT = '\n[unit]\nid = "keliling-1"\nprefix = "K"\n'


def office_text(port: int, extra: str) -> str:
    """The example office without staff's running text, with the given sections added."""
    text = example_text(port, hours=False)
    line = next(x for x in text.splitlines() if x.startswith(RUNNING_TEXT))
    return text.replace(line, 'running_text = ""') + extra


@pytest.fixture
def config(tmp_path: Path, broker: DevBroker) -> Config:
    return parse_config(office_text(broker.port, MOBILE), "office.toml", tmp_path)


def retained(config: Config, *parts: str, timeout: float = 5) -> dict[str, Any]:
    """A retained state topic as a board that connects now receives it."""
    topic = protocol.state_topic(config.office.id, *parts)
    w = Watcher(config.broker, topic).start()
    try:
        return w.wait_for(lambda t, _p: t == topic, timeout)[1]
    finally:
        w.stop()


def test_the_office_plans_visits_and_the_board_announces_them(office: Office) -> None:
    planned = office.ok("admin", "visit_plan", **MELATI)["visit"]
    assert (planned["id"], planned["status"]) == ("2026-12-05-melati", "planned")
    assert planned["place_name"] == "Posyandu Melati"
    # Retained: a board or kiosk that starts later gets the schedule and the text.
    visits = retained(office.config, "visits")
    assert [v["id"] for v in visits["visits"]] == ["2026-12-05-melati"]
    assert visits["running_text"] == EXPECTED_TEXT
    # Staff set no running text, so the board scrolls the schedule.
    assert retained(office.config, "office")["running_text"] == EXPECTED_TEXT
    office.ok("admin", "set_running_text", text="Loket 3 tutup hari ini.")
    assert retained(office.config, "office")["running_text"] == "Loket 3 tutup hari ini."
    office.ok("admin", "set_running_text", text="")

    refused = office.error("admin", "visit_plan", **{**MELATI, "unit": "keliling-9"})
    assert refused["code"] == "bad_request"
    assert "keliling-9" in refused["message"]
    assert office.error("kiosk-1", "visit_plan", **MELATI)["code"] == "forbidden"
    office.ok("admin", "visit_cancel", id="2026-12-05-melati")
    assert retained(office.config, "visits")["visits"] == []
    assert retained(office.config, "office")["running_text"] == ""
    # The plan survives a restart of the service (the store keeps it).
    office.ok("admin", "visit_plan", **{**MELATI, "id": "melati-2", "day": "2026-12-12"})
    office.restart()
    assert [v["id"] for v in office.ok("admin", "snapshot")["visits"]["visits"]] == ["melati-2"]


@pytest.fixture
def unit_config(tmp_path: Path, broker: DevBroker) -> Config:
    return parse_config(office_text(broker.port, UNIT), "unit.toml", tmp_path)


def stored(config: Config, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(config.store_path) as db:
        return db.execute(sql).fetchall()


def test_a_unit_tags_its_visit_prefixes_its_codes_and_refuses_a_clock_set_back(
    unit_config: Config, clock: FakeClock
) -> None:
    unit = Office(unit_config, clock).start()
    try:
        day = clock().date().isoformat()
        plan = {**MELATI, "day": day, "start": "10:00", "end": "14:00", "id": "posyandu-melati"}
        unit.ok("admin", "visit_plan", **plan)
        # Before the visit (09.00, it starts at 10.00): untagged, with the prefix; staff
        # open it early by hand.
        first = unit.ok("kiosk-1", "issue", service="A")["ticket"]
        assert first["code"] == "KA001"
        unit.ok("counter-1", "visit_open", id="posyandu-melati")
        assert unit.error("counter-1", "visit_open", id="posyandu-melati")["code"] == (
            "invalid_state"
        )
        second = unit.ok("kiosk-1", "issue", service="A")["ticket"]
        assert second["code"] == "KA002"
        unit.ok("counter-1", "call_ticket", code="KA002")
        clock.advance(minutes=12)
        unit.ok("counter-1", "complete")

        # A clock set back an hour (a Pi without its RTC battery): no number.
        clock.advance(hours=-1)
        behind = unit.error("kiosk-1", "issue", service="A")
        assert behind["code"] == "clock_behind"
        assert "Setel jam unit" in behind["message"]
        assert "sudo date -s" in behind["message"]
        clock.advance(hours=1)
        assert unit.ok("kiosk-1", "issue", service="A")["ticket"]["code"] == "KA003"
        # ... and the floor survives a restart (it is in the store).
        unit.restart()
        clock.advance(hours=-1)
        assert unit.error("kiosk-1", "issue", service="A")["code"] == "clock_behind"
        clock.advance(hours=1)
    finally:
        unit.close()
    rows = stored(unit_config, "SELECT code, visit FROM tickets ORDER BY ord")
    assert rows == [("KA001", None), ("KA002", "posyandu-melati"), ("KA003", "posyandu-melati")]
    calls = stored(unit_config, "SELECT ticket, kind, visit FROM calls")
    assert calls == [(f"{day}/KA002", "call", "posyandu-melati")]
    progress = stored(unit_config, "SELECT ticket, kelurahan, source FROM progress")
    assert progress == [(f"{day}/KA002", "Bendan Ngisor", "visit")]
    outbox = stored(unit_config, "SELECT seq, kind, body FROM outbox ORDER BY seq")
    assert [s for s, _k, _b in outbox] == list(range(1, len(outbox) + 1))
    kinds = [k for _s, k, _b in outbox]
    assert kinds == ["visit", "ticket", "ticket", "call", "ticket", "progress", "ticket"]
    assert json.loads(outbox[-1][2])["code"] == "KA003"


def test_a_unit_opens_its_visit_by_itself_at_the_planned_time(
    unit_config: Config, clock: FakeClock
) -> None:
    unit = Office(unit_config, clock).start()
    try:
        local = clock().astimezone(unit_config.office.timezone)
        start = (local + timedelta(minutes=30)).strftime("%H:%M")
        end = (local + timedelta(hours=3)).strftime("%H:%M")
        when = {"day": str(local.date()), "start": start, "end": end}
        unit.ok("admin", "visit_plan", **{**MELATI, **when, "id": "pkk-mawar", "kind": "pkk"})
        assert unit.ok("kiosk-1", "issue", service="A")["ticket"]["code"] == "KA001"
        clock.advance(minutes=31)
        end = time.monotonic() + 5  # the service looks at the clock every quarter second
        while unit.ok("admin", "snapshot")["visits"]["open"] is None:
            assert time.monotonic() < end, "the visit did not open at its time"
            time.sleep(0.05)
        assert retained(unit_config, "visits")["open"] == "pkk-mawar"
        unit.ok("kiosk-1", "issue", service="A")
    finally:
        unit.close()
    rows = stored(unit_config, "SELECT code, visit FROM tickets ORDER BY ord")
    assert rows == [("KA001", None), ("KA002", "pkk-mawar")]
