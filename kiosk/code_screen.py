"""The keypad screens: a big keypad, the digits in groups of four, and why they were refused.

One screen class, three pads (PADS): the booking code, a walk-in's NIK for a
`nik_per_day` service, and the booked NIK's last four digits
(`confirm_nik_last4`). The digits typed (or typed by a USB scanner, which is
a keyboard to Kivy) live in a CodeEntry (kiosk/code_entry.py, no Kivy); a
refused code is kept, so one wrong digit is one "Hapus" and one digit. The
screen goes back to Home by itself after IDLE_S untouched, like the staff
PIN pad.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from kivy.clock import Clock
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.gridlayout import GridLayout
from kivy.uix.label import Label
from kivy.uix.screenmanager import Screen

from antrean.booking import CODE_DIGITS, NIK_DIGITS
from kiosk import words
from kiosk.code_entry import CodeEntry
from kiosk.ui import (
    BACKGROUND,
    GOOD,
    INK,
    INK_OFF,
    SERVICE,
    big_button,
    label,
    paint,
    portrait,
    unit,
)

IDLE_S = 60  # untouched this long: back to Home, so the next resident never sees the code
KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "delete", "0", "ok")
ENTER_KEYS = frozenset({13, 271})  # Return, keypad Enter: a scanner ends its code with one
BACKSPACE = 8


@dataclass(frozen=True, slots=True)
class Pad:
    """What one keypad screen asks for: its screen name, its words (kiosk/words.py), its digits."""

    name: str
    title: str
    hint: str
    length: int
    masked: bool = False
    digit_size: float = 64  # the field's font at unit 1: 16 digits need a smaller one to fit


CODE = Pad("code", "code_title", "code_hint", CODE_DIGITS)
NIK = Pad("nik", "nik_title", "nik_hint", NIK_DIGITS, masked=True, digit_size=34)
LAST4 = Pad("last4", "last4_title", "last4_hint", 4)


class CodeScreen(Screen):
    """Keypad and field; `submit` gets the digits when OK (or a scanner's Enter) is pressed."""

    def __init__(self, app: Any, submit: Callable[[str], None], pad: Pad = CODE, **kw: Any) -> None:
        super().__init__(name=pad.name, **kw)
        self.app = app
        self.submit = submit
        self.pad = pad
        self.entry = CodeEntry(pad.length, pad.masked)
        self.keys: dict[str, Button] = {}
        self.field: Label | None = None
        self.note: Label | None = None
        self._note: tuple[str, tuple[float, ...]] = ("", INK)
        self._idle: Any = None
        self._drawn = 0  # renders so far: a key of an earlier render is a stale widget

    # ---- what the resident does ----------------------------------------------------------

    def press(self, key: str) -> None:
        """One keypad key (or one scanned character): a digit, "delete", "ok" or "cancel"."""
        self.touched()
        if key == "cancel":
            self.app.go_home()
            return
        if key == "ok":
            self.submit(self.entry.code)
            return
        if key == "delete":
            self.entry.delete()
        elif not self.entry.press(key):
            return
        self.set_note("")
        self.refresh()

    def typed(self, text: str) -> bool:
        """Characters from a keyboard or scanner: digits go in, anything else is ignored."""
        used = False
        for ch in text:
            if ch.isascii() and ch.isdigit():
                self.press(ch)
                used = True
        return used

    def key_down(self, key: int) -> bool:
        """Enter submits, Backspace deletes; True when the key was ours."""
        if key in ENTER_KEYS:
            self.press("ok")
            return True
        if key == BACKSPACE:
            self.press("delete")
            return True
        return False

    def reset(self) -> None:
        self.entry.clear()
        self._note = ("", INK)

    def set_note(self, text: str, color: tuple[float, ...] = INK) -> None:
        """The line under the code: a refusal, or empty."""
        self._note = (text, color)
        if self.note is not None:
            self.note.text = text
            self.note.color = color

    def refresh(self) -> None:
        if self.field is not None:
            self.field.text = f"[b]{self.entry.shown()}[/b]"

    # ---- going back to Home when nobody is here -----------------------------------------

    def touched(self) -> None:
        """Re-arms the idle timer: IDLE_S from the last touch or key."""
        if self._idle is not None:
            self._idle.cancel()
        self._idle = Clock.schedule_once(lambda _dt: self.app.go_home(), IDLE_S)

    def on_enter(self, *_: Any) -> None:
        self.touched()

    def on_leave(self, *_: Any) -> None:
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None

    def on_touch_down(self, touch: Any) -> bool:
        if self.collide_point(*touch.pos):
            self.touched()
        return bool(super().on_touch_down(touch))

    # ---- layout ------------------------------------------------------------------------------

    def render(self) -> None:
        """Builds the screen for the window's size and the app's language."""
        u = unit()
        language = self.app.language
        other = "en" if language == "id" else "id"
        small = f"[size={int(18 * u)}]"
        tall = portrait()
        self.clear_widgets()
        root = BoxLayout(
            orientation="vertical" if tall else "horizontal", padding=10 * u, spacing=10 * u
        )
        paint(root, BACKGROUND)
        column = BoxLayout(orientation="vertical", spacing=6 * u)
        title = (
            f"[b]{words.text(language, self.pad.title)}[/b]\n"
            f"{small}{words.text(other, self.pad.title)}[/size]"
        )
        column.add_widget(label(title, 26 * u, INK, size_hint_y=None, height=70 * u))
        self.field = label("", self.pad.digit_size * u, INK, size_hint_y=None, height=96 * u)
        paint(self.field, (1, 1, 1, 1))
        column.add_widget(self.field)
        self.note = label(self._note[0], 18 * u, self._note[1])
        column.add_widget(self.note)
        hint = words.text(language, self.pad.hint)
        column.add_widget(label(hint, 15 * u, INK_OFF, size_hint_y=None, height=44 * u))
        cancel = (
            f"[b]{words.text(language, 'cancel')}[/b]\n{small}{words.text(other, 'cancel')}[/size]"
        )
        self._drawn += 1
        cancel_button = big_button(
            cancel, 26 * u, INK_OFF, self._action("cancel"), size_hint_y=None, height=70 * u
        )
        grid = GridLayout(cols=3, spacing=8 * u)
        self.keys = {}
        for key in KEYS:
            grid.add_widget(self._key(key, language, other, u))
        if tall:
            column.size_hint_y = 0.42
            grid.size_hint_y = 0.58
            root.add_widget(column)
            root.add_widget(grid)
            root.add_widget(cancel_button)
        else:
            column.add_widget(cancel_button)
            root.add_widget(column)
            root.add_widget(grid)
        self.keys["cancel"] = cancel_button
        self.add_widget(root)
        self.refresh()

    def _action(self, key: str) -> Callable[[], None]:
        """The key's action, for this render only.

        A finger that went down on OK, held while the code was checked and
        refused, lifts on the screen drawn for the refusal: the old OK button
        still has the touch and would send the code a second time.
        """
        return partial(self._pressed, self._drawn, key)

    def _pressed(self, drawn: int, key: str) -> None:
        if drawn == self._drawn:
            self.press(key)

    def _key(self, key: str, language: str, other: str, u: float) -> Button:
        if key == "delete":
            text = (
                f"[b]{words.text(language, 'delete')}[/b]\n"
                f"[size={int(18 * u)}]{words.text(other, 'delete')}[/size]"
            )
            btn = big_button(text, 26 * u, INK_OFF, self._action(key))
        elif key == "ok":
            btn = big_button("[b]OK[/b]", 40 * u, GOOD, self._action(key))
        else:
            btn = big_button(f"[b]{key}[/b]", 44 * u, SERVICE, self._action(key))
        self.keys[key] = btn
        return btn
