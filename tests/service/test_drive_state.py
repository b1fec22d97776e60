"""state/drive (issue 16): the office tells the centre its drive, as its own report counts it.

A real Mosquitto and queue service with the example office's drive; some
recordings for a kelurahan chosen on the console, some with none, a target
changed. The retained state/drive must say what the office's own figures
(antrean_tools.figures.progress_figures over its store) say.
"""

from __future__ import annotations

import sqlite3

from antrean import protocol
from antrean_tools.figures import progress_figures
from tests.support.helpers import FakeClock, Office
from tests.support.mqtt_watch import Watcher


def serve(office: Office, kelurahan: str | None) -> None:
    office.ok("kiosk-1", "issue", service="A")
    office.ok("counter-1", "call_next")
    args = {"kelurahan": kelurahan} if kelurahan else {}
    office.ok("counter-1", "complete", **args)


def test_state_drive_carries_the_targets_and_recordings_of_the_office_report(
    office: Office, clock: FakeClock
) -> None:
    topic = protocol.state_topic(office.config.office.id, "drive")
    watch = Watcher(office.config.broker, topic).start()
    try:
        first = watch.wait_for(lambda _t, p: p["recorded"] == 0)[1]
        assert first["kelurahan"]["Petompon"] == {"target": 345, "recorded": 0, "week": 0,
                                                 "today": 0}  # fmt: skip
        for kelurahan in ("Petompon", "Petompon", "Sampangan", None):
            serve(office, kelurahan)
            clock.advance(seconds=60)
        office.ok("admin", "drive_target", kelurahan="Sampangan", target=400)
        drive = watch.wait_for(lambda _t, p: p["kelurahan"]["Sampangan"]["target"] == 400)[1]
    finally:
        watch.stop()
    assert office.runner is not None
    day = office.runner.service.engine.day
    db = sqlite3.connect(f"{office.config.store_path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        report = progress_figures(db, day, day, office.config.drive)
    finally:
        db.close()
    assert drive["day"] == str(day)
    assert drive["start"] == "2026-11-01"
    assert drive["recording_services"] == ["A"]
    assert drive["target"] == report["kecamatan"]["target"] == 2590 - 390 + 400
    assert drive["recorded"] == report["kecamatan"]["since_start"] == 4
    assert (drive["week"], drive["today"]) == (4, 4)
    for name, row in report["kelurahan"].items():
        mine = drive["kelurahan"]["" if name == "unknown" else name]
        assert (mine["target"], mine["recorded"]) == (row["target"], row["since_start"]), name
    assert drive["kelurahan"][""]["recorded"] == 1  # no kelurahan chosen: unknown


def test_calls_that_record_nothing_do_not_count_the_drive_again(office: Office) -> None:
    """state/drive is a query over every recording of the drive: only when a count moved."""
    topic = protocol.state_topic(office.config.office.id, "drive")
    watch = Watcher(office.config.broker, topic).start()
    try:
        watch.wait_for(lambda _t, _p: True)  # the retained one
        for _ in range(3):  # service C records nothing: issued, called, served
            office.ok("kiosk-1", "issue", service="C")
            office.ok("counter-4", "call_next")
            office.ok("counter-4", "complete")
        serve(office, "Petompon")  # a recording: counted and published again
        watch.wait_for(lambda _t, p: p["recorded"] == 1)
    finally:
        watch.stop()
    assert len(watch.messages) == 2, [p["recorded"] for _t, p in watch.messages]
