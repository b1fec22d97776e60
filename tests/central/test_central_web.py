"""The central web in headless Chromium over the real central service and three real offices.

The e2e test's world: three offices bridged to a central Mosquitto, the
central service writing into a private PostgreSQL, and the garbage office.
The page must list every office, the flagged one first, with each office's
recordings of today equal to the office's own report, and the month's IKM
that each office's web published (state/ikm through its hub's access rules
and its bridge) from the answers the test gave it.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest
import uvicorn

from antrean_testing.devpostgres import DevPostgres
from central.config import load_central_config
from tests.central.test_central_e2e import (  # noqa: F401 - `world` is the fixture
    GARBAGE,
    OFFICES,
    BridgedOffice,
    Central,
    central_events,
    offices_seen,
    publish_garbage,
    world,
)
from tests.support.broker_world import wait_for
from tests.support.chromium import have_chromium, open_chromium
from tests.web.conftest import free_port
from tests.web.test_ikm_state import expected
from web.central_app import build_central_app
from web.ikm_state import IkmState
from web.live import OfficeLive
from web.survey import Surveys
from web.users import Users, WebRole

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def serve(central: Central, tmp: Path) -> tuple[uvicorn.Server, threading.Thread, str]:
    port = free_port()
    text = central.config.read_text() + f'\n[web]\nport = {port}\nusers = "{tmp}/u.db"\n'
    text += f'session_secret = "{tmp}/secret"\n'
    path = tmp / "central-web.toml"
    path.write_text(text)
    config = load_central_config(path)
    assert config.web is not None
    users = Users(config.web.users_path)
    users.add("dinas", WebRole.KEPALA, "rahasia-pusat-1")
    app = build_central_app(config, config.web, users)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, 10, "the central web")
    return server, thread, f"http://127.0.0.1:{port}"


# Each office's survey answers this month (the third office has none: a dash).
ANSWERS = ([[4] * 9, [4, 4, 4, 4, 4, 4, 4, 3, 4]], [[2, 3, 2, 2, 3, 2, 2, 1, 2], [3] * 9], [])


def office_web(o: BridgedOffice, tmp: Path, answers: list[list[int]]) -> OfficeLive:
    """The office web's MQTT side (its own login on the hub) and its survey file, answered."""
    live = OfficeLive(o.config, "web").start()
    surveys = Surveys(tmp / f"{o.office}-web.db")
    IkmState(live, surveys)
    day = str(o.runner.service.engine.day)
    for n, scores in enumerate(answers, 1):
        assert surveys.add(day, f"A{n:03d}", "A", tuple(scores), "komentar tetap di kantor")
    return live


def ikm_at_centre(pg: DevPostgres, office: str) -> dict[str, Any] | None:
    with psycopg.connect(pg.dsn) as conn:
        row = conn.execute(
            "SELECT body FROM office_state WHERE office = %s AND topic = 'ikm'", (office,)
        ).fetchone()
    return None if row is None else row[0]  # type: ignore[no-any-return]


def ikm_words(answers: list[list[int]], responses: bool) -> str:
    """What /kantor and the office page show of the answers: '78,47 B', or an en dash."""
    if not answers:
        return "\u2013"
    ikm, band = expected(answers)
    text = f"{ikm:.2f} {band}".replace(".", ",")
    return f"{text}\n{len(answers)} responden" if responses else text


def check_office_page(driver: Any, o: BridgedOffice, answers: list[list[int]]) -> None:
    """Today's and the month's figures per service equal the office's own report."""
    from selenium.webdriver.common.by import By  # noqa: PLC0415

    shown = driver.find_element(By.CSS_SELECTOR, "td.ikm").text
    assert shown == ikm_words(answers, False) + (f" ({len(answers)} responden)" if answers else "")

    want = {k: g for k, g in o.groups().items() if g.issued or g.served}
    assert want, o.office
    for table in ("today", "month"):  # the world's events are all of one day
        rows = driver.find_elements(By.CSS_SELECTOR, f"table.{table} tr.service")
        assert {r.get_attribute("data-service") for r in rows} == set(want)
        for r in rows:
            g = want[r.get_attribute("data-service")]
            cell = {
                c: r.find_element(By.CSS_SELECTOR, f".{c}")
                for c in ("issued", "served", "median", "p90")
            }
            assert (int(cell["issued"].text), int(cell["served"].text)) == (g.issued, g.served)
            for name, value in (("median", g.wait.median), ("p90", g.wait.p90)):
                shown = cell[name].get_attribute("data-s")
                assert (None if shown == "None" else float(shown)) == value, (o.office, name)
    devices = {
        r.get_attribute("data-device") for r in driver.find_elements(By.CSS_SELECTOR, "tr.device")
    }
    assert "queue" in devices


