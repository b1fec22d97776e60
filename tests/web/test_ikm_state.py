"""state/ikm (issue 16): the office web tells the centre its month's IKM, and nothing personal.

The real web, queue service and broker: tickets issued, served and rated on
the phone page's form over HTTP with their real tokens; the retained
state/ikm must carry the IKM the test works out itself from the answers
(the mean of the nine element means x 25, banded per Permenpan RB 14/2017),
overall and per service, and its shape must be the one docs/protocol.md shows.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from antrean import protocol
from tests.protocol.test_protocol_examples import examples, shape_mismatch
from tests.support.helpers import Office
from tests.support.mqtt_watch import Watcher
from tests.web.conftest import WebServer
from tests.web.http_client import Client

# (service, the nine scores, a comment that must never leave the office)
ANSWERS = [
    ("A", [4, 4, 3, 4, 4, 3, 4, 4, 4], "Petugas ramah, Bu Sri"),
    ("A", [3, 3, 3, 2, 3, 3, 3, 3, 2], ""),
    ("C", [2, 3, 2, 2, 3, 2, 2, 1, 2], "NIK 3374012345678901 belum jadi"),
    ("A", [4, 4, 4, 4, 4, 4, 4, 4, 3], ""),
]


def expected(rows: list[list[int]]) -> tuple[float, str]:
    """IKM and band, from the regulation's words (not web.survey)."""
    means = [Fraction(sum(r[e] for r in rows), len(rows)) for e in range(9)]
    exact = sum(means) / 9 * 25
    ikm = (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(
        Decimal("0.01"), ROUND_HALF_UP
    )
    bands = (("88.31", "A"), ("76.61", "B"), ("65.00", "C"), ("25.00", "D"))
    letter = next(b for low, b in bands if ikm >= Decimal(low))
    return float(ikm), letter


def rated(office: Office, web: WebServer, service: str, scores: list[int], comment: str) -> None:
    """A ticket issued, served at a counter and rated on its phone page."""
    token = office.ok("kiosk-1", "issue", service=service)["token"]
    counter = "counter-1" if service == "A" else "counter-4"
    office.ok(counter, "call_next")
    office.ok(counter, "complete")
    form = {f"u{i}": str(v) for i, v in enumerate(scores, 1)} | {"komentar": comment}
    status, _h, _page = Client(web.url).post(f"/t/{token}/survei", form)
    assert status == 303


def retained(office: Office) -> dict[str, Any]:
    """What a newcomer (the bridge, after a reconnect) gets from the broker."""
    topic = protocol.state_topic(office.config.office.id, "ikm")
    w = Watcher(office.config.broker, topic, name="newcomer").start()
    try:
        return w.wait_for(lambda _t, _p: True)[1]
    finally:
        w.stop()


def test_state_ikm_is_the_month_so_far_from_the_phone_surveys(web_office) -> None:
    office, web = web_office
    topic = protocol.state_topic(office.config.office.id, "ikm")
    watch = Watcher(office.config.broker, topic).start()
    try:
        first = watch.wait_for(lambda _t, p: p["month"] == "2026-11")[1]
        assert first == {"month": "2026-11", "responses": 0, "ikm": None, "band": None,
                         "services": {}}  # fmt: skip
        for service, scores, comment in ANSWERS:
            rated(office, web, service, scores, comment)
        last = watch.wait_for(lambda _t, p: p["responses"] == len(ANSWERS))[1]
        raw = json.dumps(watch.messages)
    finally:
        watch.stop()
    assert retained(office) == last
    ikm, letter = expected([s for _v, s, _c in ANSWERS])
    assert (last["ikm"], last["band"]) == (ikm, letter)
    for code in ("A", "C"):
        rows = [s for v, s, _c in ANSWERS if v == code]
        ikm, letter = expected(rows)
        assert last["services"][code] == {"responses": len(rows), "ikm": ikm, "band": letter}
    assert set(last) == {"month", "responses", "ikm", "band", "services"}
    for said in ("Sri", "3374", "belum jadi", "A00", "C00"):  # no comment, no ticket
        assert said not in raw
    [doc] = [d for heading, d in examples() if heading == "IKM state"]
    assert shape_mismatch(doc, last) is None


def test_state_ikm_starts_again_at_the_month_change(web_office) -> None:
    office, web = web_office
    rated(office, web, "A", [4] * 9, "")
    assert retained(office)["responses"] == 1
    topic = protocol.state_topic(office.config.office.id, "ikm")
    watch = Watcher(office.config.broker, topic).start()
    try:
        office.clock.advance(days=5)  # 26 November -> 1 December
        december = watch.wait_for(lambda _t, p: p["month"] == "2026-12", timeout=10)[1]
    finally:
        watch.stop()
    assert december == {"month": "2026-12", "responses": 0, "ikm": None, "band": None,
                        "services": {}}  # fmt: skip
    assert retained(office) == december
