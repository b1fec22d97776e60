"""The real web on a free loopback port, with the real queue service and broker behind it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from antrean.config import Config, parse_config
from antrean_testing.devbroker import DevBroker
from tests.service.test_booking import BOOKING
from tests.support.chromium import have_chromium, open_chromium
from tests.support.helpers import FakeClock, Office, example_text
from web.app import build_app
from web.cli import server_config
from web.live import OfficeLive
from web.settings import web_settings
from web.users import Users, WebRole

PASSWORD = "rahasia-123"
USERS = {"sri": WebRole.PETUGAS, "budi": WebRole.KEPALA, "tono": WebRole.TEKNISI}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class WebServer:
    """`antrean web`'s app served by uvicorn in a thread, as `antrean web` serves it."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.settings = web_settings(config)
        self.users = Users(self.settings.users_path)
        for name, role in USERS.items():
            self.users.add(name, role, PASSWORD)
        self.live = OfficeLive(config, self.settings.device).start()
        app = build_app(config, self.settings, self.live, self.users)
        self.app = app.state.web  # the WebApp: its phone-page counters
        s = self.settings
        self.server = uvicorn.Server(server_config(app, s.host, s.port, s, graceful_s=1))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"{self.settings.scheme}://127.0.0.1:{self.settings.port}"

    def start(self) -> WebServer:
        self.thread.start()
        end = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < end, "the web did not start"
            time.sleep(0.05)
        end = time.monotonic() + 10
        while not (self.live.queue_online and self.live.state("service/A")):
            assert time.monotonic() < end, "the web did not see the queue service"
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.live.stop()
        self.users.close()
        self.app.surveys.close()


def web_config(
    tmp_path: Path, broker_port: int, cards: bool = True, edit: dict[str, str] | None = None
) -> Config:
    text = example_text(broker_port, hours=False, cards=cards, edit=edit).replace(
        "port = 8080", f"port = {free_port()}"
    )
    # The same office as a file, for the command line tools the tests compare with.
    (tmp_path / "antrean.toml").write_text(text, encoding="utf-8")
    return parse_config(text, source="test.toml", base_dir=tmp_path)


@pytest.fixture
def web_office(tmp_path: Path, broker: DevBroker) -> Iterator[tuple[Office, WebServer]]:
    config = web_config(tmp_path, broker.port)
    office = Office(config, FakeClock()).start()
    server = WebServer(config).start()
    yield office, server
    server.stop()
    office.close()


# The booking office of the service's booking tests, with two mobile units.
DESK = BOOKING.replace(
    "[kiosk]", '[mobile]\nunits = { "keliling-1" = "K", "keliling-2" = "L" }\n\n[kiosk]'
)


@pytest.fixture
def desk_office(tmp_path: Path, broker: DevBroker) -> Iterator[tuple[Office, WebServer]]:
    """The web of an office with bookings and mobile units."""
    config = web_config(tmp_path, broker.port, edit={"[kiosk]\n": DESK})
    office = Office(config, FakeClock()).start()
    server = WebServer(config).start()
    yield office, server
    server.stop()
    office.close()


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[Any]:
    """A desktop-sized headless Chromium; tests resize it for the phone."""
    pytest.importorskip("selenium.webdriver")
    if not have_chromium():
        pytest.skip("chromium not installed")
    driver = open_chromium(tmp_path / "chromium", 1366, 768)
    yield driver
    driver.quit()
