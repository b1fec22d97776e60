"""The Kivy counter console under Xvfb, against a real Mosquitto and queue service."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from antrean.store import StoreReader
from antrean_testing.devbroker import DevBroker
from counter.agent import BUSY, PressResult
from counter.console import CounterConsoleApp
from counter.console_view import ConsoleView
from counter.settings import counter_inputs
from counter.station import CounterStation
from tests.service.test_visits import MELATI, UNIT
from tests.support.counter_helpers import counter_config, counter_current, service_waiting, wait
from tests.support.helpers import ROOT, FakeClock, Office
from tests.support.kivy_harness import find_text, pump, pump_until, start_app, stop_app, tap

SIZE = (800, 480)  # the official 7-inch Pi touchscreen


@pytest.fixture
def office(tmp_path: Path, broker: DevBroker, clock: FakeClock) -> Iterator[Office]:
    o = Office(counter_config(tmp_path, broker.port, ""), clock).start()
    for service in "AABB":
        o.ok("kiosk-1", "issue", service=service)
    yield o
    o.close()


@pytest.fixture
def card_office(tmp_path: Path, broker: DevBroker, clock: FakeClock) -> Iterator[Office]:
    """The office with its printing service (B) counting blank cards: 52 delivered."""
    o = Office(counter_config(tmp_path, broker.port, "", cards=True), clock).start()
    o.ok("admin", "stock_receive", count=52, note="SJ-001")
    for service in "AAB":
        o.ok("kiosk-1", "issue", service=service)
    yield o
    o.close()


@pytest.fixture
def unit(tmp_path: Path, broker: DevBroker, clock: FakeClock) -> Iterator[Office]:
    """A mobile unit (keliling-1, prefix K) with today's posyandu visit planned for 10.00."""
    o = Office(counter_config(tmp_path, broker.port, UNIT), clock).start()
    visit = {**MELATI, "day": str(clock().date()), "start": "10:00", "end": "13:00"}
    o.ok("admin", "visit_plan", **visit, id="posyandu-melati")
    for _ in range(3):
        o.ok("kiosk-1", "issue", service="A")
    yield o
    o.close()


@contextlib.contextmanager
def open_console(office: Office, counter: int) -> Iterator[CounterConsoleApp]:
    """Counter `counter`'s console window, with its agent online (stopped afterwards)."""
    config = office.config
    device = f"counter-{counter}"
    station = CounterStation(config, counter_inputs(config, counter), device).start()
    wait(lambda: station.agent.online, what="the queue service online")
    app = start_app(CounterConsoleApp(station.agent, config), size=SIZE)
    try:
        yield app
    finally:
        stop_app(app)
        station.stop()


@pytest.fixture
def console(office: Office) -> Iterator[CounterConsoleApp]:
    with open_console(office, 2) as app:
        yield app


@pytest.fixture
def card_console(card_office: Office) -> Iterator[CounterConsoleApp]:
    with open_console(card_office, 2) as app:  # services A (recording) and B (cards)
        yield app


def store_rows(office: Office, sql: str) -> list[tuple[object, ...]]:
    reader = StoreReader(office.config.store_path)
    try:
        return [tuple(row) for row in reader.db.execute(sql)]
    finally:
        reader.close()


def button(app: CounterConsoleApp, text: str, exact: bool = False):
    """A button of the open popup (or of the console) whose text contains (or is) `text`."""
    root = app.popup if app.popup is not None else app.root
    found = [
        w
        for w in find_text(root, text)
        if hasattr(w, "trigger_action") and (not exact or w.text == text)
    ]
    assert found, f"no button {text!r}"
    return found[0]


