"""The resident's phone page: its token opens one ticket, wrong tokens learn nothing, it is live.

The queue service, the broker and the web are the real ones; the counter
calling the ticket is a real QueueClient of a counter device.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from antrean.tokens import TOKEN_CHARS
from tests.support.broker_world import wait_for
from tests.support.chromium import go
from tests.web.http_client import Client
from tests.web.test_pages import count_of, text_of

PHONE = (360, 740)


def issue(office, service: str = "A") -> tuple[str, str]:
    """(code, token) of a new ticket, as the kiosk receives them."""
    result = office.ok("kiosk-1", "issue", service=service)
    return result["ticket"]["code"], result["token"]


def near(token: str) -> str:
    """The token with its last character changed."""
    return token[:-1] + ("A" if token[-1] != "A" else "B")


def test_a_token_opens_its_own_ticket_and_nothing_else(web_office) -> None:
    office, web = web_office
    first, token1 = issue(office)
    second, token2 = issue(office)
    client = Client(web.url)
    status, headers, body = client.get(f"/t/{token2}")
    assert status == 200
    assert second in body
    assert first not in body
    assert "1</b> orang di depan Anda" in body
    assert "Perekaman KTP-el" in body
    assert headers["cache-control"] == "no-store"
    assert "set-cookie" not in headers  # no session for residents
    # A few kilobytes, the page and everything it loads.
    assets = [client.get(path)[2] for path in ("/static/phone.css", "/static/phone.js")]
    sizes = [len(body.encode()), *(len(a.encode()) for a in assets)]
    assert sum(sizes) < 6_000, sizes
    status, _h, body1 = client.get(f"/t/{token1}")
    assert status == 200
    assert first in body1
    assert second not in body1


def test_wrong_tokens_get_one_and_the_same_404_and_cannot_be_tried_for_long(web_office) -> None:
    office, web = web_office
    _code, token = issue(office)
    web.app.phone.misses.limit = 1000  # this test tries more than an address may
    client = Client(web.url)
    wrong = {
        "near": near(token),  # one character off a real one
        "random": "x" * TOKEN_CHARS,
        "short": token[:-1],
        "ticket id": "2026-11-26%2FA001",
        "lower": token.lower() if token.lower() != token else token.upper(),
    }
    answers = {name: client.get(f"/t/{t}") for name, t in wrong.items()}
    assert {a[0] for a in answers.values()} == {404}
    assert len({a[2] for a in answers.values()}) == 1, "a 404 body differs with the token"
    assert len({len(a[2]) for a in answers.values()}) == 1
    # Time: a token one character off a real one takes as long as a made-up one.
    times: dict[str, list[float]] = {"near": [], "random": []}
    for _ in range(25):
        for name, taken in times.items():
            start = time.perf_counter()
            assert client.get(f"/t/{wrong[name]}")[0] == 404
            taken.append(time.perf_counter() - start)
    near_ms, random_ms = (statistics.median(times[n]) * 1000 for n in ("near", "random"))
    assert abs(near_ms - random_ms) < max(3.0, 0.5 * random_ms), (near_ms, random_ms)

    # An address that keeps trying is answered without asking the queue service.
    web.app.phone.misses.limit = 20
    asked = web.app.phone.tickets.requests
    for i in range(30):
        assert client.get(f"/t/{'y' * (TOKEN_CHARS - 2)}{i:02d}")[0] == 404
    assert web.app.phone.tickets.requests - asked <= 20
    assert client.get(f"/t/{token}")[0] == 404  # even its own ticket, for a while


def test_the_page_changes_live_when_a_counter_calls_it(web_office, chromium, tmp_path: Path):
    office, web = web_office
    driver = chromium
    other, other_token = issue(office)
    code, token = issue(office)
    # Records vibrations (the page's own script stays under its CSP).
    driver.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument",
        {"source": "window.buzz=[];navigator.vibrate=function(p){buzz.push(p);return true;};"},
    )
    driver.set_window_size(*PHONE)
    go(driver, f"{web.url}/t/{token}")
    assert code in text_of(driver, ".number")
    assert "1 orang di depan Anda" in text_of(driver, ".tiket")
    office.ok("counter-1", "call_next")  # calls the other ticket first
    wait_for(lambda: "0 orang di depan Anda" in text_of(driver, ".tiket"), 10, "ahead 0")
    assert other not in text_of(driver, "#tiket")
    office.ok("counter-1", "call_next")  # now this one, at Loket 1
    wait_for(lambda: count_of(driver, ".call") == 1, 10, "the call on the phone")
    shown = text_of(driver, ".call")
    assert "Nomor Anda dipanggil — silakan ke Loket 1" in shown
    assert "Your number is called — please go to Loket 1" in shown
    assert driver.title == f"DIPANGGIL {code} — Loket 1"
    assert driver.execute_script("return window.buzz.length") == 1
    office.ok("counter-1", "recall")  # a recall buzzes again
    wait_for(lambda: driver.execute_script("return window.buzz.length") == 2, 10, "recall")
    office.ok("counter-1", "complete")
    wait_for(lambda: "Pelayanan selesai" in text_of(driver, ".tiket"), 10, "served")
    assert other_token not in driver.page_source


def test_a_skipped_ticket_says_to_ask_the_staff(web_office) -> None:
    office, web = web_office
    _code, token = issue(office)
    office.ok("counter-1", "call_next")
    office.ok("counter-1", "no_show")
    body = Client(web.url).get(f"/t/{token}")[2]
    assert "Nomor Anda terlewat" in body
