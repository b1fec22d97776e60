"""The on-screen counter console (Kivy): `antrean counter --console`.

The number being served, how many wait in each service of the counter, the
buttons (next, recall, no-show, complete, transfer with a service picker,
call a number) and the open/closed switch. A counter of a card service
(printing) also shows the blank-card stock and has "Kartu rusak" (a spoiled
card, with a reason picker); completing a recording asks for the resident's
kelurahan (the drive's progress), or "Tidak diketahui". On a mobile unit a band
under the title names the open visit ("Kunjungan dibuka"). Every command goes through the
same CounterAgent as the hardware buttons, so the one-command-at-a-time rule
holds across the console and the buttons together. Agent callbacks arrive
on MQTT and input threads and are handed to Kivy's thread with
Clock.schedule_once. The wording lives in console_view.py.
"""

from __future__ import annotations

import math
import signal
from pathlib import Path
from types import FrameType
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.metrics import dp
from kivy.properties import BooleanProperty, ColorProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.gridlayout import GridLayout
from kivy.uix.label import Label
from kivy.uix.popup import Popup

from antrean.config import Config
from counter.agent import CounterAgent, PressResult
from counter.console_view import SPOIL_REASONS, UNKNOWN_KELURAHAN, ConsoleView

KV = Path(__file__).with_name("console.kv")
CODE_MAX = 5  # a letter and up to four digits (A1000 after 999)


def padded_code(entry: str) -> str:
    """A12 -> A012, as printed on the ticket (three digits at least); "" or "A" as they are."""
    if len(entry) < 2:
        return entry
    return entry[0] + entry[1:].zfill(3)


class ConsoleButton(Button):
    tint = ColorProperty((0.16, 0.38, 0.66, 1))


class WaitingRow(BoxLayout):
    """One service in the waiting column (console.kv draws it)."""

    service = StringProperty("")
    figures = StringProperty("")


class ConsoleRoot(BoxLayout):
    online = BooleanProperty(False)
    counter_open = BooleanProperty(False)
    has_current = BooleanProperty(False)
    message_is_error = BooleanProperty(False)
    uses_cards = BooleanProperty(False)
    has_visit = BooleanProperty(False)
    stock_level = StringProperty("ok")


class PickerPopup(Popup):
    """A popup whose content is built in Python (service picker, code pad)."""


