"""The reports page in a real browser: its numbers are `antrean report --json`'s for the same days.

The day is played through the real queue service (kiosk issues, counters
call, complete and skip) and read back by the web from the store, read-only.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from antrean_tools.cli import main
from antrean_tools.report_cli import duration
from tests.support.chromium import go
from tests.web.conftest import PASSWORD
from tests.web.http_client import Client
from tests.web.test_pages import log_in, shoot, text_of

DAY = "2026-11-26"  # the FakeClock's business day


def play_morning(office: Any) -> None:
    """Seven tickets, three served, one no-show, one cancelled, with waits of minutes."""
    office.ok("admin", "stock_receive", count=20, note="SJ-1")  # B prints a card
    for service in ("A", "A", "B", "C", "A", "B", "D"):
        office.ok("kiosk-1", "issue", service=service)
        office.clock.advance(seconds=30)
    for counter in (1, 2, 3):
        office.clock.advance(seconds=200)
        office.ok(f"counter-{counter}", "call_next")
    office.clock.advance(seconds=300)
    office.ok("counter-1", "complete")
    office.ok("counter-2", "no_show")
    office.clock.advance(seconds=120)
    office.ok("counter-3", "complete")
    office.ok("counter-1", "call_next")
    office.clock.advance(seconds=400)
    office.ok("counter-1", "complete")
    office.ok("admin", "cancel", code="D001")


def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    assert main(["report", "--config", str(tmp_path / "antrean.toml"), *args]) == 0
    return capsys.readouterr().out


def page_figures(driver: Any) -> dict[str, dict[str, str]]:
    """Every row of the page's figure tables: "service:A" -> field -> the text shown."""
    rows = driver.execute_script(
        """var out = {};
        document.querySelectorAll('tr.fig').forEach(function (tr) {
          var row = {};
          tr.querySelectorAll('[data-f]').forEach(function (td) {
            row[td.dataset.f] = td.innerText;
          });
          out[tr.dataset.key] = row;
        });
        return out;"""
    )
    return dict(rows)


def expected_row(group: dict[str, Any]) -> dict[str, str]:
    """What the page must show for one group of the JSON."""
    row = {k: str(group[k]) for k in ("issued", "served", "no_shows", "cancelled", "open")}
    row["recalls"] = str(group["recalls"])
    for spread in ("wait", "service"):
        for k in ("median", "p90"):
            row[f"{spread}.{k}"] = duration(group[spread][k])
    return row


def test_the_reports_page_shows_what_antrean_report_says(web_office, chromium, tmp_path, capsys):
    office, web = web_office
    play_morning(office)
    printed = json.loads(cli(tmp_path, capsys, "--day", DAY, "--json"))
    total = printed["groups"]["total"][""]
    assert (total["issued"], total["served"], total["no_shows"]) == (7, 3, 1)
    driver = chromium
    log_in(driver, web.url, "budi")  # kepala
    go(driver, f"{web.url}/laporan?hari={DAY}")
    shown = page_figures(driver)
    for dim in ("service", "counter"):
        for key, group in printed["groups"][dim].items():
            assert shown[f"{dim}:{key}"] == expected_row(group), (dim, key)
    assert text_of(driver, "#k-issued") == "7"
    assert text_of(driver, "#k-served") == "3"
    assert text_of(driver, "#k-wait") == duration(total["wait"]["median"])
    assert driver.execute_script("return document.querySelectorAll('svg.chart').length") >= 2
    shoot(driver, tmp_path, "reports")

    # A month and a range give the same figures here (the only day with tickets).
    for query in ("bulan=2026-11", "dari=2026-11-20&sampai=2026-11-30"):
        go(driver, f"{web.url}/laporan?{query}")
        assert page_figures(driver)["service:A"] == expected_row(printed["groups"]["service"]["A"])
    month = json.loads(cli(tmp_path, capsys, "--month", "2026-11", "--json"))
    assert month["groups"]["service"] == printed["groups"]["service"]

    # The print view is report_html's A4 page, with its own inline style allowed.
    go(driver, f"{web.url}/laporan/cetak?hari={DAY}")
    assert "Laporan antrean" in text_of(driver, "h1")
    assert driver.execute_script("return getComputedStyle(document.body).margin") == "16px"
    shoot(driver, tmp_path, "reports-print")


def test_the_csv_download_is_antrean_report_csv(web_office, tmp_path, capsys):
    office, web = web_office
    play_morning(office)
    client = Client(web.url)
    assert client.login("budi", PASSWORD) == 303
    status, headers, body = client.get(f"/laporan.csv?hari={DAY}")
    assert status == 200
    assert headers["content-type"].startswith("text/csv")
    assert f"laporan-gajahmungkur-{DAY}-{DAY}.csv" in headers["content-disposition"]
    assert body == cli(tmp_path, capsys, "--day", DAY, "--csv")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0][:3] == ["dimension", "key", "issued"]


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("hari=kemarin", "bukan tanggal"),
        ("dari=2026-11-20", "Isi tanggal awal dan tanggal akhir"),
        ("dari=2026-11-20&sampai=2026-11-01", "sebelum tanggal awal"),
        ("dari=2020-01-01&sampai=2026-11-01", "paling panjang 366 hari"),
        ("bulan=2026-13", "bukan tanggal"),
    ],
)
def test_a_bad_period_says_why(web_office, query, words):
    _office, web = web_office
    client = Client(web.url)
    assert client.login("budi", PASSWORD) == 303
    status, _h, body = client.get(f"/laporan?{query}")
    assert status == 400
    assert words in body


def test_reports_are_for_the_head_and_staff_only(web_office):
    _office, web = web_office
    anonymous = Client(web.url)
    status, headers, _b = anonymous.get(f"/laporan.csv?hari={DAY}")
    assert status == 303
    assert headers["location"].startswith("/masuk")
    tech = Client(web.url)
    assert tech.login("tono", PASSWORD) == 303
    assert tech.get(f"/laporan?hari={DAY}")[0] == 403
