"""/audit shows the web's own audit and the queue store's audit of one day, merged by time.

The real queue service runs on a clock a day behind at first: an admin tool's
change (user tono) lands in yesterday's store audit. Then, today, sri closes a
service in headless Chromium (a row in both records) and the admin tool opens
a counter for budi (the store's record only). budi, kepala, reads /audit:
today's three rows, newest first, each with who, from where and which record;
`?hari=` yesterday shows tono's row alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from antrean.hours import business_day
from antrean_testing.devbroker import DevBroker
from tests.support.chromium import go
from tests.support.helpers import FakeClock, Office
from tests.web.conftest import WebServer, web_config
from tests.web.test_admin_desk import close_service
from tests.web.test_pages import log_in, shoot, text_of

AUDIT_ROWS = """
var rows = document.querySelectorAll("table.audit tbody tr");
return Array.from(rows, r => Array.from(r.cells, c => c.innerText));
"""


@pytest.fixture
def office_a_day_behind(tmp_path: Path, broker: DevBroker) -> Iterator[tuple[Office, WebServer]]:
    config = web_config(tmp_path, broker.port)
    office = Office(config, FakeClock(datetime.now(UTC) - timedelta(days=1))).start()
    server = WebServer(config).start()
    yield office, server
    server.stop()
    office.close()


def test_the_audit_page_merges_the_web_and_the_store_by_time(
    office_a_day_behind, chromium, tmp_path
):
    office, web = office_a_day_behind
    zone = web.config.office.timezone
    yesterday = business_day(office.clock(), zone)
    office.ok("admin", "counter_open", counter=4, user="tono")
    office.clock.set(datetime.now(UTC))
    today = business_day(office.clock(), zone)

    driver = chromium
    log_in(driver, web.url, "sri")
    close_service(driver, web.url, "B", "Printer rusak")
    office.clock.set(datetime.now(UTC))  # after the web wrote its row
    office.ok("admin", "counter_open", counter=3, user="budi")

    driver.delete_all_cookies()
    log_in(driver, web.url, "budi")
    go(driver, f"{web.url}/audit")
    assert f"{today}" in text_of(driver, "main h2")
    shown = [r[1:] for r in driver.execute_script(AUDIT_ROWS)]
    (web_row,) = web.users.audit_rows()
    command = web_row[4]
    assert shown == [
        ["budi", "admin", "counter_open", "3", "-", "ok", "layanan antrean"],
        ["sri", "web", "service_close", web_row[3], command, "ok", "web"],
        ["sri", "web", "service_close", "B: Printer rusak", "-", "ok", "layanan antrean"],
    ]
    times = [r[0] for r in driver.execute_script(AUDIT_ROWS)]
    assert times == sorted(times, reverse=True)
    assert all(t.startswith(str(today)) for t in times)  # office-local time of today
    shoot(driver, tmp_path, "audit")

    go(driver, f"{web.url}/audit?hari={yesterday}")
    shown = [r[1:] for r in driver.execute_script(AUDIT_ROWS)]
    assert shown == [["tono", "admin", "counter_open", "4", "-", "ok", "layanan antrean"]]

    go(driver, f"{web.url}/audit?hari=kemarin")
    assert "bukan tanggal" in text_of(driver, "[role=alert]")
    assert len(driver.execute_script(AUDIT_ROWS)) == 3  # today's, as without a day
