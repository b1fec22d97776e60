"""The IKM per service (layanan) at the centre: /kantor/{office} and /ikm.csv, in headless Chromium.

A real central Mosquitto, PostgreSQL and `antrean central`. One office's
state/ikm is made by the office web's own code (web.ikm_state over a real
survey file) from answers for services A and B and published through the
office's own login, as its bridge would; a second office's IKM is of a month
that has ended; a third sent none. The page and the CSV must show the
figures the test works out from the answers by the regulation's words.
"""

from __future__ import annotations

import http.client
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest

from antrean_testing.devpostgres import DevPostgres
from tests.central.test_central_e2e import Central
from tests.central.test_central_summary import csv_download, logged_in, stop_all, stored
from tests.central.test_central_web import SHOTS, serve
from tests.support.broker_world import CentralBroker, wait_for
from tests.support.chromium import have_chromium
from tests.support.mqtt5_probe import SUCCESS, Probe
from tests.web.test_ikm_state import expected
from web.ikm_state import ikm_body
from web.survey import Surveys

RATED, ENDED, SILENT = "kec-nilai", "kec-lalu", "kec-diam"
NAMES = {"A": "Perekaman KTP-el", "B": "Kartu Keluarga"}
ANSWERS = {
    "A": [[4] * 9, [4, 4, 4, 4, 4, 4, 4, 3, 4]],
    "B": [[2, 3, 2, 2, 3, 2, 2, 1, 2], [3] * 9, [3, 4, 3, 3, 3, 3, 2, 3, 3]],
}


def survey_state(
    tmp: Path, office: str, month: str, answers: dict[str, list[list[int]]]
) -> dict[str, Any]:
    """state/ikm as the office web makes it from its survey file holding these answers."""
    surveys = Surveys(tmp / f"{office}-web.db")
    try:
        for service, rows in answers.items():
            for n, scores in enumerate(rows, 1):
                assert surveys.add(f"{month}-26", f"{service}{n:03d}", service, tuple(scores), "")
        return ikm_body(month, surveys.figures(month))
    finally:
        surveys.close()


def publish(broker: CentralBroker, office: str, day: str, ikm: dict[str, Any] | None) -> None:
    probe = Probe(broker.office_login(office), f"antrean-bridge-{office}")
    assert probe.connect() == SUCCESS
    root = f"antrean/v1/{office}/state"
    state = {"id": office, "name": f"Kecamatan {office.title()}", "day": day, "seq": 0}
    probe.publish(f"{root}/office", json.dumps(state).encode(), retain=True)
    for code, name in NAMES.items():
        service = {"code": code, "name": name, "open": True, "waiting": 0}
        probe.publish(f"{root}/service/{code}", json.dumps(service).encode(), retain=True)
    queue = json.dumps({"online": True, "role": "queue"}).encode()
    probe.publish(f"antrean/v1/{office}/device/queue/status", queue, retain=True)
    if ikm is not None:
        probe.publish(f"{root}/ikm", json.dumps(ikm).encode(), retain=True)
    probe.close()


def words(answers: list[list[int]]) -> str:
    ikm, band = expected(answers)
    return f"{ikm:.2f} {band}".replace(".", ",")


def csv_expected() -> str:
    """The CSV worked out here: per office its line of all services, then each rated service."""
    every = [row for rows in ANSWERS.values() for row in rows]
    lines = ["kantor,nama,bulan,layanan,nama_layanan,responden,ikm,mutu"]
    lines.append(f"{RATED},Kecamatan {RATED.title()},2026-11,,Semua layanan,{len(every)},"
                 "{:.2f},{}".format(*expected(every)))  # fmt: skip
    for code, rows in ANSWERS.items():
        ikm, band = expected(rows)
        lines.append(f"{RATED},Kecamatan {RATED.title()},2026-11,{code},{NAMES[code]},"
                     f"{len(rows)},{ikm:.2f},{band}")  # fmt: skip
    lines.append(f"{ENDED},Kecamatan {ENDED.title()},2026-12,,Semua layanan,0,,")
    lines.append(f"{SILENT},Kecamatan {SILENT.title()},2026-11,,Semua layanan,0,,")
    return "".join(f"{line}\n" for line in sorted(lines[1:], key=lambda x: x.split(",")[0]))


def test_the_centre_shows_and_downloads_the_ikm_per_service() -> None:
    pytest.importorskip("selenium.webdriver")
    if not have_chromium():
        pytest.skip("chromium not installed")
    from selenium.webdriver.common.by import By  # noqa: PLC0415

    tmp = Path(tempfile.mkdtemp(prefix="antrean-central-ikm-"))
    offices = (RATED, ENDED, SILENT)
    pg = DevPostgres().start()
    broker = CentralBroker(*offices)
    broker.start()
    central = Central(tmp, broker, pg, offices)
    server = driver = None
    try:
        central.start()
        publish(broker, RATED, "2026-11-26", survey_state(tmp, RATED, "2026-11", ANSWERS))
        november = survey_state(tmp, ENDED, "2026-11", {"A": ANSWERS["A"]})
        publish(broker, ENDED, "2026-12-01", november)  # its web has not said December yet
        publish(broker, SILENT, "2026-11-26", None)

        wait_for(lambda: stored(pg, "ikm") == {RATED, ENDED}, 30, "state/ikm at the centre")
        server, thread, url = serve(central, tmp)
        driver = logged_in(tmp, f"{url}/kantor/{RATED}")
        rows_css = "table.ikm-services tr.ikm-service"
        wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, rows_css), 10, "the IKM table")
        shown = [
            [tr.get_attribute("data-service"), tr.text]
            for tr in driver.find_elements(By.CSS_SELECTOR, rows_css)
        ]
        assert shown == [
            [code, f"{code} {NAMES[code]} {len(rows)} {words(rows)}"]
            for code, rows in ANSWERS.items()
        ]
        every = [row for rows in ANSWERS.values() for row in rows]
        assert driver.find_element(By.CSS_SELECTOR, "td.ikm").text == (
            f"{words(every)} ({len(every)} responden)"
        )
        SHOTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(SHOTS / "central-office-ikm-1366.png"))
        for office in (ENDED, SILENT):  # an ended month is not "this month"
            driver.get(f"{url}/kantor/{office}")
            table = driver.find_element(By.CSS_SELECTOR, "table.ikm-services").text
            assert "Belum ada penilaian bulan ini" in table

        body = csv_download(driver, url, "/ikm.csv")
        header = "kantor,nama,bulan,layanan,nama_layanan,responden,ikm,mutu\n"
        assert body == header + csv_expected()
        host, port = url.removeprefix("http://").split(":")
        anonymous = http.client.HTTPConnection(host, int(port), timeout=10)
        anonymous.request("GET", "/ikm.csv")
        reply = anonymous.getresponse()
        assert (reply.status, reply.getheader("location", "")[:6]) == (303, "/masuk")
        anonymous.close()
    finally:
        stop_all(driver, server, thread if server else None, central, broker, pg, tmp)
