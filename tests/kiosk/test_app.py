"""The kiosk app in a real Kivy window, against a real Mosquitto and queue service.

Touches go through Kivy's touch events; the printer is the simulator, whose
bytes are decoded back to check what a resident would hold.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kivy.clock import Clock
from kivy.tests.common import UnitTestTouch

from antrean.config import Config
from antrean_testing.devbroker import DevBroker
from kiosk.app import NUMBER_GUARD, KioskApp
from kiosk.controller import Printed, PrinterBlocked, PrintFailed
from kiosk.printer.escpos_decode import decode
from kiosk.printer.sim import SimPrinter
from kiosk.settings import kiosk_settings
from tests.support.helpers import FakeClock, Office
from tests.support.kivy_harness import (
    find_text,
    keep_tapping,
    pump,
    pump_until,
    start_app,
    stop_app,
    tap,
)
from tests.support.mqtt_watch import Watcher

STATUS = "antrean/v1/gajahmungkur/device/kiosk-1/status"
STAFF_PIN = "2468"  # the example config's


@pytest.fixture
def printer(tmp_path: Path) -> SimPrinter:
    return SimPrinter(80, tmp_path / "tickets")


@pytest.fixture
def kiosk(
    config: Config, office: Office, clock: FakeClock, printer: SimPrinter
) -> Iterator[KioskApp]:
    app = KioskApp(config, kiosk_settings(config), printer=printer, now=clock)
    start_app(app, (800, 480))
    try:
        wait_home_ready(app)
        yield app
    finally:
        stop_app(app)


def wait_home_ready(app: KioskApp, service: str = "A", timeout: float = 15) -> None:
    pump_until(
        lambda: (
            app.screens.current == "home"
            and service in app.home.service_buttons
            and not app.home.service_buttons[service].disabled
        ),
        timeout,
        f"service {service} offered on Home",
    )


def service_state(office: Office, code: str) -> dict[str, Any]:
    snapshot = office.ok("admin", "snapshot")
    return next(s for s in snapshot["services"] if s["code"] == code)


def wait_message(app: KioskApp, key: str, timeout: float = 10) -> None:
    pump_until(lambda: key in app.message.labels or key in app.message.buttons, timeout, key)


def test_a_tap_issues_a_ticket_and_prints_its_bytes(
    kiosk: KioskApp, printer: SimPrinter, office: Office, config: Config
) -> None:
    tap(kiosk.home.service_buttons["A"])
    wait_message(kiosk, "take")
    assert kiosk.message.labels["number"].text == "[b]A001[/b]"
    job = printer.last
    assert job is not None
    assert job.complete
    assert b"A001" in job.data
    assert b"Perekaman KTP-el" in job.data
    assert b"\x1d(k" in job.data  # GS ( k: the QR code
    printed = decode(job.data)
    # The QR opens the ticket's phone page: [web] public_url and the ticket's token.
    [qr] = printed.qr_codes
    base = "http://127.0.0.1:8080/t/"
    assert qr.startswith(base)
    token = qr[len(base) :]
    [public] = office.ok("web", "tickets_by_token", tokens=[token])["tickets"]
    assert public["code"] == "A001"
    assert "Kecamatan Gajahmungkur" in printed.lines
    assert "Pukul 09.00 WIB" in printed.lines
    assert "Harap menunggu panggilan" in printed.lines
    assert printed.cut
    assert job.preview is not None
    assert job.preview.exists()
    assert service_state(office, "A")["issued"] == 1
    watch = Watcher(config.broker, STATUS).start()
    try:
        watch.wait_for(lambda _t, s: s.get("last_ticket") == "A001" and s["printer"] == "ok")
    finally:
        watch.stop()


def test_a_double_tap_and_a_bouncing_touch_give_one_ticket(
    kiosk: KioskApp, printer: SimPrinter, office: Office
) -> None:
    button = kiosk.home.service_buttons["C"]
    tap(button, hold=0.01)
    tap(button, hold=0.01)  # the same spot again at once: a bounce
    kiosk.take("C")  # and a third release that reaches the handler directly
    wait_message(kiosk, "take")
    pump(0.5)
    assert len(printer.jobs) == 1
    assert service_state(office, "C")["issued"] == 1
    assert [type(o) for o in kiosk.outcomes] == [Printed]


def test_the_done_screen_ignores_a_bounce_then_returns_home_on_a_tap(kiosk: KioskApp) -> None:
    tap(kiosk.home.service_buttons["A"])
    wait_message(kiosk, "take")
    tap(kiosk.message.labels["number"])
    pump(0.2)
    assert kiosk.screens.current == "message"
    pump(NUMBER_GUARD.after_shown_s)
    tap(kiosk.message.labels["number"])
    pump_until(lambda: kiosk.screens.current == "home", what="back home")


def test_a_touch_that_went_down_before_the_done_screen_does_not_close_it(
    kiosk: KioskApp, printer: SimPrinter
) -> None:
    printer.set_faults(slow_s=0.5)
    tap(kiosk.home.service_buttons["A"])
    x, y = kiosk.message.to_window(*kiosk.message.center)
    finger = UnitTestTouch(x, y)
    finger.touch_down()  # on "Mencetak tiket...", held while the ticket prints
    wait_message(kiosk, "take")
    pump(NUMBER_GUARD.after_shown_s + NUMBER_GUARD.quiet_s)
    finger.touch_up()  # lifted on the Done screen, long after it appeared
    pump(0.3)
    assert kiosk.screens.current == "message"
    assert kiosk.message.labels["number"].text == "[b]A001[/b]"
    tap(kiosk.message.labels["number"])  # a touch of its own, after a pause, closes it
    pump_until(lambda: kiosk.screens.current == "home", what="back home")


def test_paper_out_before_the_tap_issues_no_number_and_reports_it(
    kiosk: KioskApp, printer: SimPrinter, office: Office, config: Config
) -> None:
    printer.set_faults(paper_out=True)
    tap(kiosk.home.service_buttons["A"])
    wait_message(kiosk, "title")
    pump_until(lambda: kiosk.outcomes, what="an outcome")
    assert kiosk.outcomes == [PrinterBlocked(kiosk.printer_status)]
    assert find_text(kiosk.message, "Printer tiket sedang bermasalah")
    assert service_state(office, "A")["issued"] == 0
    assert printer.complete_jobs() == []
    watch = Watcher(config.broker, STATUS).start()
    try:
        _, status = watch.wait_for(lambda _t, s: s.get("printer") == "paper_out")
        assert status["problem"]["code"] == "printer_blocked"
    finally:
        watch.stop()
    kiosk.go_home()
    pump(0.2)
    assert kiosk.home.service_buttons["A"].disabled  # Home says so too, until the paper is in
    assert find_text(kiosk.home, "Printer tiket sedang bermasalah")
    printer.set_faults(paper_out=False)
    kiosk.controller.poll_printer()
    wait_home_ready(kiosk)


@pytest.mark.parametrize("fault", ["offline", "cover_open"])
def test_an_offline_or_open_printer_issues_no_number_and_home_says_so(
    kiosk: KioskApp, printer: SimPrinter, office: Office, fault: str
) -> None:
    printer.set_faults(**{fault: True})
    tap(kiosk.home.service_buttons["D"])
    pump_until(lambda: kiosk.outcomes, what="an outcome")
    assert isinstance(kiosk.outcomes[0], PrinterBlocked)
    assert kiosk.outcomes[0].status.value == fault
    assert kiosk.link.health["printer"] == fault
    assert service_state(office, "D")["issued"] == 0
    kiosk.go_home()
    pump(0.2)
    assert kiosk.home.service_buttons["D"].disabled
    assert find_text(kiosk.home, "Printer tiket sedang bermasalah")


def test_a_ticket_failing_half_way_shows_trouble_with_the_number_and_reprints(
    kiosk: KioskApp, printer: SimPrinter, office: Office, config: Config
) -> None:
    printer.set_faults(fail_mid=1)
    tap(kiosk.home.service_buttons["A"])
    wait_message(kiosk, "reprint")
    assert isinstance(kiosk.outcomes[0], PrintFailed)
    assert kiosk.message.labels["number"].text == "[b]A001[/b]"
    assert find_text(kiosk.message, "Foto atau catat nomor ini")
    half = printer.jobs[0]
    assert not half.complete
    stopped = decode(half.data)  # the first half came out: no QR code, no cut
    assert stopped.qr_codes == []
    assert not stopped.cut
    watch = Watcher(config.broker, STATUS).start()
    try:
        _, status = watch.wait_for(lambda _t, s: (s.get("problem") or {}).get("ticket") == "A001")
        assert status["problem"]["code"] == "print_failed"
    finally:
        watch.stop()
    pump(NUMBER_GUARD.after_shown_s)  # the screen with the number ignores touches at first
    tap(kiosk.message.buttons["reprint"])
    wait_message(kiosk, "take")
    assert printer.jobs[-1].complete
    assert b"A001" in printer.jobs[-1].data
    assert service_state(office, "A")["issued"] == 1  # a reprint asks the queue for nothing


def test_a_slow_printer_never_freezes_the_screen(kiosk: KioskApp, printer: SimPrinter) -> None:
    printer.set_faults(slow_s=1.5)
    frames = Clock.frames
    tap(kiosk.home.service_buttons["A"])
    assert kiosk.screens.current == "message"  # "Mencetak tiket..." at once
    assert find_text(kiosk.message, "Mencetak tiket")
    pump(1.0)
    assert kiosk.outcomes == []  # still printing, and Kivy kept drawing frames meanwhile
    assert Clock.frames - frames > 20
    wait_message(kiosk, "take")


def test_a_lost_broker_disables_the_buttons_calmly_and_the_kiosk_recovers(
    kiosk: KioskApp, broker: DevBroker, office: Office
) -> None:
    broker.stop()
    pump_until(lambda: bool(find_text(kiosk.home, "Sedang menyambung")), 10, "calm message")
    assert all(b.disabled for b in kiosk.home.service_buttons.values())
    kiosk.take("A")  # a press that reaches the handler anyway sends nothing
    pump(0.5)
    broker.start()
    wait_home_ready(kiosk, timeout=30)
    assert not find_text(kiosk.home, "Sedang menyambung")
    assert service_state(office, "A")["issued"] == 0


def test_a_stopped_queue_service_disables_the_buttons_until_it_is_back(
    kiosk: KioskApp, office: Office, printer: SimPrinter
) -> None:
    office.stop()
    pump_until(lambda: bool(find_text(kiosk.home, "Sedang menyambung")), 10, "calm message")
    assert all(b.disabled for b in kiosk.home.service_buttons.values())
    assert kiosk.home.priority_button.disabled
    office.start()
    wait_home_ready(kiosk, timeout=20)
    tap(kiosk.home.service_buttons["A"])
    wait_message(kiosk, "take")
    assert b"A001" in printer.jobs[-1].data


def test_a_closed_service_stays_visible_greyed_with_its_reason(
    kiosk: KioskApp, office: Office
) -> None:
    office.ok("admin", "service_close", service="B", reason="Blanko KTP-el habis")
    pump_until(lambda: "Blanko KTP-el habis" in kiosk.home.service_buttons["B"].text)
    assert kiosk.home.service_buttons["B"].disabled
    assert not kiosk.home.service_buttons["A"].disabled


def test_the_priority_button_then_a_service_issues_a_priority_ticket(
    kiosk: KioskApp, printer: SimPrinter
) -> None:
    pump(1.0)
    tap(kiosk.home.priority_button)
    pump_until(lambda: bool(find_text(kiosk.home, "NOMOR PRIORITAS")))
    pump(1.0)
    tap(kiosk.home.service_buttons["A"])
    wait_message(kiosk, "take")
    ticket = kiosk.outcomes[0].ticket  # type: ignore[union-attr]
    assert ticket.priority
    assert b"PRIORITAS" in printer.jobs[0].data


def test_english_is_one_visible_tap_away(kiosk: KioskApp) -> None:
    assert kiosk.home.language_button.text == "English"
    tap(kiosk.home.language_button)
    pump_until(lambda: bool(find_text(kiosk.home, "Touch the service you need")))
    assert "e-KTP recording" in kiosk.home.service_buttons["A"].text
    assert kiosk.home.language_button.text == "Bahasa Indonesia"
    pump(1.0)
    tap(kiosk.home.service_buttons["A"])
    wait_message(kiosk, "take")
    assert find_text(kiosk.message, "Please take your ticket")
    kiosk.go_home()
    pump(0.2)
    assert kiosk.home.language_button.text == "English"  # the next resident starts in Indonesian


def test_the_staff_menu_needs_the_hidden_gesture_and_the_pin(
    kiosk: KioskApp, printer: SimPrinter, office: Office
) -> None:
    tap(kiosk.home.service_buttons["C"])
    wait_message(kiosk, "take")
    kiosk.go_home()
    pump(0.2)
    for _ in range(5):
        tap(kiosk.home.office_label, hold=0.01)
    pad = kiosk.pin_pad
    pump_until(lambda: pad.parent is not None, what="PIN pad")
    keys = {b.text: b for b in pad.content.walk() if hasattr(b, "on_release")}
    for digit in "1111":
        tap(keys[digit], hold=0.01)
    tap(keys["OK"], hold=0.01)
    assert find_text(pad.content, "PIN salah")
    for digit in STAFF_PIN:
        tap(keys[digit], hold=0.01)
    tap(keys["OK"], hold=0.01)
    menu = kiosk.staff_menu
    pump_until(lambda: menu.parent is not None, what="staff menu")
    assert find_text(menu.content, "kiosk-1")
    assert find_text(menu.content, "0.1.0")
    tap(kiosk.staff_buttons["test"])
    pump_until(lambda: len(printer.jobs) == 2, what="test print")
    assert "TES PRINTER" in decode(printer.jobs[1].data).lines
    tap(kiosk.staff_buttons["reprint"])
    pump_until(lambda: len(printer.jobs) == 3, what="reprint")
    assert b"C001" in printer.jobs[2].data
    assert service_state(office, "C")["issued"] == 1
    tap(kiosk.staff_buttons["close"])


def test_the_staff_pin_pad_and_menu_close_by_themselves(
    kiosk: KioskApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("kiosk.app.STAFF_IDLE_S", 0.5)
    pad = kiosk.open_pin_pad()
    assert pad is not None
    pump_until(lambda: pad.parent is not None, what="PIN pad")
    pump_until(lambda: pad.parent is None, 5, "the PIN pad closing by itself")
    menu = kiosk.open_staff_menu()
    pump_until(lambda: menu.parent is not None, what="staff menu")
    pump_until(lambda: menu.parent is None, 5, "the staff menu closing by itself")


def test_the_health_fields_are_in_the_retained_status(kiosk: KioskApp, config: Config) -> None:
    watch = Watcher(config.broker, STATUS).start()
    try:
        _, status = watch.wait_for(lambda _t, s: s.get("online") is True and "printer" in s)
    finally:
        watch.stop()
    assert set(status) >= {
        "online",
        "role",
        "version",
        "printer",
        "printer_driver",
        "last_ticket",
        "problem",
    }
    assert status["printer_driver"] == "sim"
    json.dumps(status)


def test_previews_are_written_beside_the_bytes(kiosk: KioskApp, printer: SimPrinter) -> None:
    tap(kiosk.home.service_buttons["A"])
    wait_message(kiosk, "take")
    job = printer.last
    assert job is not None
    assert job.preview is not None
    assert Path(job.preview).with_suffix(".bin").read_bytes() == job.data


@pytest.mark.parametrize(("service", "taps", "every_s"), [("D", 10, 0.25), ("C", 8, 0.6)])
def test_a_resident_who_keeps_tapping_gets_one_ticket(
    kiosk: KioskApp, printer: SimPrinter, office: Office, service: str, taps: int, every_s: float
) -> None:
    # The intervals measured with residents who tap until something happens.
    keep_tapping(kiosk.home.service_buttons[service], taps, every_s)
    pump(1.0)  # a ticket under way after the last tap would show up by now
    assert service_state(office, service)["issued"] == 1
    assert len(printer.complete_jobs()) == 1
    assert [type(o) for o in kiosk.outcomes] == [Printed]


def test_the_question_screen_and_its_guard_keep_a_long_tapper_at_one_ticket(
    kiosk: KioskApp, printer: SimPrinter, office: Office
) -> None:
    # 30 taps 0.4 s apart: the Done screen goes home by itself (8 s), then the
    # taps meet the question screen, which never sees the pause a Ya needs.
    keep_tapping(kiosk.home.service_buttons["A"], 30, 0.4)
    pump(1.0)
    assert service_state(office, "A")["issued"] == 1
    assert len(printer.complete_jobs()) == 1
    assert kiosk._asking, "the taps after the Done screen met the question"
    assert find_text(kiosk.message, "Anda sudah mengambil nomor A001.")


def test_a_second_ticket_of_the_same_service_soon_after_needs_a_deliberate_ya(
    kiosk: KioskApp, printer: SimPrinter, office: Office
) -> None:
    def home_again() -> None:
        pump(NUMBER_GUARD.after_shown_s)
        tap(kiosk.message.labels["number"])
        pump_until(lambda: kiosk.screens.current == "home", what="back home")
        pump(1.0)  # past Home's bounce guard

    tap(kiosk.home.service_buttons["A"])
    wait_message(kiosk, "take")
    home_again()
    tap(kiosk.home.service_buttons["A"])
    wait_message(kiosk, "yes")
    question = [kiosk.message.labels[k].text for k in ("taken", "question")]
    assert question == ["[b]Anda sudah mengambil nomor A001.[/b]", "[b]Ambil nomor baru?[/b]"]
    english = kiosk.message.labels["question_other"].text
    assert english == "You already took number A001. Take a new number?"
    assert kiosk.message.buttons["yes"].text.startswith("[b]Ya\n")
    assert kiosk.message.buttons["no"].text.startswith("[b]Tidak\n")
    tap(kiosk.message.buttons["yes"])  # at once: not yet (the guard), nothing happens
    pump(0.3)
    assert kiosk.screens.current == "message"
    pump(NUMBER_GUARD.after_shown_s)
    tap(kiosk.message.buttons["no"])
    pump_until(lambda: kiosk.screens.current == "home", what="Tidak goes home")
    assert service_state(office, "A")["issued"] == 1
    pump(1.0)
    tap(kiosk.home.service_buttons["A"])
    wait_message(kiosk, "yes")
    pump(NUMBER_GUARD.after_shown_s)
    tap(kiosk.message.buttons["yes"])
    wait_message(kiosk, "take")
    assert kiosk.message.labels["number"].text == "[b]A002[/b]"
    home_again()
    tap(kiosk.home.service_buttons["B"])  # another service is not asked about
    wait_message(kiosk, "take")
    assert kiosk.message.labels["number"].text == "[b]B001[/b]"
    assert service_state(office, "A")["issued"] == 2
    assert len(printer.complete_jobs()) == 3


def test_the_same_service_after_the_window_issues_without_a_question(
    kiosk: KioskApp, office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("kiosk.app.REPEAT_WINDOW_S", 1.0)
    tap(kiosk.home.service_buttons["C"])
    wait_message(kiosk, "take")
    kiosk.go_home()
    pump(1.2)
    tap(kiosk.home.service_buttons["C"])
    wait_message(kiosk, "take")  # the next resident: straight to their ticket
    assert kiosk.message.labels["number"].text == "[b]C002[/b]"
