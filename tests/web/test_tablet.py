"""The SKM survey on a tablet at the exit: a printed number (or a scanned QR) of today,
served, answered once, in the same store as the phone page's survey.

Set ANTREAN_SCREENSHOTS=docs/screenshots to keep the tablet's screens at 800x1280.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from antrean_testing.devbroker import DevBroker
from tests.support.broker_world import wait_for
from tests.support.chromium import go
from tests.support.helpers import FakeClock, Office
from tests.web.conftest import WebServer, web_config
from tests.web.http_client import Client
from tests.web.test_pages import count_of, save_shot, text_of

TABLET = (800, 1280)
DAY = "2026-11-26"  # FakeClock's business day


@pytest.fixture
def tablet_office(tmp_path: Path, broker: DevBroker) -> Iterator[tuple[Office, WebServer]]:
    config = web_config(
        tmp_path, broker.port, edit={"survey_tablet = false": "survey_tablet = true"}
    )
    office = Office(config, FakeClock()).start()
    server = WebServer(config).start()
    yield office, server
    server.stop()
    office.close()


def home(web: WebServer) -> str:
    return f"/survei/tablet/{web.app.tablet.key}"


def scores(*values: int) -> dict[str, str]:
    return {f"u{i}": str(v) for i, v in enumerate(values, 1)}


def type_number(driver: Any, code: str) -> None:
    """Taps the big keys of `code`, then Lanjut."""
    for key in code:
        driver.find_element(By.CSS_SELECTOR, f'button[data-key="{key}"]').click()
    assert driver.find_element(By.ID, "nomor").get_attribute("value") == code
    driver.find_element(By.CSS_SELECTOR, "button.lanjut").click()


def answer(driver: Any, values: list[int]) -> None:
    for i, value in enumerate(values, 1):
        driver.find_element(By.CSS_SELECTOR, f'input[name="u{i}"][value="{value}"] + span').click()
    driver.find_element(By.CSS_SELECTOR, "form.survei button").click()


def refused(driver: Any, code: str, words: str) -> None:
    """Types `code` and waits for the refusal that says `words`, with no survey."""
    type_number(driver, code)

    def said() -> bool:
        return count_of(driver, ".salah") == 1 and words in text_of(driver, ".salah")

    wait_for(said, 10, f"{words!r} for {code}")
    assert count_of(driver, "form.survei") == 0


def test_a_resident_rates_a_served_ticket_once_on_the_exit_tablet(
    tablet_office, chromium, tmp_path
) -> None:
    office, web = tablet_office
    driver = chromium
    surveys = web.app.surveys
    web.app.tablet.thanks_s = 2  # the real 8 s would only slow the test
    tokens = [office.ok("kiosk-1", "issue", service="A")["token"] for _ in range(3)]
    for _ in range(2):  # A001 and A002 served at Loket 1; A003 still waiting
        office.ok("counter-1", "call_next")
        office.ok("counter-1", "complete")
    driver.set_window_size(*TABLET)
    go(driver, web.url + home(web))
    wait_for(lambda: count_of(driver, "form.nomor") == 1, 10, "the keypad")
    save_shot(driver, tmp_path / "web-tablet-start.png")

    type_number(driver, "A001")
    wait_for(lambda: count_of(driver, "form.survei fieldset") == 9, 10, "the nine elements")
    assert text_of(driver, ".number") == "A001"
    driver.find_element(By.CSS_SELECTOR, 'input[name="u1"][value="4"] + span').click()
    driver.find_element(By.CSS_SELECTOR, 'input[name="u2"][value="4"] + span').click()
    save_shot(driver, tmp_path / "web-tablet-survey.png")
    answer(driver, [4, 4, 3, 4, 3, 4, 4, 3, 3])  # 32 points
    wait_for(lambda: count_of(driver, ".terima") == 1, 10, "the thanks")
    save_shot(driver, tmp_path / "web-tablet-thanks.png")
    [figure] = [f for f in surveys.figures() if f.service == "A"]
    assert (figure.responses, figure.ikm, figure.letter) == (1, Decimal("88.89"), "A")
    assert surveys.answered(DAY, "A001")
    # The thanks goes back to the keypad by itself, for the next resident.
    wait_for(lambda: count_of(driver, "form.nomor") == 1, 10, "the keypad again")
    assert driver.find_element(By.ID, "nomor").get_attribute("value") == ""

    # The same ticket again, a ticket still waiting, a number not issued today: each said.
    refused(driver, "A001", "Nomor A001 sudah mengisi survei")
    refused(driver, "A003", "Nomor A003 belum selesai dilayani")
    save_shot(driver, tmp_path / "web-tablet-refused.png")
    refused(driver, "A099", "Nomor A099 tidak ada hari ini")
    assert [f.responses for f in surveys.figures() if f.service == "A"] == [1]

    # A scanner types the ticket's QR address into the field, as a keyboard does.
    field = driver.find_element(By.ID, "nomor")
    field.clear()
    field.send_keys(f"{web.settings.public_url}/t/{tokens[1]}" + Keys.ENTER)
    wait_for(lambda: count_of(driver, "form.survei fieldset") == 9, 10, "the scanned ticket")
    assert text_of(driver, ".number") == "A002"
    answer(driver, [2] * 9)
    wait_for(lambda: count_of(driver, ".terima") == 1, 10, "the second thanks")
    assert [f.responses for f in surveys.figures() if f.service == "A"] == [2]

    # The phone page of a ticket rated on the tablet offers no second survey.
    go(driver, f"{web.url}/t/{tokens[0]}")
    wait_for(lambda: count_of(driver, ".terima") == 1, 10, "the phone page's thanks")
    assert count_of(driver, "form.survei") == 0

    # Left half typed, the keypad starts again by itself.
    web.app.tablet.idle_s = 2
    go(driver, web.url + home(web))
    for key in ("A", "1", "back", "clear", "A", "7"):
        driver.find_element(By.CSS_SELECTOR, f'button[data-key="{key}"]').click()
    assert driver.find_element(By.ID, "nomor").get_attribute("value") == "A7"
    wait_for(
        lambda: driver.execute_script("return document.getElementById('nomor').value") == "",
        10,
        "the idle reset",
    )


def test_the_tablet_refuses_what_it_must_and_keeps_nothing(tablet_office, tmp_path) -> None:
    office, web = tablet_office
    client = Client(web.url)
    office.ok("kiosk-1", "issue", service="A")
    # A wrong key is any other wrong address: the phone page's 404.
    assert client.get("/survei/tablet/" + "0" * 64)[0] == 404
    assert client.post("/survei/tablet/" + "0" * 64 + "/jawab", {"nomor": "A001"})[0] == 404
    status, _h, page = client.get(home(web))
    assert status == 200
    assert 'data-key="A"' in page
    assert 'data-key="B"' in page
    # Answers posted for a ticket still waiting: refused, nothing kept.
    form = {"nomor": "A001", **scores(*[4] * 9)}
    status, _h, page = client.post(home(web) + "/jawab", form)
    assert (status, "belum selesai dilayani" in page) == (409, True)
    assert client.post(home(web), {"nomor": "12"})[0] == 400  # no letter: not a number
    office.ok("counter-1", "call_next")
    office.ok("counter-1", "complete")
    # One element missing: says which, keeps nothing; then whole, kept once.
    status, _h, page = client.post(home(web) + "/jawab", {**form, "u9": ""})
    assert (status, "Sarana dan prasarana" in page) == (400, True)
    assert web.app.surveys.figures() == []
    assert client.post(home(web) + "/jawab", form)[0] == 200
    status, _h, page = client.post(home(web) + "/jawab", {**form, **scores(*[1] * 9)})
    assert (status, "sudah mengisi survei" in page) == (409, True)
    [figure] = [f for f in web.app.surveys.figures() if f.service == "A"]
    assert (figure.responses, figure.ikm) == (1, Decimal("100.00"))
    # The technician's command prints the address the tablet opens.
    config = tmp_path / "antrean.toml"
    printed = subprocess.run(
        [sys.executable, "-m", "antrean_tools.cli", "web", "tablet-url", "--config", str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert printed.stdout.strip() == web.settings.public_url + home(web), printed.stderr


def test_the_tablet_page_is_off_unless_the_config_turns_it_on(web_office) -> None:
    _office, web = web_office
    assert not web.settings.survey_tablet
    assert Client(web.url).get("/survei/tablet/x")[0] == 404
    assert not web.settings.tablet_key_path.exists()  # no key made for a page that is off
