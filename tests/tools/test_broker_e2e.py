"""The real queue service and real devices through the secured office broker.

The hub's queue service logs in on the loopback listener with the password
`antrean broker init` saved for it; the kiosk, counter and board log in over
TLS on the LAN listener with the passwords the technician was shown, each
kept in its unit's `[broker] password_file`.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from antrean.config import Config, parse_config
from antrean.device import DeviceLink
from antrean.runner import QueueServiceRunner
from antrean_tools.broker.local import SecuredBroker as HubBroker
from tests.support.broker_world import wait_for
from tests.support.helpers import FakeClock, example_text
from tests.support.mqtt5_probe import SUCCESS, Probe

R = "antrean/v1/gajahmungkur"
DEFAULT_BROKER = 'host = "127.0.0.1"\nport = 1883\n'


def unit_config(folder: Path, broker_toml: str) -> Config:
    """The office config as one unit has it: the shared TOML with its own [broker]."""
    text = example_text(hours=True, edit={DEFAULT_BROKER: broker_toml})
    folder.mkdir(parents=True, exist_ok=True)
    return parse_config(text, source=str(folder / "antrean.toml"), base_dir=folder)


class SecuredOffice:
    def __init__(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="antrean-e2e-"))
        # kiosk-1 runs on the hub too (`init --local kiosk-1`): loopback, saved password.
        self.hub = HubBroker(unit_config(self.tmp / "hub", DEFAULT_BROKER), ("kiosk-1",))
        self.hub.start()
        clients = self.hub.files.clients
        # The hub: loopback, no TLS, its own saved password.
        hub_broker = (
            f'host = "127.0.0.1"\nport = {self.hub.local_port}\n'
            f'password_file = "{clients}/{{user}}.password"\n'
        )
        self.hub_config = unit_config(self.tmp / "hub", hub_broker)
        self.runner = QueueServiceRunner(self.hub_config, FakeClock()).start()
        assert self.runner.mqtt.wait_connected(10)
        self.links: list[DeviceLink] = []

    def device(self, device: str, role: str, **handlers: Any) -> DeviceLink:
        """A device on another unit: TLS to the hub, its password in its own file."""
        unit = self.tmp / device
        secrets = unit / "broker" / "clients"
        secrets.mkdir(parents=True)
        (secrets / f"{device}.password").write_text(self.hub.password(device) + "\n")
        (unit / "broker" / "ca.crt").write_bytes(self.hub.files.ca_cert.read_bytes())
        lan = (
            f'host = "localhost"\nport = {self.hub.lan_port}\n'
            'tls_ca = "broker/ca.crt"\npassword_file = "broker/clients/{user}.password"\n'
        )
        link = DeviceLink(unit_config(unit, lan), device, role, **handlers).start()
        self.links.append(link)
        wait_for(lambda: link.queue_online, 10, f"{device} to see the queue service")
        return link

    def close(self) -> None:
        for link in self.links:
            link.stop()
        self.runner.stop()
        self.hub.cleanup()


@pytest.fixture
def office() -> Iterator[SecuredOffice]:
    o = SecuredOffice()
    yield o
    o.close()


def test_a_ticket_is_issued_called_and_shown_through_the_secured_broker(
    office: SecuredOffice,
) -> None:
    events: list[dict[str, Any]] = []
    board = office.device("board-1", "board", on_event=events.append)
    kiosk = office.device("kiosk-1", "kiosk")
    counter = office.device("counter-1", "counter")
    # An admin tool listening for other devices' replies hears nothing.
    snoop = Probe(office.hub.lan("admin"), "admin")
    assert snoop.connect() == SUCCESS
    assert snoop.subscribe(f"{R}/reply/#") == 0x01
    try:
        issued = kiosk.request("issue", {"service": "A"})
        assert issued.ok, issued
        assert issued.ticket_code == "A001"
        called = counter.request("call_next")
        assert called.ok, called
        assert called.ticket_code == "A001"
        wait_for(lambda: any(e["kind"] == "called" for e in events), 5, "the board's call")
        call = next(e for e in events if e["kind"] == "called")
        assert call["ticket"]["code"] == "A001"
        assert call["ticket"]["counter"] == 1
        wait_for(lambda: (board.state("counter/1") or {}).get("current"), 5, "counter 1's state")
        assert board.state("counter/1")["current"]["code"] == "A001"  # type: ignore[index]
        # The service still checks roles itself: the kiosk may send, but not call.
        refused = kiosk.request("call_next", {"counter": 1})
        assert refused.code == "forbidden"
        time.sleep(0.2)
        assert snoop.messages() == []
    finally:
        snoop.close()


def test_a_board_cannot_send_commands_at_all(office: SecuredOffice) -> None:
    board = office.device("board-1", "board")
    wait_for(lambda: board.state("office") is not None, 5, "the retained state")
    # A board only shows: its command never reaches the service, and no answer comes.
    answers: list[Any] = []
    board.send("snapshot", on_reply=answers.append, timeout=1.0)
    wait_for(lambda: answers == [None], 3, "the board's command to time out")


def test_the_hub_config_serves_the_queue_service_and_a_kiosk_on_the_hub(
    office: SecuredOffice,
) -> None:
    kiosk = DeviceLink(office.hub_config, "kiosk-1", "kiosk").start()
    office.links.append(kiosk)
    wait_for(lambda: kiosk.queue_online, 10, "the hub's kiosk to see the queue service")
    assert office.hub_config.broker.login("kiosk-1") == (
        "kiosk-1",
        office.hub.files.client_password("kiosk-1").read_text().strip(),
    )
    issued = kiosk.request("issue", {"service": "B"})
    assert issued.ticket_code == "B001"


def test_doctor_on_a_secured_unit_checks_tls_and_logs_in_only_when_asked(
    office: SecuredOffice,
) -> None:
    from antrean_tools.doctor import Doctor  # noqa: PLC0415 - only this test needs it

    kiosk = office.device("kiosk-1", "kiosk")  # the unit's own device, connected
    unit = office.tmp / "kiosk-1" / "antrean.toml"
    unit.write_text(kiosk.config.text, encoding="utf-8")

    def results(**options: Any) -> dict[str, tuple[str, str]]:
        doctor = Doctor(config_file=unit, timeout=3, **options)
        assert doctor.check_config().status == "OK"
        return {r.name: (r.status, r.detail) for r in doctor.check_broker_and_queue()}

    quiet = results()
    assert quiet["tls"][0] == "OK"
    assert quiet["broker"][0] == "OK"
    assert quiet["queue"][0] == "WARN"  # not checked without a login
    assert kiosk.connected  # and the kiosk was never disconnected

    asked = results(login_as="kiosk-1")
    assert asked["queue"] == ("OK", "queue service online (version 0.1.0)")
    wait_for(lambda: kiosk.queue_online, 10, "the kiosk back after the doctor's login")

    (office.tmp / "kiosk-1" / "broker" / "ca.crt").write_text("not a certificate\n")
    broken = results()
    assert broken["broker"][0] == "FAIL"
    assert "TLS failed" in broken["broker"][1]