class CounterConsoleApp(App):
    """The console of one counter; the agent (and its DeviceLink) is injected."""

    title = "Antrean · Loket"

    def __init__(self, agent: CounterAgent, config: Config, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.agent = agent
        self.view = ConsoleView(config, agent.counter)
        self.popup: PickerPopup | None = None
        self.code_entry = ""
        self._code_label: Label | None = None

    # ---- Kivy lifecycle -------------------------------------------------------------

    def build(self) -> ConsoleRoot:
        if str(KV) not in Builder.files:
            Builder.load_file(str(KV))
        self.title = f"Antrean · {self.view.title}"
        root = ConsoleRoot(uses_cards=self.view.uses_cards)
        if not self.view.uses_cards:  # no card service here: no stock line, no spoil button
            root.ids.buttons.remove_widget(root.ids.spoil)
            root.ids.waiting_card.remove_widget(root.ids.stock)
        self.agent.listeners.append(self)
        # Whatever the link already holds (the retained state arrived before the window).
        for path, body in self.agent.link.states().items():
            self.view.on_state(path, body)
        self.view.online = self.agent.online
        self.root = root
        self.refresh()
        return root

    def on_stop(self) -> None:
        if self in self.agent.listeners:
            self.agent.listeners.remove(self)
        if self.popup:
            self.popup.dismiss()

    # ---- agent listener (other threads) ------------------------------------------------

    def on_outcome(self, outcome: PressResult) -> None:
        Clock.schedule_once(lambda _dt: self._outcome(outcome))

    def on_state(self, path: str, body: dict[str, Any]) -> None:
        Clock.schedule_once(lambda _dt: self._state(path, body))

    def on_link(self, online: bool) -> None:
        Clock.schedule_once(lambda _dt: self._link(online))

    def _outcome(self, outcome: PressResult) -> None:
        self.view.on_outcome(outcome)
        self.refresh()

    def _state(self, path: str, body: dict[str, Any]) -> None:
        if self.view.on_state(path, body):
            self.refresh()

    def _link(self, online: bool) -> None:
        self.view.online = online
        self.refresh()

    # ---- drawing ---------------------------------------------------------------------

    def refresh(self) -> None:
        """Copies the view into the widgets."""
        root = self.root
        if root is None:
            return
        v = self.view
        ids = root.ids
        ids.title.text = v.title
        ids.link.text = v.link_text
        ids.open_switch.text = v.open_text
        ids.code.text = v.current_code
        ids.detail.text = v.current_detail
        ids.message.text = v.message
        ids.visit.text = v.visit_text
        root.has_visit = bool(v.visit_text)
        if v.uses_cards:  # elsewhere the stock line is not in the tree (see build)
            ids.stock.text = v.stock_text
            root.stock_level = v.stock_level
        root.online = v.online
        root.counter_open = bool(v.open)
        root.has_current = v.current is not None
        root.message_is_error = v.message_is_error
        rows = [(row.service, row.figures) for row in v.waiting_rows]
        box = ids.waiting
        if [(w.service, w.figures) for w in box.children[::-1]] != rows:
            box.clear_widgets()
            for service, figures in rows:
                box.add_widget(WaitingRow(service=service, figures=figures))

    # ---- commands --------------------------------------------------------------------

    def act(self, action: str, label: str, args: dict[str, Any] | None = None) -> bool:
        """Sends one command through the agent; the outcome arrives as on_outcome."""
        sent = self.agent.command(action, args or {}, "console")
        if sent:
            self.view.sending(label)
            self.refresh()
        return sent

    def toggle_open(self) -> None:
        if self.view.open:
            self.act("counter_close", "Menutup loket")
        else:
            self.act("counter_open", "Membuka loket")

    def complete(self) -> None:
        """Selesai: a recording first asks for the resident's kelurahan."""
        if not self.view.needs_kelurahan:
            self.act("complete", "Menyelesaikan")
            return
        names = self.view.kelurahan_choices()
        grid = GridLayout(cols=max(3, math.ceil(math.sqrt(len(names) + 2))), spacing=dp(8))
        grid.padding = dp(8)
        for name in names:
            button = ConsoleButton(text=name, font_size="20sp")
            button.bind(on_release=lambda _b, k=name: self._complete_for(k))
            grid.add_widget(button)
        unknown = ConsoleButton(
            text=UNKNOWN_KELURAHAN, font_size="20sp", tint=(0.09, 0.20, 0.37, 1)
        )
        unknown.bind(on_release=lambda _b: self._complete_for(None))
        grid.add_widget(unknown)
        grid.add_widget(self._cancel_button())
        self._show(f"Selesai {self.view.current_code}: kelurahan warga?", grid)

    def _complete_for(self, kelurahan: str | None) -> None:
        self._close_popup()
        args = {"kelurahan": kelurahan} if kelurahan else {}
        self.act("complete", f"Menyelesaikan ({kelurahan or UNKNOWN_KELURAHAN})", args)

    def open_spoil(self) -> None:
        """Kartu rusak: one spoiled blank card, with the reason picked from a short list."""
        grid = GridLayout(cols=1, spacing=dp(8), padding=dp(8))
        for reason in SPOIL_REASONS:
            button = ConsoleButton(text=reason, font_size="20sp", tint=(0.55, 0.27, 0.07, 1))
            button.bind(on_release=lambda _b, r=reason: self._spoil(r))
            grid.add_widget(button)
        grid.add_widget(self._cancel_button())
        self._show("Catat 1 kartu rusak. Alasannya:", grid)

    def _spoil(self, reason: str) -> None:
        self._close_popup()
        self.act("stock_spoil", "Mencatat kartu rusak", {"count": 1, "reason": reason})

    def open_transfer(self) -> None:
        """The service picker: one button per service the ticket can move to."""
        code = self.view.current_code
        grid = GridLayout(cols=1, spacing=dp(8), padding=dp(8))
        for service, text in self.view.transfer_choices():
            button = ConsoleButton(text=text, font_size="22sp")
            button.bind(on_release=lambda _b, s=service: self._transfer_to(s))
            grid.add_widget(button)
        grid.add_widget(self._cancel_button())
        self._show(f"Alihkan nomor {code} ke layanan:", grid)

    def _transfer_to(self, service: str) -> None:
        self._close_popup()
        self.act("transfer", f"Mengalihkan ke layanan {service}", {"service": service})

    def open_call_number(self) -> None:
        """A code pad: a service letter, then the digits of the printed number."""
        self.code_entry = ""
        content = BoxLayout(orientation="vertical", spacing=dp(8), padding=dp(8))
        self._code_label = Label(
            text="", font_size="44sp", bold=True, markup=True, size_hint_y=0.25
        )
        content.add_widget(self._code_label)
        letters = GridLayout(rows=1, spacing=dp(8), size_hint_y=0.18)
        for letter in self.view.call_letters():
            letters.add_widget(self._pad_button(letter, (0.09, 0.20, 0.37, 1)))
        content.add_widget(letters)
        digits = GridLayout(cols=6, spacing=dp(8), size_hint_y=0.36)
        for digit in "1234567890":
            digits.add_widget(self._pad_button(digit, (0.16, 0.38, 0.66, 1)))
        erase = ConsoleButton(text="Hapus", tint=(0.36, 0.40, 0.47, 1))
        erase.bind(on_release=lambda _b: self._type(None))
        digits.add_widget(erase)
        digits.add_widget(self._cancel_button())
        content.add_widget(digits)
        call = ConsoleButton(
            text="[b]Panggil[/b]  [size=14sp]Call[/size]",
            font_size="22sp",
            tint=(0.09, 0.53, 0.29, 1),
            size_hint_y=0.21,
        )
        call.bind(on_release=lambda _b: self._call_entered())
        content.add_widget(call)
        self._show("Panggil nomor (huruf layanan, lalu angka):", content)
        self._type("")

    def _pad_button(self, key: str, tint: tuple[float, ...]) -> ConsoleButton:
        button = ConsoleButton(text=key, font_size="26sp", tint=tint)
        button.bind(on_release=lambda _b: self._type(key))
        return button

    def _type(self, key: str | None) -> None:
        """A pad key: a letter starts a new code, a digit appends, None erases one."""
        entry = self.code_entry
        if key is None:
            entry = entry[:-1]
        elif key.isalpha():
            entry = key
        elif entry and len(entry) < CODE_MAX:
            entry += key
        self.code_entry = entry
        if self._code_label is not None:
            full = padded_code(entry)
            hint = f"  [size=24sp][color=#9fb3c8]= {full}[/color][/size]" if full != entry else ""
            self._code_label.text = (entry or "_") + hint

    def _call_entered(self) -> None:
        code = self.code_entry
        if len(code) < 2:
            self._type("")
            return
        self._close_popup()
        code = padded_code(code)
        self.act("call_ticket", f"Memanggil {code}", {"code": code})

    def _cancel_button(self) -> ConsoleButton:
        button = ConsoleButton(text="Batal", tint=(0.36, 0.40, 0.47, 1))
        button.bind(on_release=lambda _b: self._close_popup())
        return button

    def _show(self, title: str, content: Any) -> None:
        self._close_popup()
        self.popup = PickerPopup(title=title, content=content)
        self.popup.open()

    def _close_popup(self) -> None:
        if self.popup is not None:
            self.popup.dismiss()
            self.popup = None


def run_console(agent: CounterAgent, config: Config) -> None:
    """Runs the console until its window closes, SIGTERM or Ctrl-C (a clean stop each time)."""
    app = CounterConsoleApp(agent, config)

    def stop(_signum: int, _frame: FrameType | None) -> None:
        Clock.schedule_once(lambda _dt: app.stop())

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    app.run()
