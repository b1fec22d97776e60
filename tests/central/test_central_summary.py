"""/ringkasan and /ringkasan.csv: the drive by kabupaten and kecamatan, in headless Chromium.

A real central Mosquitto, PostgreSQL and `antrean central`; a generated set
of offices, each publishing its retained state/office and state/drive through
its own login as its bridge would, over three kabupaten (one office with
none, one that never sent its drive). The page's numbers and the CSV must be
the sums the test works out by itself.
"""

from __future__ import annotations

import json
import random
import shutil
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from antrean_testing.devpostgres import DevPostgres
from tests.central.test_central_e2e import Central
from tests.central.test_central_web import SHOTS, serve
from tests.support.broker_world import CentralBroker, wait_for
from tests.support.chromium import have_chromium, open_chromium
from tests.support.mqtt5_probe import SUCCESS, Probe

KABUPATEN = {"Kota Semarang": 4, "Kabupaten Semarang": 3, "Kabupaten Kendal": 2}
LOOSE, SILENT = "kec-tanpa-kab", "kec-diam"  # no kabupaten; no state/drive


def generated() -> tuple[dict[str, str], dict[str, dict[str, int]]]:
    """office -> kabupaten, and office -> its drive (target, recorded, week)."""
    rnd = random.Random(16)
    kabupaten, drive = {}, {}
    for kab, n in KABUPATEN.items():
        for i in range(n):
            office = f"{kab.split()[-1].lower()}-{kab.split()[0][:3].lower()}-{i + 1}"
            kabupaten[office] = kab
    for office in [*kabupaten, LOOSE]:
        target = rnd.randint(1500, 4000)
        drive[office] = {"target": target, "recorded": rnd.randint(0, target + 200),
                         "week": rnd.choice([0, rnd.randint(20, 300)])}  # fmt: skip
    kabupaten[SILENT] = "Kabupaten Kendal"
    return kabupaten, drive


def publish(broker: CentralBroker, office: str, drive: dict[str, int] | None) -> None:
    probe = Probe(broker.office_login(office), f"antrean-bridge-{office}")
    assert probe.connect() == SUCCESS
    root = f"antrean/v1/{office}/state"
    state = {"id": office, "name": f"Kecamatan {office.title()}", "day": "2026-11-26", "seq": 0}
    probe.publish(f"{root}/office", json.dumps(state).encode(), retain=True)
    if drive is not None:
        body = {**drive, "day": "2026-11-26", "today": 0, "kelurahan": {}}
        probe.publish(f"{root}/drive", json.dumps(body).encode(), retain=True)
    probe.close()


def expected(kabupaten: dict[str, str], drive: dict[str, dict[str, int]]) -> list[list[str]]:
    """The CSV's rows, worked out here: per kabupaten its sum, then its kecamatan by name."""

    def row(level: str, kab: str, office: str, name: str, parts: list[dict[str, int]]) -> list[str]:
        t, r, w = (sum(p[k] for p in parts) for k in ("target", "recorded", "week"))
        left = max(t - r, 0)
        return [level, kab, office, name, str(t), str(r), str(w), str(left),
                f"{round(left / w, 1):.1f}" if w else ""]  # fmt: skip

    zero = {"target": 0, "recorded": 0, "week": 0}
    rows, everything = [], []
    groups: dict[str, list[str]] = {}
    for office, kab in {**kabupaten, LOOSE: "(tanpa kabupaten)"}.items():
        groups.setdefault(kab, []).append(office)
    for kab in [*sorted(k for k in groups if k != "(tanpa kabupaten)"), "(tanpa kabupaten)"]:
        parts = [drive.get(o, zero) for o in groups[kab]]
        everything += parts
        rows.append(row("kabupaten", kab, "", kab, parts))
        for o in sorted(groups[kab], key=lambda o: f"Kecamatan {o.title()}"):
            rows.append(row("kecamatan", kab, o, f"Kecamatan {o.title()}", [drive.get(o, zero)]))
    rows.append(row("provinsi", "", "", "Provinsi", everything))
    return rows


def stored(pg: DevPostgres, topic: str) -> set[str]:
    """The offices whose retained state/{topic} the centre holds (none before its schema)."""
    import psycopg  # noqa: PLC0415

    try:
        with psycopg.connect(pg.dsn) as conn:
            rows = conn.execute("SELECT office FROM office_state WHERE topic = %s", (topic,))
            return {o for (o,) in rows}
    except psycopg.Error:
        return set()


