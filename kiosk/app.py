"""The kiosk app: wires the DeviceLink, the printer and the controller to the screens.

Kivy is driven only from its main thread: MQTT callbacks and the controller's
results come in through Clock.schedule_once. Everything is injected (config,
link factory, printer, clock) so that tests run the real app in-process.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.gridlayout import GridLayout
from kivy.uix.popup import Popup
from kivy.uix.screenmanager import NoTransition, ScreenManager

from antrean import __version__
from antrean.booking import nik_problem
from antrean.config import Config
from antrean.device import DeviceLink
from kiosk import schedule, words
from kiosk.code_screen import LAST4, NIK, CodeScreen
from kiosk.controller import (
    IssueResult,
    Offline,
    Printed,
    PrinterBlocked,
    PrintFailed,
    Refused,
    TicketController,
    Unanswered,
)
from kiosk.printer import Printer, PrinterStatus, open_printer
from kiosk.scanner.registry import open_scanner
from kiosk.scanner.source import ScannerSource
from kiosk.settings import KioskSettings
from kiosk.ticket import TicketInfo
from kiosk.ui import (
    GOOD,
    INK,
    INK_OFF,
    SCHEDULE,
    SERVICE,
    WARN,
    HomeScreen,
    MessageScreen,
    TouchGuard,
    big_button,
    label,
    unit,
)
from kiosk.view import home_view

log = logging.getLogger(__name__)

LinkFactory = Callable[..., Any]
STARTED = time.perf_counter()  # for the "first frame" line the cold-start benchmark reads
GUARD_S = 0.8  # touches this soon after a screen change are a bounce, not a new tap
# A resident who keeps tapping after the ticket (measured: every 0.25-0.6 s) must
# neither close the screen with their number nor start a second ticket: the
# screens that show a number, and the question before a second one, take a
# touch only 3 s after they appear and after 1 s without any touch.
NUMBER_GUARD = TouchGuard(after_shown_s=3.0, quiet_s=1.0)
# A second ticket of the same service within this long of leaving the first
# one's screen (or the question) is asked about first: "Ambil nomor baru?".
REPEAT_WINDOW_S = 20.0
PRIORITY_MODE_S = 20  # the priority choice falls back to normal if no service is chosen
CORNER_TAPS = 5  # taps on the office name within CORNER_WINDOW_S open the staff PIN pad
CORNER_WINDOW_S = 3.0
STAFF_IDLE_S = 60  # the PIN pad and staff menu close after this long untouched
# The schedule is read, not tapped through: it stays this many times the Done
# screen's time (24 s by default) after it opened or was last touched.
SCHEDULE_READING = 3


class KioskApp(App):
    """`antrean kiosk`: the resident's touchscreen."""

    def __init__(
        self,
        config: Config,
        settings: KioskSettings,
        printer: Printer | None = None,
        link_factory: LinkFactory = DeviceLink,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        scanner: ScannerSource | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.office_config = config
        self.settings = settings
        self.printer = printer or open_printer(settings.printer)
        if scanner is None and settings.scanner is not None:
            scanner = open_scanner(settings.scanner)
        self.scanner = scanner
        self.link_factory = link_factory
        self.now = now
        self.language = settings.language
        self.booking_enabled = bool(config.booking.capacity)
        self._pad: CodeScreen | None = None  # the keypad the controller's next outcome is for
        self._nik_for: tuple[str, bool] = ("", False)  # the service (and priority) the NIK is for
        self.priority_mode = False
        self.printer_status = PrinterStatus.UNKNOWN
        self.link: Any = None
        self.controller: TicketController | None = None
        self.shown: TicketInfo | None = None  # the number on the Done/Trouble screen
        self.outcomes: list[IssueResult] = []  # every result, in order (tests and logs read it)
        self._locked = False  # a tap is being served: no other tap until Home again
        # service -> (its last ticket here, when that ticket's screen or the question
        # about it last closed): a second ticket soon after is asked about first.
        self._taken: dict[str, tuple[str, float]] = {}
        self._asking: str | None = None  # the service the "Ambil nomor baru?" screen is about
        self._screen_since = 0.0
        self._priority_since = 0.0
        self._corner_taps: list[float] = []
        self._home_timer: Any = None
        self._dirty = False
        self._timers: list[Any] = []
        self._schedule_lines: list[Any] | None = None  # what the schedule screen shows now
        self.title = "Antrean kiosk"

    # ---- building ----------------------------------------------------------------

    def build(self) -> ScreenManager:
        cfg = self.office_config
        self.link = self.link_factory(
            cfg,
            self.settings.device_id,
            "kiosk",
            on_state=lambda _path, _body: self._later(self._mark_dirty),
            on_link=lambda _up: self._later(self._mark_dirty),
            health={
                "printer": PrinterStatus.UNKNOWN.value,
                "printer_driver": self.printer.name,
                **({"scanner": "unknown"} if self.scanner else {}),
                "last_ticket": None,
                "problem": None,
            },
        )
        self.controller = TicketController(
            self.link,
            self.printer,
            cfg.office.name,
            cfg.office.timezone,
            {s.code: s.name for s in cfg.services},
            on_outcome=self.show_outcome,
            on_printer=self._printer_changed,
            post=self._later,
            timeout_s=self.settings.issue_timeout_s,
            attempts=self.settings.issue_attempts,
            issue_on_unknown=self.settings.printer.on_unknown == "issue",
            now=self.now,
            phone_base=self.settings.phone_base,
        )
        self.screens = ScreenManager(transition=NoTransition())
        self.home = HomeScreen(self)
        self.message = MessageScreen("message", self)
        self.schedule = MessageScreen("schedule", self)
        self.code = CodeScreen(self, self.submit_code)
        self.nik = CodeScreen(self, self.submit_nik, NIK)
        self.last4 = CodeScreen(self, self.submit_last4, LAST4)
        self.pads = {pad.name: pad for pad in (self.code, self.nik, self.last4)}
        for screen in (self.home, self.message, self.schedule, *self.pads.values()):
            self.screens.add_widget(screen)
        self.render_home()
        Window.bind(size=lambda *_: self._later(self._relayout))
        # A USB barcode/QR scanner is a keyboard: it types the code's digits, then Enter.
        Window.bind(on_textinput=self._typed, on_key_down=self._key_down)
        self._timers = [
            Clock.schedule_interval(self._tick, 1.0),
        ]
        Window.bind(on_flip=self._first_frame)
        self.link.start()
        self.controller.start_polling()
        if self.scanner is not None:
            self.scanner.start(
                on_code=lambda code: self._later(partial(self.scanned, code)),
                on_health=lambda status: self.link.set_health(scanner=status),
            )
        return self.screens

    def on_stop(self) -> None:
        Window.unbind(on_textinput=self._typed, on_key_down=self._key_down)
        if self.scanner is not None:
            self.scanner.stop()
        for pad in self.pads.values():
            pad.on_leave()
            pad.reset()
        for timer in [*self._timers, self._home_timer]:
            if timer is not None:
                timer.cancel()
        if self.controller is not None:
            self.controller.close()
        if self.link is not None:
            self.link.stop()

    def _first_frame(self, *_: object) -> None:
        Window.unbind(on_flip=self._first_frame)
        log.info("kiosk: first frame %.3f s after import", time.perf_counter() - STARTED)
        if self.controller is not None:
            self.controller.warm_up()

    # ---- helpers -------------------------------------------------------------------

    def t(self, key: str, **values: object) -> str:
        return words.text(self.language, key, **values)

    def _later(self, fn: Callable[[], None]) -> None:
        """Runs fn on Kivy's main thread (from any thread)."""
        Clock.schedule_once(lambda _dt: fn(), 0)

    def _mark_dirty(self) -> None:
        # State arrives in bursts (one message per service); redraw once per frame.
        if not self._dirty:
            self._dirty = True
            Clock.schedule_once(self._redraw_if_dirty, 0)

    def _redraw_if_dirty(self, _dt: float) -> None:
        self._dirty = False
        if self.screens.current == "home":
            self.render_home()
        elif self.screens.current == "schedule":
            self._render_schedule()  # a visit planned or cancelled shows at once

    def clock_text(self) -> str:
        local = self.now().astimezone(self.office_config.office.timezone)
        return f"{words.long_date(self.language, local)}  ·  [b]{words.clock_time(local)}[/b]"

    @property
    def connected(self) -> bool:
        return bool(self.link is not None and self.link.queue_online)

    # ---- Home ------------------------------------------------------------------------

    def render_home(self) -> None:
        view = home_view(
            self.office_config,
            self.link.states() if self.link else {},
            self.language,
            self.connected,
            self.printer_status.blocks_issuing
            or (
                self.printer_status is PrinterStatus.UNKNOWN
                and self.settings.printer.on_unknown == "refuse"
            ),
            self.link.queue_error if self.link else None,
            self.booking_enabled,
            bool(self.coming_visits()),
        )
        if view.banner:
            self.priority_mode = False
        self.home.render(view, self.priority_mode, self.clock_text())

    def go_home(self) -> None:
        if self._home_timer is not None:
            self._home_timer.cancel()
            self._home_timer = None
        if self.shown is not None:
            self.language = self.settings.language  # the next resident starts in the default
        about = self.shown.service_code if self.shown is not None else self._asking
        if about in self._taken:
            self._taken[about] = (self._taken[about][0], time.monotonic())
        self.shown = None
        self._asking = None
        self._schedule_lines = None
        self._locked = False
        for pad in self.pads.values():  # the next resident never sees this one's digits
            pad.reset()
        self.priority_mode = False
        self._screen_since = time.monotonic()
        self.render_home()
        self.screens.current = "home"

    def take(self, service: str) -> None:
        """A service button was released: one ticket, whatever the finger does next."""
        if self._locked or self.screens.current != "home" or self._bounce():
            log.info("tap on %s ignored (busy or a bounce)", service)
            return
        code, seen_at = self._taken.get(service, ("", float("-inf")))
        if time.monotonic() - seen_at < REPEAT_WINDOW_S:
            self._ask_again(service, code, self.priority_mode)
            return
        self._issue(service, self.priority_mode)

    def _ask_again(self, service: str, code: str, priority: bool) -> None:
        """The same service again right after a ticket here: a deliberate Ya is needed."""
        log.info("tap on %s right after %s: asking before a second ticket", service, code)
        self._asking = service
        other = "en" if self.language == "id" else "id"
        # Two short lines, not one long one: each fits its line at every screen size.
        taken, ask = self.t("repeat_taken", code=code), self.t("repeat_ask")
        also = f"{words.text(other, 'repeat_taken', code=code)} {words.text(other, 'repeat_ask')}"
        small = f"[size={int(18 * unit())}]"
        yes = f"{self.t('yes')}\n{small}{words.text(other, 'yes')}[/size]"
        no = f"{self.t('no')}\n{small}{words.text(other, 'no')}[/size]"
        self._show(
            [
                ("taken", f"[b]{taken}[/b]", 32, INK),
                ("question", f"[b]{ask}[/b]", 40, INK),
                ("question_other", also, 22, INK_OFF),
            ],
            [
                ("yes", yes, SERVICE, lambda: self._issue(service, priority)),
                ("no", no, INK_OFF, self.go_home),
            ],
            guard=NUMBER_GUARD,
        )
        self._return_home_after(self.settings.home_after_s)

    def _issue(self, service: str, priority: bool, nik: str | None = None) -> None:
        assert self.controller is not None
        cfg = self.office_config.service(service)
        if nik is None and cfg is not None and cfg.nik_per_day:
            self._ask_nik(service, priority)
            return
        if not self.controller.take(service, priority, nik):
            return
        self._asking = None
        if self._home_timer is not None:  # the question's timer must not fire mid-print
            self._home_timer.cancel()
            self._home_timer = None
        self._locked = True
        for button in self.home.service_buttons.values():
            button.disabled = True
        self._show([("title", self.t("printing"), 40, INK)])

    def toggle_priority(self) -> None:
        if self._locked or self._bounce():
            return
        self.priority_mode = not self.priority_mode
        self._priority_since = time.monotonic()
        self._screen_since = time.monotonic()
        self.render_home()

    def toggle_language(self) -> None:
        self.language = "en" if self.language == "id" else "id"
        self._relayout()

    def _bounce(self) -> bool:
        return time.monotonic() - self._screen_since < GUARD_S

    def _tick(self, _dt: float) -> None:
        if self.priority_mode and time.monotonic() - self._priority_since > PRIORITY_MODE_S:
            self.priority_mode = False
            self.render_home()
        self.home.set_clock(self.clock_text())

    def _relayout(self) -> None:
        if self.screens.current == "home":
            self.render_home()
        elif self.screens.current == "schedule":
            self._render_schedule(force=True)
        elif self.screens.current in self.pads:
            self.pads[self.screens.current].render()
        elif self._last_render is not None:
            self._show(*self._last_render)

    def _printer_changed(self, status: PrinterStatus) -> None:
        self.printer_status = status
        if self.screens.current == "home":
            self.render_home()

    # ---- after a tap -----------------------------------------------------------------

    _last_render: tuple[Any, ...] | None = None

    def _show(
        self,
        lines: list[Any],
        buttons: list[Any] | None = None,
        on_touch: Callable[[], None] | None = None,
        guard: TouchGuard | None = None,
    ) -> None:
        self._last_render = (lines, buttons, on_touch, guard)
        self.message.render(lines, buttons or [], on_touch, guard)
        self._screen_since = time.monotonic()
        self.screens.current = "message"

    # ---- the mobile unit's schedule (issue 13) ----------------------------------------------

    def coming_visits(self) -> list[dict[str, Any]]:
        today = self.now().astimezone(self.office_config.office.timezone).date()
        return schedule.coming(self.link.states() if self.link else {}, today)

    def open_schedule(self) -> None:
        """Home's "Jadwal keliling": the next visits, until Back or the reading time is over."""
        if self._locked or self.screens.current != "home" or self._bounce():
            return
        self._render_schedule(force=True)
        self._schedule_touched()

    def _schedule_touched(self) -> None:
        self._return_home_after(self.settings.home_after_s * SCHEDULE_READING)

    def _render_schedule(self, force: bool = False) -> None:
        """The schedule screen, drawn again only when its words change (state comes often)."""
        visits = self.coming_visits()
        if not visits:  # the last one was cancelled: there is nothing to read
            self.go_home()
            return
        other = "en" if self.language == "id" else "id"
        small = f"[size={int(20 * unit())}]"
        title = f"[b]{self.t('schedule_title')}[/b]\n{small}{words.text(other, 'schedule_title')}"
        lines: list[Any] = [("title", f"{title}[/size]", 30, INK)]
        for v in visits[: schedule.SHOWN]:
            line = schedule.visit_line(self.language, v)
            text = f"[b]{line.place}[/b]\n[b]{line.when}[/b]\n{line.services}. {line.bring}"
            lines.append((f"visit:{line.id}", text, 22, SCHEDULE))
        if len(visits) > schedule.SHOWN:
            more = self.t("schedule_more", n=len(visits) - schedule.SHOWN)
            lines.append(("more", more, 20, INK_OFF))
        if lines == self._schedule_lines and not force:
            return
        self._schedule_lines = lines
        back = f"{self.t('back')}  {small}{words.text(other, 'back')}[/size]"
        self.schedule.render(lines, [("back", back, INK_OFF, self.go_home)], self._schedule_touched)
        self._screen_since = time.monotonic()
        self.screens.current = "schedule"

    # ---- a booking code ------------------------------------------------------------------

    def open_code(self) -> None:
        """Home's "Sudah mendaftar?": the code screen, empty."""
        if self._locked or self.screens.current != "home" or self._bounce():
            return
        self._open_pad(self.code)

    def _open_pad(self, pad: CodeScreen, note: str = "") -> None:
        """A keypad screen, empty, with a note (a refusal) or none."""
        if self._home_timer is not None:  # a question's timer must not close the keypad
            self._home_timer.cancel()
            self._home_timer = None
        pad.reset()
        pad.set_note(note, WARN)
        pad.render()
        self._screen_since = time.monotonic()
        self.screens.current = pad.name

    def _ask_nik(self, service: str, priority: bool) -> None:
        """A `nik_per_day` service: the NIK's keypad before the ticket."""
        self._asking = None
        self._nik_for = (service, priority)
        self._open_pad(self.nik)

    def submit_nik(self, nik: str) -> None:
        """OK on the NIK keypad: an impossible NIK is refused here, a possible one is sent once."""
        if self._locked or self.screens.current != "nik":
            return
        if not self.nik.entry.complete:
            self.nik.set_note(self._both("nik_short"), WARN)
            return
        problem = nik_problem(nik)
        if problem:  # kept for the fix: it has not left the keypad
            self.nik.set_note(self._refusal("nik_invalid", f"{problem}. Periksa lagi.", {}), WARN)
            return
        service, priority = self._nik_for
        assert self.controller is not None
        if self.controller.take(service, priority, nik):
            self._sent(self.nik, "nik_checking")

    def submit_last4(self, last4: str) -> None:
        """OK on the last-four keypad (`confirm_nik_last4`): the code again, with the digits."""
        if self._locked or self.screens.current != "last4":
            return
        if not self.last4.entry.complete:
            self.last4.set_note(self._both("last4_short"), WARN)
            return
        assert self.controller is not None
        if self.controller.redeem(self.code.entry.code, last4):
            self._sent(self.last4, "booking_checking")

    def _sent(self, pad: CodeScreen, checking: str) -> None:
        """NIK digits went in a command: the keypad forgets them, the answer comes back to it."""
        pad.reset()
        self._pad = pad
        self._locked = True
        self._show([("title", self.t(checking), 40, INK)])

    def submit_code(self, code: str) -> None:
        """OK on the code screen (or a scanner's Enter): one `redeem`, whatever is pressed next."""
        if self._locked or self.screens.current != "code":
            return
        if not self.code.entry.complete:
            self.code.set_note(self._both("code_short"), WARN)
            return
        assert self.controller is not None
        if not self.controller.redeem(code):
            return
        self._pad = self.code
        self._locked = True
        self._show([("title", self.t("booking_checking"), 40, INK)])

    def scanned(self, code: str) -> None:
        """A whole code from the grabbed scanner (kiosk/scanner/): entered and sent as if typed.

        From Home it opens the code screen; on the code screen it replaces
        what was typed (a scan is a whole code, not more digits). Anywhere
        else (the NIK keypads, a ticket on screen, a code being checked) it
        is ignored: the resident scans again when the kiosk is ready.
        """
        if not self._locked and self.booking_enabled and self.screens.current == "home":
            self._open_pad(self.code)
        if self._locked or self.screens.current != "code":
            log.info("scan ignored on the %s screen", self.screens.current)
            return
        self.code.entry.clear()
        for digit in code:
            self.code.entry.press(digit)
        self.code.touched()
        self.code.set_note("")
        self.code.refresh()
        self.submit_code(self.code.entry.code)

    def _typed(self, _window: Any, text: str) -> bool:
        if (
            self.screens.current == "home"
            and self.booking_enabled
            and any(ch.isascii() and ch.isdigit() for ch in text)
        ):
            self.open_code()  # a slip held to the scanner on Home: straight to the code
        pad = self.pads.get(self.screens.current)
        return pad is not None and pad.typed(text)

    def _key_down(self, _window: Any, key: int, *_: Any) -> bool:
        pad = self.pads.get(self.screens.current)
        return pad is not None and pad.key_down(key)

    def _both(self, key: str) -> str:
        other = "en" if self.language == "id" else "id"
        return f"[b]{self.t(key)}[/b]\n{words.text(other, key)}"

    def _refusal(self, code: str, message: str, details: dict[str, Any]) -> str:
        both = [
            words.booking_refusal(lang, code, message, details)
            for lang in (self.language, "en" if self.language == "id" else "id")
        ]
        return f"[b]{both[0]}[/b]\n{both[1]}"

    def _pad_refused(self, pad: CodeScreen, outcome: IssueResult) -> None:
        """Back to the keypad (a code kept, NIK digits not) with why no number came, both languages.

        A good code where the office asks the NIK's last four digits goes on to their keypad.
        """
        asks_last4 = isinstance(outcome, Refused) and outcome.code == "nik_last4_required"
        if asks_last4 and pad is self.code:
            self._locked = False
            self._open_pad(self.last4)
            return
        if isinstance(outcome, Refused):
            note = self._refusal(outcome.code, outcome.message, outcome.details)
        elif isinstance(outcome, PrinterBlocked):
            self.printer_status = outcome.status
            note = self._both("printer_blocked")
        elif isinstance(outcome, Offline):
            note = self._both("booking_offline")
        else:
            assert isinstance(outcome, Unanswered)
            maybe = "booking_no_answer" if pad is self.code else "nik_no_answer"
            note = self._both(maybe if outcome.attempts else "no_answer_note")
        self._locked = False
        pad.set_note(note, WARN)
        pad.render()
        self._screen_since = time.monotonic()
        self.screens.current = pad.name

    def show_outcome(self, outcome: IssueResult) -> None:
        """The controller's answer (on the main thread): Done, Trouble or a notice."""
        self.outcomes.append(outcome)
        pad, self._pad = self._pad, None
        if pad is not None and not isinstance(outcome, Printed | PrintFailed):
            self._pad_refused(pad, outcome)
            return
        for each in self.pads.values():
            each.reset()
        if isinstance(outcome, Printed | PrintFailed):
            self._taken[outcome.ticket.service_code] = (outcome.ticket.code, time.monotonic())
        if isinstance(outcome, Printed):
            self.shown = outcome.ticket
            self._show_done(outcome.ticket)
            self._return_home_after(self.settings.home_after_s)
        elif isinstance(outcome, PrintFailed):
            self.shown = outcome.ticket
            self._show_trouble(outcome.ticket)
            self._return_home_after(max(60, self.settings.home_after_s * 6))
        else:
            title, note = self._notice(outcome)
            self._show(
                [("title", f"[b]{title}[/b]", 34, WARN), ("note", note, 24, INK)],
                [("ok", self.t("ok"), SERVICE, self.go_home)],
            )
            self._return_home_after(self.settings.home_after_s)

    def _notice(self, outcome: IssueResult) -> tuple[str, str]:
        if isinstance(outcome, PrinterBlocked):
            self.printer_status = outcome.status
            return self.t("printer_blocked"), self.t("printer_blocked_note")
        if isinstance(outcome, Refused):
            return self.t("refused"), words.refusal(self.language, outcome.code, outcome.message)
        if isinstance(outcome, Offline):
            return self.t("not_connected"), self.t("not_connected_note")
        assert isinstance(outcome, Unanswered)
        if outcome.attempts:  # it may be issued: the same service again gets the same number
            return self.t("no_answer_maybe"), self.t("no_answer_maybe_note")
        return self.t("no_answer"), self.t("no_answer_note")

    def _ticket_lines(self, ticket: TicketInfo) -> list[Any]:
        service = ticket.service_name
        cfg = self.office_config.service(ticket.service_code)
        if self.language == "en" and cfg and cfg.name_en:
            service = cfg.name_en
        wait = words.duration(self.language, ticket.estimated_wait_s)
        details = f"{self.t('ahead', n=ticket.ahead)}\n{self.t('estimate', t=wait)}"
        prio = f"  ·  {self.t('priority_button')}" if ticket.priority else ""
        if ticket.booking_slot:  # booked: it says so, with its slot
            prio = f"  ·  {self.t('booking', slot=ticket.booking_slot)}"
        return [
            ("number", f"[b]{ticket.code}[/b]", 130, INK),
            ("service", f"[b]{service}[/b]{prio}", 28, INK),
            ("details", details, 22, INK),
        ]

    def _show_done(self, ticket: TicketInfo) -> None:
        lines = [
            ("heading", self.t("your_number"), 24, INK_OFF),
            *self._ticket_lines(ticket),
            ("take", f"[b]{self.t('take_ticket')}[/b]", 34, GOOD),
            ("hint", self.t("touch_to_close"), 18, INK_OFF),
        ]
        self._show(lines, on_touch=self._done_touched, guard=NUMBER_GUARD)

    def _done_touched(self) -> None:
        if not self._bounce():
            self.go_home()

    def _show_trouble(self, ticket: TicketInfo) -> None:
        lines = [
            ("heading", f"[b]{self.t('trouble_title')}[/b]", 30, WARN),
            *self._ticket_lines(ticket),
            ("note", f"[b]{self.t('trouble_note')}[/b] {self.t('trouble_staff')}", 22, INK),
        ]
        buttons = [
            ("reprint", self.t("reprint"), SERVICE, self.reprint),
            ("done", self.t("done_button"), INK_OFF, self._done_touched),
        ]
        self._show(lines, buttons, guard=NUMBER_GUARD)

    def reprint(self) -> None:
        """Trouble screen: print the same number again (the queue is not asked again)."""
        if self.controller is None or self._bounce():
            return
        if self.controller.reprint():
            if self._home_timer is not None:  # the Trouble timer must not fire mid-print
                self._home_timer.cancel()
                self._home_timer = None
            self._show([("title", self.t("printing"), 40, INK)])

    def _return_home_after(self, seconds: float) -> None:
        if self._home_timer is not None:
            self._home_timer.cancel()
        self._home_timer = Clock.schedule_once(lambda _dt: self.go_home(), seconds)

    # ---- staff menu --------------------------------------------------------------------

    def on_corner_touch(self, widget: Any, touch: Any) -> bool:
        """Five taps on the office name within three seconds: the staff PIN pad."""
        if not widget.collide_point(*touch.pos):
            return False
        now = time.monotonic()
        self._corner_taps = [t for t in self._corner_taps if now - t < CORNER_WINDOW_S] + [now]
        if len(self._corner_taps) >= CORNER_TAPS:
            self._corner_taps = []
            self.open_pin_pad()
        return False

    def open_pin_pad(self) -> Popup | None:
        if not self.settings.staff_pin:
            log.info("staff menu asked for, but [kiosk] staff_pin is not set")
            return None
        u = unit()
        entered: list[str] = []
        box = BoxLayout(orientation="vertical", spacing=8 * u, padding=8 * u)
        shown = label("PIN", 30 * u, (1, 1, 1, 1), size_hint_y=None, height=50 * u)
        box.add_widget(shown)
        grid = GridLayout(cols=3, spacing=6 * u)
        popup = Popup(
            title="Petugas / Staff",
            content=box,
            size_hint=(0.6, 0.9),
            title_size=20 * u,
            auto_dismiss=True,
        )

        def press(key: str) -> None:
            if key == "<":
                entered[:] = entered[:-1]
            elif key == "OK":
                ok = "".join(entered) == self.settings.staff_pin
                entered.clear()
                if ok:
                    popup.dismiss()
                    self.open_staff_menu()
                    return
                shown.text = "PIN salah / wrong PIN"
                return
            elif len(entered) < 8:
                entered.append(key)
            shown.text = "*" * len(entered) or "PIN"

        for key in ["1", "2", "3", "4", "5", "6", "7", "8", "9", "<", "0", "OK"]:
            grid.add_widget(big_button(key, 30 * u, SERVICE, partial(press, key)))
        box.add_widget(grid)
        popup.open()
        self._close_when_idle(popup)
        self.pin_pad = popup
        return popup

    def _close_when_idle(self, popup: Popup) -> None:
        """Staff walk away: the PIN pad or menu closes by itself, so residents never get it."""
        timer = Clock.schedule_once(lambda _dt: popup.dismiss(), STAFF_IDLE_S)
        popup.bind(on_dismiss=lambda *_: timer.cancel())

        def touched(*_: Any) -> None:
            timer.cancel()
            timer()  # re-arm: STAFF_IDLE_S from the last touch

        popup.bind(on_touch_down=touched)

    def open_staff_menu(self) -> Popup:
        assert self.controller is not None
        u = unit()
        controller = self.controller
        box = BoxLayout(orientation="vertical", spacing=8 * u, padding=8 * u)
        info = label("", 18 * u, (1, 1, 1, 1), halign="left")

        def describe(status: str | None = None) -> None:
            last = controller.last.code if controller.last else "-"
            info.text = (
                f"Perangkat / device: [b]{self.settings.device_id}[/b]\n"
                f"Versi / version: [b]{__version__}[/b]\n"
                f"Printer: [b]{status or self.printer_status.value}[/b] ({self.printer.name}, "
                f"{self.printer.paper_mm} mm)\n"
                f"Antrean / queue: [b]{'online' if self.connected else 'offline'}[/b]\n"
                f"Tiket terakhir / last ticket: [b]{last}[/b]"
            )

        def check() -> None:
            controller.poll_printer()
            Clock.schedule_once(lambda _dt: describe(), 0.3)

        describe()
        box.add_widget(info)
        actions = [
            ("reprint", "Cetak ulang tiket terakhir / Reprint last", self._staff_reprint),
            ("test", "Tes cetak / Test print", lambda: controller.test_print(describe)),
            ("status", "Status printer / Printer status", check),
        ]
        self.staff_buttons: dict[str, Button] = {}
        for key, text, action in actions:
            btn = big_button(text, 20 * u, SERVICE, action, size_hint_y=None, height=56 * u)
            self.staff_buttons[key] = btn
            box.add_widget(btn)
        popup = Popup(
            title="Menu petugas / Staff menu", content=box, size_hint=(0.8, 0.95), title_size=20 * u
        )
        close = big_button(
            "Tutup / Close", 20 * u, INK_OFF, popup.dismiss, size_hint_y=None, height=56 * u
        )
        self.staff_buttons["close"] = close
        box.add_widget(close)
        popup.open()
        self._close_when_idle(popup)
        self.staff_menu = popup
        return popup

    def _staff_reprint(self) -> None:
        assert self.controller is not None
        if self.controller.reprint():
            self._locked = True