def test_next_shows_the_called_ticket_and_the_waiting_counts(console, office) -> None:
    ids = console.root.ids
    pump_until(lambda: "A · Perekaman KTP-el: 2 menunggu" in console.view.waiting_lines, 5)
    assert console.view.waiting_lines == [
        "A · Perekaman KTP-el: 2 menunggu",
        "B · Pencetakan KTP-el: 2 menunggu",
    ]
    assert ids.code.text == "—"
    assert ids.recall.disabled
    tap(ids.next)
    pump_until(lambda: ids.code.text == "A001", what="A001 on the console")
    pump_until(lambda: "A · Perekaman KTP-el: 1 menunggu" in console.view.waiting_lines)
    assert ids.message.text == "Nomor A001 dipanggil."
    assert ids.detail.text == "Perekaman KTP-el"
    assert not ids.recall.disabled
    assert counter_current(office, 2) == "A001"
    tap(ids.recall)
    pump_until(lambda: ids.detail.text == "Perekaman KTP-el · dipanggil ulang 1 kali")


def test_a_burst_of_clicks_on_next_calls_one_resident(console, office) -> None:
    ids = console.root.ids
    started = time.monotonic()
    for _ in range(5):  # five clicks about 0.1 s apart, as a busy officer clicks
        tap(ids.next, hold=0.05)
    # All within the call guard (3 s by default; a click takes 0.1 s, more on a loaded CPU).
    assert time.monotonic() - started < 3
    pump_until(lambda: ids.code.text == "A001", what="A001 on the console")
    pump(0.3)
    assert counter_current(office, 2) == "A001"
    assert service_waiting(office, "A") == 1  # A002 still waits: nobody else was called
    assert ids.message.text.startswith("Nomor A001 baru saja dipanggil. Tekan Berikutnya lagi")
    assert console.view.message_is_error


def test_transfer_picks_a_service_and_the_ticket_moves(console, office) -> None:
    ids = console.root.ids
    tap(ids.next)
    pump_until(lambda: ids.code.text == "A001")
    tap(ids.transfer)
    pump(frames=3)
    assert console.popup is not None
    assert console.popup.title == "Alihkan nomor A001 ke layanan:"
    labels = [code for code, _label in console.view.transfer_choices()]
    assert labels == ["B", "C", "D"]  # not its own service
    tap(button(console, "C · Kartu Keluarga"))
    pump_until(lambda: ids.code.text == "—", what="the counter free again")
    assert ids.message.text == "Nomor A001 dialihkan ke layanan C."
    assert console.popup is None
    assert service_waiting(office, "C") == 1
    assert counter_current(office, 2) is None


def test_call_a_number_with_the_code_pad_and_errors_in_plain_words(console, office) -> None:
    ids = console.root.ids
    tap(ids.call_number)
    for key in ("B", "2"):  # B2 means B002
        tap(button(console, key, exact=True))
    assert console.code_entry == "B2"
    tap(button(console, "Panggil[/b]"))
    pump_until(lambda: ids.code.text == "B002", what="B002 called out of order")
    assert counter_current(office, 2) == "B002"
    pump(0.5)  # the pad's closing animation (a closing popup still takes touches)
    # A number that does not exist: the queue service's own message, shown as it is.
    tap(ids.call_number)
    for key in ("D", "9"):
        tap(button(console, key, exact=True))
    tap(button(console, "Panggil[/b]"))
    pump_until(lambda: console.view.message_is_error, what="the refusal")
    assert ids.message.text == "Nomor D009 tidak ditemukan hari ini."
    assert ids.code.text == "B002"


def test_the_open_switch_closes_and_opens_the_counter(console, office) -> None:
    ids = console.root.ids
    pump_until(
        lambda: ids.open_switch.text.startswith("[b]Loket TUTUP"), what="closed at the start"
    )
    tap(ids.open_switch)
    pump_until(lambda: ids.open_switch.text.startswith("[b]Loket BUKA"))
    snap = office.ok("admin", "snapshot")
    assert next(c for c in snap["counters"] if c["number"] == 2)["open"] is True
    tap(ids.open_switch)
    pump_until(lambda: ids.open_switch.text.startswith("[b]Loket TUTUP"))
    assert ids.message.text == "Loket ditutup."


