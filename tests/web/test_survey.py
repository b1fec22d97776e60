"""The SKM survey: offered on the phone page once the ticket is served, one response per
ticket, and the IKM per month and service (Permenpan RB 14/2017) on the kepala's page.

Set ANTREAN_SCREENSHOTS=docs/screenshots to keep the phone page at 360x740.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from selenium.webdriver.common.by import By

from tests.support.broker_world import wait_for
from tests.support.chromium import go
from tests.web.conftest import PASSWORD
from tests.web.http_client import Client
from tests.web.test_pages import count_of, save_shot, text_of
from web.survey import band, ikm_value

PHONE = (360, 740)
ALL = [1, 2, 3, 4, 5, 6, 7, 8, 9]


def scores(*values: int) -> dict[str, str]:
    return {f"u{i}": str(v) for i, v in enumerate(values, 1)}


def test_the_bands_and_the_rounding_of_the_regulation() -> None:
    assert [band(Decimal(x))[0] for x in ("100", "88.31", "88.30", "76.61")] == list("AABB")
    assert [band(Decimal(x))[0] for x in ("76.60", "65.00", "64.99", "25.00")] == list("CCDD")
    assert ikm_value(92, 27) == Decimal("85.19")  # 85.185...
    assert ikm_value(110, 36) == Decimal("76.39")  # 76.388...


def test_the_kepala_sees_the_ikm_of_a_known_set_of_responses(web_office) -> None:
    _office, web = web_office
    surveys = web.app.surveys
    known = [
        ("2026-11-03", "A001", "A", [4] * 9),
        ("2026-11-03", "A002", "A", [3] * 9),
        ("2026-11-04", "A001", "A", [4, 3, 3, 2, 4, 3, 4, 3, 3]),
        ("2026-11-04", "B001", "B", [2] * 9),
        ("2026-12-01", "A001", "A", [4] * 9),
    ]
    for day, code, service, values in known:
        assert surveys.add(day, code, service, tuple(values), "")
    assert not surveys.add("2026-11-03", "A001", "A", (1,) * 9, "")  # one per ticket
    figures = {(f.month, f.service): f for f in surveys.figures()}
    # A in November: (36 + 27 + 29) / 27 scores x 25 = 85.185... -> 85.19, band B.
    a = figures[("2026-11", "A")]
    assert (a.responses, a.ikm, a.letter) == (3, Decimal("85.19"), "B")
    assert [str(m) for m in a.element_means] == [
        "3.67", "3.33", "3.33", "3.00", "3.67", "3.33", "3.67", "3.33", "3.33",
    ]  # fmt: skip
    assert (figures[("2026-11", "B")].ikm, figures[("2026-11", "B")].letter) == (
        Decimal("50.00"),
        "D",
    )
    # All of November: 110 / 36 x 25 = 76.388... -> 76.39, band C; December: 100, A.
    assert (figures[("2026-11", "")].ikm, figures[("2026-11", "")].letter) == (
        Decimal("76.39"),
        "C",
    )
    assert figures[("2026-12", "")].ikm == Decimal("100.00")

    client = Client(web.url)
    assert client.get("/skm")[0] == 303  # no session: to the login
    assert client.login("budi", PASSWORD) == 303  # the kepala
    status, _h, page = client.get("/skm")
    assert status == 200
    row = page.split('data-month="2026-11" data-service="A"')[1].split("</tr>")[0]
    assert "85,19" in row
    assert "<b>B</b> Baik" in row
    assert "3,67" in row
    row = page.split('data-month="2026-11" data-service="semua"')[1].split("</tr>")[0]
    assert "76,39" in row
    assert "<b>C</b> Kurang baik" in row
    assert page.index('data-month="2026-12"') < page.index('data-month="2026-11"')


def shoot(driver: Any, tmp_path: Path, name: str) -> None:
    save_shot(driver, tmp_path / f"web-phone-{name}.png")


def test_a_resident_fills_the_survey_on_the_phone_once(web_office, chromium, tmp_path) -> None:
    office, web = web_office
    driver = chromium
    office.ok("kiosk-1", "issue", service="A")
    result = office.ok("kiosk-1", "issue", service="A")
    code, token = result["ticket"]["code"], result["token"]
    client = Client(web.url)
    # No survey before the service is done: refused, nothing kept.
    assert client.post(f"/t/{token}/survei", scores(*[4] * 9))[0] == 409
    driver.set_window_size(*PHONE)
    go(driver, f"{web.url}/t/{token}")
    assert count_of(driver, "form.survei") == 0
    shoot(driver, tmp_path, "waiting")
    office.ok("counter-1", "call_next")
    office.ok("counter-1", "call_next")  # this ticket, at Loket 1
    wait_for(lambda: count_of(driver, ".call") == 1, 10, "the call")
    shoot(driver, tmp_path, "called")
    office.ok("counter-1", "complete")
    # The survey appears by itself when the ticket is served.
    wait_for(lambda: count_of(driver, "form.survei") == 1, 10, "the survey")
    assert count_of(driver, "form.survei fieldset") == 9
    driver.execute_script("window.scrollTo(0, 280)")
    shoot(driver, tmp_path, "survey")
    assert "Penanganan pengaduan, saran dan masukan" in text_of(driver, "form.survei")
    # Sent with one element missing: said in words, nothing kept.
    chosen = [4, 3, 4, 4, 3, 4, 4, 2, 3]
    for i, value in enumerate(chosen[:-1], 1):
        driver.find_element(By.CSS_SELECTOR, f'input[name="u{i}"][value="{value}"]').click()
    driver.find_element(By.CSS_SELECTOR, "form.survei button").click()
    wait_for(lambda: count_of(driver, ".salah") == 1, 10, "what is missing")
    assert "Sarana dan prasarana" in text_of(driver, ".salah")
    assert web.app.surveys.figures() == []
    # The answers given stay chosen; the last one, a comment, and it is kept.
    assert driver.find_element(By.CSS_SELECTOR, 'input[name="u1"][value="4"]').is_selected()
    driver.find_element(By.CSS_SELECTOR, 'input[name="u9"][value="3"]').click()
    driver.find_element(By.NAME, "komentar").send_keys("Ruang tunggu <b>panas</b>")
    driver.find_element(By.CSS_SELECTOR, "form.survei button").click()
    wait_for(lambda: count_of(driver, ".terima") == 1, 10, "the thanks")
    assert count_of(driver, "form.survei") == 0
    [figure] = [f for f in web.app.surveys.figures() if f.service == "A"]
    # 31 points over 9 elements x 25 = 86.11, band B.
    assert (figure.responses, figure.ikm, figure.letter) == (1, Decimal("86.11"), "B")
    assert web.app.surveys.comments() == [("2026-11-26", "A", "Ruang tunggu <b>panas</b>")]
    # A second response for the same ticket changes nothing.
    assert client.post(f"/t/{token}/survei", scores(*[1] * 9))[0] == 303
    assert [f.ikm for f in web.app.surveys.figures() if f.service == "A"] == [Decimal("86.11")]
    assert code in text_of(driver, ".number")
    # The comment shows as text on the kepala's page.
    assert client.login("budi", PASSWORD) == 303
    page = client.get("/skm")[2]
    assert "Ruang tunggu &lt;b&gt;panas&lt;/b&gt;" in page