def logged_in(tmp: Path, page: str) -> Any:
    """Headless Chromium at 1366x768, logged in as Dinas's kepala on its way to `page`."""
    from selenium.webdriver.common.by import By  # noqa: PLC0415

    driver = open_chromium(tmp / "chromium", 1366, 768)
    driver.get(page)
    driver.find_element(By.NAME, "name").send_keys("dinas")
    driver.find_element(By.NAME, "password").send_keys("rahasia-pusat-1")
    driver.find_element(By.CSS_SELECTOR, "form.login button").click()
    return driver


def csv_download(driver: Any, url: str, path: str) -> str:
    """A CSV downloaded with the browser's session, its type checked."""
    cookie = driver.get_cookie("antrean_sesi")
    assert cookie is not None
    session = {"Cookie": f"antrean_sesi={cookie['value']}"}
    ask = urllib.request.Request(f"{url}{path}", headers=session)
    with urllib.request.urlopen(ask, timeout=10) as reply:
        assert reply.headers["Content-Type"] == "text/csv; charset=utf-8"
        return str(reply.read().decode())


def stop_all(
    driver: Any,
    server: Any,
    thread: Any,
    central: Central,
    broker: CentralBroker,
    pg: DevPostgres,
    tmp: Path,
) -> None:
    """Everything a central web test started, the browser first."""
    if driver is not None:
        driver.quit()
    if server is not None:
        server.should_exit = True
        thread.join(10)
    central.stop() if central.proc else None
    broker.cleanup()
    pg.cleanup()
    shutil.rmtree(tmp, ignore_errors=True)


def test_the_drive_summary_shows_and_downloads_the_sums_by_kabupaten_and_kecamatan() -> None:
    pytest.importorskip("selenium.webdriver")
    if not have_chromium():
        pytest.skip("chromium not installed")
    from selenium.webdriver.common.by import By  # noqa: PLC0415

    kabupaten, drive = generated()
    offices = [*kabupaten, LOOSE]
    tmp = Path(tempfile.mkdtemp(prefix="antrean-central-summary-"))
    pg = DevPostgres().start()
    broker = CentralBroker(*offices)
    broker.start()
    central = Central(tmp, broker, pg)
    text = central.config.read_text().replace(
        "offices = [", "offices = [" + ", ".join(f'"{o}"' for o in offices) + "]\n#"
    )
    lines = "\n".join(f'{o} = "{k}"' for o, k in kabupaten.items())
    central.config.write_text(
        text.replace("\n[broker]", f"\n[central.kabupaten]\n{lines}\n\n[broker]")
    )
    server = driver = None
    try:
        central.start()
        for office in offices:
            publish(broker, office, drive.get(office))
        with_drive = {o for o in offices if o in drive}

        wait_for(lambda: stored(pg, "drive") == with_drive, 30,
                 "every office's state/drive at the centre")  # fmt: skip
        server, thread, url = serve(central, tmp)
        want = expected(kabupaten, drive)
        driver = logged_in(tmp, f"{url}/ringkasan")
        rows_css = "table.drive-summary tr.line"

        # Loaded, not only addressed: the rows are read at once below.
        def loaded() -> bool:
            here = driver.current_url.endswith("/ringkasan")
            return bool(here and driver.find_elements(By.CSS_SELECTOR, rows_css))

        wait_for(loaded, 10, "the summary")
        shown = []
        for tr in driver.find_elements(By.CSS_SELECTOR, rows_css):
            cells = [tr.find_element(By.CSS_SELECTOR, f".{c}").text
                     for c in ("target", "recorded", "week", "remaining", "weeks")]  # fmt: skip
            shown.append([tr.get_attribute("data-office") or "", *cells])
        assert shown == [[r[2], *r[4:8], r[8] or "-"] for r in want]
        bars = driver.find_elements(By.CSS_SELECTOR, "svg.drive text")
        assert [b.text for b in bars][1::2] == [f"{r[5]}/{r[4]}" for r in want]
        SHOTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(SHOTS / "central-summary-1366.png"))
        body = csv_download(driver, url, "/ringkasan.csv")
        header = "tingkat,kabupaten,kantor,nama,target,terekam,minggu_ini,sisa,minggu_lagi\n"
        assert body == header + "".join(",".join(r) + "\n" for r in want)
    finally:
        stop_all(driver, server, thread if server else None, central, broker, pg, tmp)