def test_the_console_says_when_the_queue_service_is_away(console, office) -> None:
    ids = console.root.ids
    office.stop()
    pump_until(lambda: ids.link.text == "Terputus dari server antrean", what="link lost")
    tap(ids.next)
    pump_until(lambda: console.view.message_is_error)
    assert ids.message.text.startswith("Tidak terhubung ke server antrean")
    office.start()
    pump_until(lambda: ids.link.text == "Terhubung", timeout=10)
    pump(0.3)
    assert counter_current(office, 2) is None


def test_the_view_keeps_a_real_message_over_a_busy_press(tmp_path: Path) -> None:
    view = ConsoleView(counter_config(tmp_path, 1883, ""), 2)
    view.sending("Memanggil")
    view.on_outcome(PressResult("recall", "gpio", False, BUSY, "Tunggu sebentar"))
    assert view.message == "Memanggil…"
    view.on_outcome(PressResult("call_next", "console", True, None, "Nomor A001 dipanggil."))
    assert (view.message, view.message_is_error) == ("Nomor A001 dipanggil.", False)


def screenshot_script(*args: str) -> None:
    script = str(ROOT / "scripts" / "counter_console_screenshot.py")
    result = subprocess.run(
        [sys.executable, script, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_the_screenshot_script_draws_the_console(tmp_path: Path) -> None:
    out = tmp_path / "counter-console.png"
    screenshot_script(str(out))
    with Image.open(out) as image:
        assert image.size == SIZE
        rgb = image.convert("RGB")
        # the navy header bar and the green "Berikutnya" button are where they belong
        r, g, b = rgb.getpixel((20, 30))
        assert b > max(r, 60), (r, g, b)
        r, g, b = rgb.getpixel((60, SIZE[1] - 100))
        assert g > max(r, b), (r, g, b)


def test_the_screenshot_script_draws_a_units_console_during_a_visit(tmp_path: Path) -> None:
    screenshot_script("--unit", str(tmp_path))
    for size in ((800, 480), (1024, 600)):
        with Image.open(tmp_path / f"unit-console-{size[0]}x{size[1]}.png") as image:
            assert image.size == size
            r, g, b = image.convert("RGB").getpixel((size[0] - 20, 82))
            assert min(g, b) > r + 40, (size, (r, g, b))  # the teal visit band


def test_the_stock_line_warns_and_kartu_rusak_records_a_spoiled_card(
    card_console: CounterConsoleApp, card_office: Office
) -> None:
    ids = card_console.root.ids
    # 52 cards, one promised to B001: 51 available, over the warning at 50.
    pump_until(lambda: "[b]51[/b] tersedia" in ids.stock.text, what="the stock line")
    assert ids.stock.text == "Blanko KTP-el: [b]51[/b] tersedia\n52 stok"
    assert card_console.root.stock_level == "ok"
    assert ids.buttons.cols == 4
    tap(ids.spoil)
    pump(frames=3)
    assert card_console.popup is not None
    assert card_console.popup.title == "Catat 1 kartu rusak. Alasannya:"
    tap(button(card_console, "Data salah tercetak"))
    pump_until(lambda: ids.message.text == "Kartu rusak dicatat. Blanko tersedia: 50.")
    # 50 available is at the threshold: the line says so, in amber, with the days left.
    pump_until(lambda: "menipis" in ids.stock.text, what="the warning")
    assert ids.stock.text == (
        "Blanko KTP-el: [b]50[/b] tersedia  ·  [b]menipis[/b]\n51 stok  ·  cukup 700 hari"
    )
    assert card_console.root.stock_level == "warning"
    assert tuple(ids.stock.color) == (0.80, 0.47, 0.05, 1)
    assert store_rows(card_office, "SELECT kind, count, note, who FROM stock ORDER BY id") == [
        ("delivery", 52, "SJ-001", "admin"),
        ("spoiled", -1, "Data salah tercetak", "counter-2"),
    ]
    card_office.ok("admin", "stock_adjust", count=-50, reason="hitung ulang")
    pump_until(lambda: "HABIS" in ids.stock.text, what="out of cards")
    assert card_console.root.stock_level == "out"


def test_completing_a_recording_asks_for_the_kelurahan(
    card_console: CounterConsoleApp, card_office: Office
) -> None:
    ids = card_console.root.ids
    tap(ids.next)
    pump_until(lambda: ids.code.text == "A001", what="A001 on the console")
    tap(ids.complete)
    pump(frames=3)
    assert card_console.popup is not None
    assert card_console.popup.title == "Selesai A001: kelurahan warga?"
    names = [w.text for w in card_console.popup.content.children[::-1]]
    assert names[:2] == ["Bendan Duwur", "Bendan Ngisor"]
    assert names[-2:] == ["Tidak diketahui", "Batal"]
    assert counter_current(card_office, 2) == "A001"  # nothing sent yet
    tap(button(card_console, "Sampangan", exact=True))
    pump_until(lambda: ids.message.text == "Nomor A001 selesai dilayani.")
    pump(0.5)  # the picker's closing animation
    tap(ids.next)
    pump_until(lambda: ids.code.text == "A002", what="A002 on the console")
    tap(ids.complete)
    pump(frames=3)
    tap(button(card_console, "Tidak diketahui"))
    pump_until(lambda: ids.message.text == "Nomor A002 selesai dilayani.")
    pump(0.5)
    # B is not a recording: Selesai completes at once (and uses a card).
    tap(ids.next)
    pump_until(lambda: ids.code.text == "B001", what="B001 on the console")
    tap(ids.complete)
    pump_until(lambda: ids.message.text == "Nomor B001 selesai dilayani.")
    assert card_console.popup is None
    rows = store_rows(card_office, "SELECT ticket, kelurahan, source FROM progress ORDER BY at")
    assert [(t[-4:], k, s) for t, k, s in rows] == [
        ("A001", "Sampangan", "console"),
        ("A002", None, "unknown"),
    ]


def test_a_button_completion_of_a_recording_stays_unknown(card_office: Office) -> None:
    config = card_office.config
    station = CounterStation(config, counter_inputs(config, 1), "counter-1").start()
    try:
        wait(lambda: station.agent.online, what="the queue service online")
        card_office.ok("counter-1", "call_next")
        station.agent.press("complete", "gpio")
        wait(lambda: store_rows(card_office, "SELECT 1 FROM progress"), what="the recording")
    finally:
        station.stop()
    rows = store_rows(card_office, "SELECT ticket, kelurahan, source FROM progress")
    assert [(t[-4:], k, s) for t, k, s in rows] == [("A001", None, "unknown")]


def test_a_counter_without_a_card_service_has_no_stock_line(card_office: Office) -> None:
    with open_console(card_office, 1) as app:  # counter 1 serves A only
        pump_until(lambda: app.view.waiting_lines != [], what="the waiting counts")
        assert find_text(app.root, "Blanko") == []
        assert find_text(app.root, "Kartu rusak") == []
        assert app.root.ids.buttons.cols == 3
        assert app.view.stock_text == ""


def test_on_a_unit_the_console_names_the_open_visit(unit: Office) -> None:
    with open_console(unit, 1) as app:
        ids = app.root.ids
        pump_until(lambda: app.view.waiting_lines == ["A · Perekaman KTP-el: 3 menunggu"])
        assert (ids.visit.text, ids.visit.height) == ("", 0)  # planned, not open yet
        unit.ok("counter-1", "visit_open", id="posyandu-melati")  # staff open it early
        pump_until(lambda: app.root.has_visit, what="the visit band")
        pump(frames=2)
        assert ids.visit.text == (
            "[b]Kunjungan dibuka[/b]: Posyandu Melati · Kelurahan Bendan Ngisor · 10.00\u201313.00"
        )
        assert ids.visit.height > 0
        assert ids.visit.opacity == 1
        tap(ids.next)
        pump_until(lambda: ids.code.text == "KA001", what="KA001 called")
        unit.ok("counter-1", "visit_close", id="posyandu-melati")
        pump_until(lambda: not app.root.has_visit, what="the band gone")
        pump(frames=2)
        assert (ids.visit.text, ids.visit.height) == ("", 0)
