"""The tap -> issue -> print logic without a window, over a real broker and queue service.

The lost-message cases put a small relay between the controller and its real
DeviceLink that drops one publish or one reply, the way a flaky Wi-Fi would.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from antrean.config import Config
from antrean.device import DeviceLink, Reply, ReplyHandler
from kiosk.controller import (
    IssueResult,
    Offline,
    Printed,
    PrinterBlocked,
    PrintFailed,
    TicketController,
    Unanswered,
)
from kiosk.printer.sim import SimPrinter
from tests.support.helpers import FakeClock, Office


class LossyLink:
    """A real DeviceLink whose first `drop_sends` commands and `drop_replies` replies vanish.

    It sits under the link's own request path (DeviceLink.request sends through
    `send`), so the resending being tested is the DeviceLink's, not a copy.
    """

    def __init__(self, link: DeviceLink, drop_sends: int = 0, drop_replies: int = 0) -> None:
        self.link = link
        self.device_id = link.device_id
        self.drop_sends = drop_sends
        self.drop_replies = drop_replies
        self.sent_ids: list[str] = []
        self._send = link.send
        link.send = self.send  # type: ignore[method-assign]

    def new_id(self) -> str:
        return self.link.new_id()

    def set_health(self, **fields: Any) -> None:
        self.link.set_health(**fields)

    def request(self, *args: Any, **kwargs: Any) -> Reply:
        return self.link.request(*args, **kwargs)

    def send(
        self,
        action: str,
        args: dict[str, Any] | None = None,
        on_reply: ReplyHandler | None = None,
        timeout: float = 5.0,
        cmd_id: str | None = None,
    ) -> str:
        assert cmd_id is not None
        self.sent_ids.append(cmd_id)
        if self.drop_sends:
            self.drop_sends -= 1
            return cmd_id  # lost on the way: the service never sees it
        handler = on_reply or (lambda _r: None)

        def maybe_drop(reply: Reply | None) -> None:
            if reply is not None and self.drop_replies:
                self.drop_replies -= 1
                return  # the service answered (and committed) but the answer is lost
            handler(reply)

        return self._send(action, args, maybe_drop, timeout, cmd_id)


@pytest.fixture
def link(config: Config, office: Office) -> Iterator[DeviceLink]:
    dev = DeviceLink(config, "kiosk-1", "kiosk").start()
    deadline = time.monotonic() + 10
    while not dev.queue_online:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    yield dev
    dev.stop()


def make(
    link: Any, config: Config, tmp_path: Path, clock: FakeClock, timeout_s: float = 0.5
) -> tuple[TicketController, SimPrinter, list[IssueResult], threading.Event]:
    printer = SimPrinter(80, tmp_path / "tickets")
    outcomes: list[IssueResult] = []
    done = threading.Event()

    def keep(outcome: IssueResult) -> None:
        outcomes.append(outcome)
        done.set()

    controller = TicketController(
        link,
        printer,
        config.office.name,
        config.office.timezone,
        {s.code: s.name for s in config.services},
        keep,
        timeout_s=timeout_s,
        attempts=3,
        now=clock,
    )
    return controller, printer, outcomes, done


def issued(office: Office, code: str) -> int:
    services = office.ok("admin", "snapshot")["services"]
    return int(next(s for s in services if s["code"] == code)["issued"])


def test_a_lost_command_is_sent_again_with_the_same_id(
    link: DeviceLink, config: Config, office: Office, tmp_path: Path, clock: FakeClock
) -> None:
    lossy = LossyLink(link, drop_sends=1)
    controller, printer, outcomes, done = make(lossy, config, tmp_path, clock)
    try:
        assert controller.take("A")
        assert done.wait(10)
    finally:
        controller.close()
    assert isinstance(outcomes[0], Printed)
    assert outcomes[0].ticket.code == "A001"
    assert len(lossy.sent_ids) == 2
    assert len(set(lossy.sent_ids)) == 1  # the same command id both times
    assert issued(office, "A") == 1
    assert b"A001" in printer.jobs[0].data


def test_a_lost_reply_recovers_the_number_already_issued_not_a_second_one(
    link: DeviceLink, config: Config, office: Office, tmp_path: Path, clock: FakeClock
) -> None:
    lossy = LossyLink(link, drop_replies=1)
    controller, printer, outcomes, done = make(lossy, config, tmp_path, clock)
    try:
        assert controller.take("C")
        assert done.wait(10)
    finally:
        controller.close()
    assert isinstance(outcomes[0], Printed)
    assert outcomes[0].ticket.code == "C001"
    assert len(lossy.sent_ids) == 2
    assert issued(office, "C") == 1  # issued once, answered on the repeat
    assert len(printer.jobs) == 1


def test_no_answer_at_all_says_so_and_reports_it(
    link: DeviceLink, config: Config, office: Office, tmp_path: Path, clock: FakeClock
) -> None:
    lossy = LossyLink(link, drop_sends=3)
    controller, printer, outcomes, done = make(lossy, config, tmp_path, clock, timeout_s=0.2)
    try:
        assert controller.take("A")
        assert done.wait(10)
    finally:
        controller.close()
    assert outcomes == [Unanswered(3)]
    assert printer.jobs == []
    assert issued(office, "A") == 0
    assert link.health["problem"]["code"] == "no_answer"


def test_without_a_broker_nothing_is_sent_and_nothing_is_sent_later(
    link: DeviceLink,
    config: Config,
    office: Office,
    broker: Any,
    tmp_path: Path,
    clock: FakeClock,
) -> None:
    controller, printer, outcomes, done = make(link, config, tmp_path, clock)
    broker.stop()
    deadline = time.monotonic() + 10
    while link.connected:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    try:
        assert controller.take("A")
        assert done.wait(10)
        assert outcomes == [Offline()]
        broker.start()
        deadline = time.monotonic() + 20
        while not link.queue_online:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.5)
        assert issued(office, "A") == 0  # the press did not fire after the reconnect
    finally:
        controller.close()
    assert printer.jobs == []


def test_a_second_take_while_one_is_under_way_is_refused(
    link: DeviceLink, config: Config, office: Office, tmp_path: Path, clock: FakeClock
) -> None:
    controller, printer, outcomes, done = make(link, config, tmp_path, clock)
    printer.set_faults(slow_s=0.5)
    try:
        assert controller.take("A")
        assert not controller.take("A")
        assert not controller.reprint()
        assert done.wait(10)
    finally:
        controller.close()
    assert len(outcomes) == 1
    assert issued(office, "A") == 1


def test_a_refusal_from_the_queue_is_passed_on_without_printing(
    link: DeviceLink, config: Config, office: Office, tmp_path: Path, clock: FakeClock
) -> None:
    office.ok("admin", "service_close", service="B", reason="Blanko KTP-el habis")
    controller, printer, outcomes, done = make(link, config, tmp_path, clock)
    try:
        assert controller.take("B")
        assert done.wait(10)
    finally:
        controller.close()
    refused = outcomes[0]
    assert refused.code == "service_closed"  # type: ignore[union-attr]
    assert refused.message == "Blanko KTP-el habis"  # type: ignore[union-attr]
    assert printer.jobs == []


def test_an_unknown_printer_issues_by_default_and_not_when_told_to_refuse(
    link: DeviceLink, config: Config, office: Office, tmp_path: Path, clock: FakeClock
) -> None:
    """The file driver cannot read its status back: `unknown`, reported as such."""
    from kiosk.printer import PrinterStatus, open_printer  # noqa: PLC0415
    from kiosk.printer.registry import PrinterSettings  # noqa: PLC0415

    lp0 = tmp_path / "lp0"
    controller, _sim, outcomes, done = make(link, config, tmp_path, clock)
    controller.printer = open_printer(PrinterSettings("file", options=lp0))
    try:
        assert controller.take("A")
        assert done.wait(10)
        assert isinstance(outcomes[-1], Printed)
        assert b"A001" in lp0.read_bytes()
        assert link.health["printer"] == "unknown"
        done.clear()
        controller.issue_on_unknown = False
        assert controller.take("A")
        assert done.wait(10)
    finally:
        controller.close()
    assert outcomes[-1] == PrinterBlocked(PrinterStatus.UNKNOWN)
    assert issued(office, "A") == 1


def take_one(controller: TicketController, done: threading.Event, service: str) -> None:
    done.clear()
    assert controller.take(service)
    assert done.wait(15)


def test_an_unanswered_issue_is_resent_by_the_next_tap_on_the_same_service(
    link: DeviceLink, config: Config, office: Office, tmp_path: Path, clock: FakeClock
) -> None:
    # The service commits each send's answer (the same number), but every reply is lost.
    lossy = LossyLink(link, drop_replies=3)
    controller, printer, outcomes, done = make(lossy, config, tmp_path, clock)
    try:
        take_one(controller, done, "A")
        assert outcomes[-1] == Unanswered(3)  # "touch the same service again"
        take_one(controller, done, "A")  # replies flow again
    finally:
        controller.close()
    assert isinstance(outcomes[-1], Printed)
    assert outcomes[-1].ticket.code == "A001"  # the number the first tap made
    assert len(set(lossy.sent_ids)) == 1
    assert issued(office, "A") == 1
    assert len(printer.jobs) == 1


def test_an_unanswered_issue_of_another_service_is_reported_to_staff(
    link: DeviceLink, config: Config, office: Office, tmp_path: Path, clock: FakeClock
) -> None:
    lossy = LossyLink(link, drop_replies=3)
    controller, _printer, outcomes, done = make(lossy, config, tmp_path, clock)
    try:
        take_one(controller, done, "A")
        assert outcomes[-1] == Unanswered(3)
        take_one(controller, done, "C")
    finally:
        controller.close()
    assert isinstance(outcomes[-1], Printed)
    assert outcomes[-1].ticket.code == "C001"
    assert issued(office, "A") == 1
    assert link.health["problem"]["code"] == "orphan_ticket"
    assert link.health["problem"]["ticket"] == "A001"


class PaperRunsOut(SimPrinter):
    """Takes the ticket's bytes, then reports paper out (a buffering printer)."""

    def print_ticket(self, data: bytes) -> None:
        super().print_ticket(data)
        self.set_faults(paper_out=True)


