"""Headless Chromium (Debian's chromium and chromium-driver) through Selenium, for page tests."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",  # as root Chromium needs it
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def have_chromium() -> bool:
    return shutil.which("chromium") is not None and shutil.which("chromedriver") is not None


def open_chromium(profile: Path, width: int, height: int) -> Any:
    """A headless Chromium of this window size with its own profile folder."""
    from selenium import webdriver  # noqa: PLC0415 - only for the tests that open a page

    options = webdriver.ChromeOptions()
    for flag in (*CHROMIUM_FLAGS, f"--window-size={width},{height}", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.binary_location = shutil.which("chromium") or ""
    service = webdriver.ChromeService(executable_path=shutil.which("chromedriver"))
    return webdriver.Chrome(options=options, service=service)


def page_said(driver: Any) -> str:
    """Where the browser is and what it shows, for a failed wait's message."""
    try:
        text = driver.execute_script("return document.body ? document.body.innerText : ''")
    except Exception as err:  # a message for a failure, never a failure itself
        text = f"(page text unreadable: {err})"
    return f"at {driver.current_url} ({driver.title!r}), the page says:\n{str(text)[:1500]}"


def go(driver: Any, url: str, timeout: float = 10) -> None:
    """Opens `url` and waits until the browser shows it, loaded.

    `driver.get` issued while the page before is still loading (the dashboard
    right after the login's redirect) can return with the browser still on that
    page; a test then looks for the new page's buttons in vain. So: wait for the
    address and readyState, and ask once more if the first get did not take.
    """
    wanted = _where(url)
    for attempt in range(2):
        driver.get(url)
        deadline = time.monotonic() + timeout / 2
        while time.monotonic() < deadline:
            ready = driver.execute_script("return document.readyState") == "complete"
            if _where(driver.current_url) == wanted and ready:
                return
            time.sleep(0.05)
        if attempt:
            raise AssertionError(f"the browser did not open {url}: {page_said(driver)}")


def _where(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.path, parts.query
