"""The HTML report in a real browser: headless Chromium shows its charts, offline.

A month of a busy office is built the way the benchmark does (the real
engine into a real store, 100 tickets a day), `antrean report --month
--html` writes the page, and Chromium opens it from a file with the network
off. Set ANTREAN_SCREENSHOTS=docs/screenshots to keep the screenshot.
"""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import pytest

from antrean_tools.cli import main
from bench.bench_report import build
from tests.support.chromium import have_chromium, open_chromium

pytest.importorskip("selenium.webdriver")


@pytest.mark.skipif(not have_chromium(), reason="chromium not installed")
def test_the_html_report_shows_its_charts_in_chromium(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, tickets, _calls = build(tmp_path, 100, random.Random(14))
    office_file = tmp_path / "antrean.toml"
    office_file.write_text(config.text, encoding="utf-8")
    capsys.readouterr()
    assert main(["report", "--config", str(office_file), "--month", "2026-11", "--html"]) == 0
    page = tmp_path / "report.html"
    page.write_text(capsys.readouterr().out, encoding="utf-8")

    driver = open_chromium(tmp_path / "chromium", 1240, 1754)  # A4 at 150 dpi
    try:
        driver.get(page.as_uri())
        assert driver.title.startswith("Laporan Kecamatan Gajahmungkur")
        charts = driver.find_elements("css selector", "svg.chart")
        assert len(charts) >= 3
        for chart in charts:
            assert chart.size["width"] > 100
            assert chart.size["height"] > 50
            assert chart.find_elements("css selector", "rect")
        # The KPI of tickets issued is the month's count.
        first = driver.find_element("css selector", ".kpi b").text
        assert first == str(tickets)
        # Nothing was fetched: every resource is the page itself.
        fetched = driver.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)"
        )
        assert fetched == []
        shot = tmp_path / "report-month.png"
        driver.save_screenshot(str(shot))
        assert shot.stat().st_size > 20_000
        keep = os.environ.get("ANTREAN_SCREENSHOTS")
        if keep:
            shutil.copy(shot, Path(keep) / "report-month.png")
    finally:
        driver.quit()