class PreviewFails(SimPrinter):
    def print_ticket(self, data: bytes) -> None:
        super().print_ticket(data)
        raise OSError(28, "No space left on device")


@pytest.mark.parametrize("printer_class", [PaperRunsOut, PreviewFails])
def test_an_issued_number_that_may_not_have_printed_goes_to_trouble(
    link: DeviceLink,
    config: Config,
    office: Office,
    tmp_path: Path,
    clock: FakeClock,
    printer_class: type[SimPrinter],
) -> None:
    controller, _sim, outcomes, done = make(link, config, tmp_path, clock)
    controller.printer = printer_class(80, tmp_path / "tickets")
    try:
        take_one(controller, done, "B")
    finally:
        controller.close()
    assert isinstance(outcomes[-1], PrintFailed)  # the Trouble screen keeps the number
    assert outcomes[-1].ticket.code == "B001"
    assert link.health["problem"]["code"] == "print_failed"


def test_a_network_printer_that_goes_away_gets_no_number_and_is_ok_soon_after_it_is_back(
    link: DeviceLink, config: Config, office: Office, tmp_path: Path, clock: FakeClock
) -> None:
    """EOF from the printer's socket is a dead link: offline, not "unknown, issue anyway"."""
    from kiosk.printer import PrinterStatus, open_printer  # noqa: PLC0415
    from kiosk.printer.drivers.network import NetworkSettings  # noqa: PLC0415
    from kiosk.printer.registry import PrinterSettings  # noqa: PLC0415
    from kiosk.printer.sim_line import LinePrinter  # noqa: PLC0415

    fake = LinePrinter(lambda n: b"\x12").on_tcp()  # a printer that is fine (DLE EOT 1-4)
    controller, _sim, outcomes, done = make(link, config, tmp_path, clock)
    controller.printer = open_printer(
        PrinterSettings("network", timeout_s=1.0, options=NetworkSettings("127.0.0.1", fake.port))
    )
    try:
        take_one(controller, done, "A")
        assert isinstance(outcomes[-1], Printed)
        controller.start_polling()  # the kiosk app's polling, at its own intervals
        fake.vanish()
        take_one(controller, done, "A")
        assert outcomes[-1] == PrinterBlocked(PrinterStatus.OFFLINE)
        assert issued(office, "A") == 1  # no number for a ticket that cannot print
        assert link.health["printer"] == "offline"
        fake.back()
        back = time.monotonic()
        while controller.printer_status is not PrinterStatus.OK:
            assert time.monotonic() - back < 5, "the printer is back but the kiosk did not see it"
            time.sleep(0.05)
        take_one(controller, done, "A")
    finally:
        controller.close()
        fake.close()
    assert isinstance(outcomes[-1], Printed)
    assert outcomes[-1].ticket.code == "A002"
    assert b"A002" in bytes(fake.received)
