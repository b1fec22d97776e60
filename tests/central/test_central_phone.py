"""The resident's phone page served by the central web, from what the bridge brought.

A real office bridged to a real central Mosquitto, the real central service
writing into a private PostgreSQL, the central web over it, and headless
Chromium at a phone's size: the token the office gave the kiosk opens the page
at the centre, the page changes by itself when a counter calls the ticket, a
token one character off is the phone page's 404, and the centre's database
holds the token's hash, never the token.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from antrean.tokens import token_hash
from antrean_testing.devpostgres import DevPostgres
from tests.central.test_central_e2e import BridgedOffice, Central, central_events, open_world
from tests.central.test_central_web import SHOTS, serve
from tests.support.broker_world import wait_for
from tests.support.chromium import go, have_chromium, open_chromium

OFFICE = "gajahmungkur"
PHONE = (360, 740)


@pytest.fixture
def one_office() -> Iterator[dict[str, Any]]:
    with open_world((OFFICE,)) as w:
        yield w


def status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return int(r.status)
    except urllib.error.HTTPError as err:
        return err.code


def everything_stored(pg: DevPostgres) -> str:
    """Every row of every table the central service fills, as one text."""
    with psycopg.connect(pg.dsn) as conn:
        tables = [
            t
            for (t,) in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ]
        return "\n".join(
            str(row) for t in tables for row in conn.execute(f'SELECT * FROM "{t}"').fetchall()
        )


def off_by_one(token: str) -> str:
    last = "B" if token[-1] != "B" else "C"
    return token[:-1] + last


def test_central_web_serves_the_phone_page_live_by_the_tokens_hash(
    one_office: dict[str, Any], tmp_path: Path
) -> None:
    pytest.importorskip("selenium.webdriver")
    if not have_chromium():
        pytest.skip("chromium not installed")

    pg: DevPostgres = one_office["pg"]
    office: BridgedOffice = one_office["offices"][0]
    central: Central = one_office["central"]
    central.start()
    assert office.request("counter-1", "counter_open")["ok"]
    first = office.request("kiosk-1", "issue", service="A")
    mine = office.request("kiosk-1", "issue", service="A")
    assert first["ok"], first
    assert mine["ok"], mine
    token, code = mine["result"]["token"], mine["result"]["ticket"]["code"]
    wait_for(lambda: len(central_events(pg, OFFICE) or {}) >= 2, 30, "the issued events")

    server, thread, url = serve(central, tmp_path)
    driver = open_chromium(tmp_path / "chromium", *PHONE)
    try:
        driver.execute_cdp_cmd(  # records vibrations (the page's own script stays under its CSP)
            "Page.addScriptToEvaluateOnNewDocument",
            {"source": "window.buzz=[];navigator.vibrate=function(p){buzz.push(p);return true;};"},
        )
        driver.set_window_size(*PHONE)  # headless Chromium opens no narrower than 500
        go(driver, f"{url}/t/{token}")

        def text(css: str) -> str:  # in one script: the stream may replace the card meanwhile
            js = "var e = document.querySelector(arguments[0]); return e ? e.innerText : ''"
            return str(driver.execute_script(js, css))

        wait_for(lambda: text(".number") == code, 10, lambda: text("body"))
        assert text(".office") == office.config.office.name

        def shown() -> str:  # in one script: the stream may replace the card between two calls
            return str(driver.execute_script("return document.getElementById('tiket').innerText"))

        assert "1 orang di depan Anda" in shown()
        wait = mine["result"]["ticket"]["estimated_wait_s"]  # the office's own estimate
        assert f"Perkiraan tunggu ±{round(wait / 60)} menit" in driver.page_source
        driver.execute_script("window.stillHere = 1")  # gone if the page reloads
        SHOTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(SHOTS / "central-phone-360.png"))

        office.request("counter-1", "call_next")  # the one ahead
        wait_for(lambda: "0 orang di depan Anda" in shown(), 20, shown)
        office.request("counter-1", "call_next")  # completes that one, calls ours
        said = "Nomor Anda dipanggil — silakan ke Loket 1"
        wait_for(lambda: said in shown(), 20, shown)
        assert driver.execute_script("return window.stillHere") == 1  # live, not reloaded
        assert driver.title.startswith(f"DIPANGGIL {code}")
        assert driver.execute_script("return window.buzz.length") == 1
        driver.save_screenshot(str(SHOTS / "central-phone-called-360.png"))
    finally:
        driver.quit()

    try:
        assert status(f"{url}/t/{token}") == 200
        assert status(f"{url}/t/{off_by_one(token)}") == 404
        assert status(f"{url}/t/{off_by_one(token)}/live") == 404
        assert status(f"{url}/t/{token[:-1]}") == 404  # not a token's shape at all
        stored = everything_stored(pg)
        assert token not in stored
        assert token_hash(token) in stored
        assert token_hash(first["result"]["token"]) in stored
    finally:
        server.should_exit = True
        thread.join(10)