def test_central_web_lists_every_office_flagged_first(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    parts: dict[str, Any] = request.getfixturevalue("world")  # the e2e test's fixture
    pytest.importorskip("selenium.webdriver")
    if not have_chromium():
        pytest.skip("chromium not installed")
    from selenium.webdriver.common.by import By  # noqa: PLC0415

    pg: DevPostgres = parts["pg"]
    offices: list[BridgedOffice] = parts["offices"]
    central: Central = parts["central"]
    central.start()
    wait_for(lambda: central_events(pg, OFFICES[0]) is not None, 30, "the central schema")
    wait_for(lambda: len(offices_seen(pg)) == len(OFFICES), 30, "the offices' retained state")
    for n, o in enumerate(offices):
        o.busy_day(8 + 6 * n, seed=n)
    publish_garbage(parts["broker"])
    for o, answers in zip(offices, ANSWERS, strict=True):
        request.addfinalizer(office_web(o, tmp_path, answers).stop)
    for o, answers in zip(offices, ANSWERS, strict=True):
        n = len(answers)
        wait_for(lambda o=o, n=n: (ikm_at_centre(pg, o.office) or {}).get("responses") == n,
                 30, f"{o.office}'s state/ikm at the centre")  # fmt: skip
    for o in offices:
        want = set(o.store_events())
        wait_for(lambda o=o, want=want: set(central_events(pg, o.office) or {}) == want, 60,
                 f"{o.office} at the centre")  # fmt: skip
    time.sleep(0.5)  # the retained states of the last batch
    server, thread, url = serve(central, tmp_path)
    driver = open_chromium(tmp_path / "chromium", 1366, 768)
    try:
        driver.get(f"{url}/kantor")
        assert "/masuk" in driver.current_url
        driver.find_element(By.NAME, "name").send_keys("dinas")
        driver.find_element(By.NAME, "password").send_keys("rahasia-pusat-1")
        driver.find_element(By.CSS_SELECTOR, "form.login button").click()

        def loaded() -> bool:  # the rows, not only the address: they are read at once
            here = driver.current_url.endswith("/kantor")
            return bool(here and driver.find_elements(By.CSS_SELECTOR, "tr.office"))

        wait_for(loaded, 10, "the office table")
        rows = driver.find_elements(By.CSS_SELECTOR, "tr.office")
        order = [r.get_attribute("data-office") for r in rows]
        assert sorted(order) == sorted((*OFFICES, GARBAGE))
        assert order[0] == GARBAGE  # flagged: garbage kept aside
        assert "Data ditahan" in rows[0].text
        for o in offices:
            row = driver.find_element(By.CSS_SELECTOR, f'tr[data-office="{o.office}"]')
            served_a = o.figures().get("A", (0, 0))[1]
            assert row.find_element(By.CSS_SELECTOR, ".recorded").text == str(served_a)
            assert row.find_element(By.CSS_SELECTOR, ".counters").text.endswith("/ 4")
            assert row.find_element(By.CSS_SELECTOR, ".waiting").text.isdigit()
            drive = o.drive()
            share = f"{100 * drive['since_start'] / drive['target']:.1f}%"
            want = f"{drive['since_start']} / {drive['target']}\n{share}"
            assert row.find_element(By.CSS_SELECTOR, ".drive").text == want
            answers = ANSWERS[offices.index(o)]
            assert row.find_element(By.CSS_SELECTOR, ".ikm").text == ikm_words(answers, True)
        # Sorted by the IKM, the lowest first; offices without one last (by id).
        driver.find_element(By.LINK_TEXT, "IKM bulan ini").click()
        wait_for(lambda: "sort=ikm" in driver.current_url, 10, "sorted by the IKM")
        order = [
            r.get_attribute("data-office")
            for r in driver.find_elements(By.CSS_SELECTOR, "tr.office")
        ]
        rated = {o.office: expected(a)[0] for o, a in zip(offices, ANSWERS, strict=True) if a}
        unrated = sorted({*OFFICES, GARBAGE} - set(rated))
        assert order == [*sorted(rated, key=lambda k: rated[k]), *unrated]
        driver.get(f"{url}/kantor")
        # Sorted by the drive's share, the lowest first; the office without a target last.
        driver.find_element(By.LINK_TEXT, "Perekaman / target").click()
        wait_for(lambda: "sort=target" in driver.current_url, 10, "sorted by the drive")
        order = [
            r.get_attribute("data-office")
            for r in driver.find_elements(By.CSS_SELECTOR, "tr.office")
        ]
        shares = {o.office: o.drive()["since_start"] / o.drive()["target"] for o in offices}
        assert order == [*sorted(shares, key=lambda k: (shares[k], k)), GARBAGE]
        driver.find_element(By.PARTIAL_LINK_TEXT, "Perekaman / target").click()  # again: reversed
        wait_for(lambda: "balik=1" in driver.current_url, 10, "reversed")
        order = [
            r.get_attribute("data-office")
            for r in driver.find_elements(By.CSS_SELECTOR, "tr.office")
        ]
        assert order == [GARBAGE, *sorted(shares, key=lambda k: (shares[k], k), reverse=True)]
        driver.get(f"{url}/kantor")
        SHOTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(SHOTS / "central-offices-1366.png"))
        for o in offices:
            driver.get(f"{url}/kantor/{o.office}")
            check_office_page(driver, o, ANSWERS[offices.index(o)])
        driver.save_screenshot(str(SHOTS / "central-office-1366.png"))
        driver.get(f"{url}/kantor/tidak-ada")
        assert "tidak ada di daftar pusat" in driver.page_source
    finally:
        driver.quit()
        server.should_exit = True
        thread.join(10)
