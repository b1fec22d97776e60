"""The kiosk's screens as Kivy widgets. Sizes come from the window (`unit`), so one layout
serves 800x480, 1280x800 and 1080x1920; the words come from kiosk.words."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from kivy.core.text.markup import MarkupLabel
from kivy.core.window import Window
from kivy.graphics import Color, Rectangle
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.gridlayout import GridLayout
from kivy.uix.label import Label
from kivy.uix.screenmanager import Screen
from kivy.uix.widget import Widget

from kiosk import words
from kiosk.view import HomeView

# Colours (RGBA): high contrast for old eyes and a sunny lobby.
BACKGROUND = (0.96, 0.96, 0.94, 1)
INK = (0.08, 0.1, 0.12, 1)
SERVICE = (0.05, 0.36, 0.62, 1)
SERVICE_OFF = (0.78, 0.79, 0.8, 1)
INK_OFF = (0.3, 0.31, 0.33, 1)
PRIORITY = (0.55, 0.16, 0.52, 1)
PRIORITY_ON = (0.95, 0.78, 0.2, 1)
GOOD = (0.1, 0.5, 0.22, 1)
WARN = (0.75, 0.3, 0.05, 1)
BANNER = (1.0, 0.93, 0.75, 1)
SCHEDULE = (0.0, 0.42, 0.45, 1)  # apart from the services' blue: it gives no number
WHITE = (1, 1, 1, 1)


def unit() -> float:
    """One layout unit: the short side of the window over 480 (the 7" screen is 1)."""
    return float(min(Window.width, Window.height)) / 480.0


def portrait() -> bool:
    return bool(Window.height > Window.width)


def paint(widget: Any, rgba: tuple[float, ...]) -> None:
    """A solid background that follows the widget."""
    widget.canvas.before.clear()
    with widget.canvas.before:
        Color(*rgba)
        rect = Rectangle(pos=widget.pos, size=widget.size)

    def follow(*_: object) -> None:
        rect.pos, rect.size = widget.pos, widget.size

    widget.bind(pos=follow, size=follow)


def label(
    text: str,
    size: float,
    color: tuple[float, ...] = INK,
    bold: bool = False,
    halign: str = "center",
    **kw: Any,
) -> Label:
    """A wrapping label whose text box follows its size (nothing runs off the edge)."""
    lbl = Label(
        text=text,
        font_size=size,
        color=color,
        bold=bold,
        halign=halign,
        valign="middle",
        markup=True,
        **kw,
    )
    lbl.bind(size=lambda w, s: setattr(w, "text_size", (s[0], s[1])))
    return lbl


def text_height(text: str, size: float, width: float) -> float:
    """The height `text` (markup) needs at font `size` when wrapped at `width` pixels."""
    core = MarkupLabel(text=text, font_size=size, text_size=(width, None), halign="center")
    _w, height = core.render()
    return float(height) + 2  # Kivy rounds each line to whole pixels


def big_button(
    text: str, size: float, rgba: tuple[float, ...], on_release: Callable[[], None], **kw: Any
) -> Button:
    btn = Button(
        text=text,
        font_size=size,
        markup=True,
        halign="center",
        valign="middle",
        background_normal="",
        background_down="",
        background_disabled_normal="",
        background_color=rgba,
        color=WHITE,
        **kw,
    )
    btn.bind(size=lambda w, s: setattr(w, "text_size", (s[0] * 0.92, s[1] * 0.92)))
    btn.bind(on_release=lambda *_: on_release())
    return btn


class HomeScreen(Screen):
    """The office, the time, one big button per service, the priority button."""

    def __init__(self, app: Any, **kw: Any) -> None:
        super().__init__(name="home", **kw)
        self.app = app
        self.service_buttons: dict[str, Button] = {}
        self.priority_button: Button | None = None
        self.booking_button: Button | None = None
        self.schedule_button: Button | None = None
        self.office_label: Label | None = None
        self.clock_label: Label | None = None
        self.language_button: Button | None = None

    # One screen built top to bottom reads best as one function.
    def render(self, view: HomeView, priority_mode: bool, clock_text: str) -> None:  # noqa: PLR0915
        u = unit()
        app = self.app
        self.clear_widgets()
        root = BoxLayout(orientation="vertical", padding=10 * u, spacing=8 * u)
        paint(root, BACKGROUND)

        header = BoxLayout(size_hint_y=None, height=64 * u, spacing=8 * u)
        titles = BoxLayout(orientation="vertical")
        self.office_label = label(f"[b]{view.office_name}[/b]", 26 * u, halign="left")
        self.office_label.bind(on_touch_down=app.on_corner_touch)
        self.clock_label = label(clock_text, 16 * u, halign="left", size_hint_y=0.7)
        titles.add_widget(self.office_label)
        titles.add_widget(self.clock_label)
        self.language_button = big_button(
            app.t("language"),
            16 * u,
            INK_OFF,
            app.toggle_language,
            size_hint_x=None,
            width=130 * u,
        )
        header.add_widget(titles)
        # The schedule button: in the header when landscape, where it takes no service's
        # height; upright screens are too narrow for it there and have height to spare.
        self.schedule_button = schedule_button(app) if view.schedule else None
        if self.schedule_button is not None and not portrait():
            header.add_widget(self.schedule_button)
        header.add_widget(self.language_button)
        root.add_widget(header)

        if view.banner:
            banner = label(
                f"[b]{view.banner}[/b]\n{view.banner_note}", 20 * u, size_hint_y=None, height=78 * u
            )
            paint(banner, BANNER)
            root.add_widget(banner)
        elif priority_mode:
            hint = label(
                f"[b]{app.t('priority_choose')}[/b]", 24 * u, size_hint_y=None, height=44 * u
            )
            paint(hint, PRIORITY_ON)
            root.add_widget(hint)
        else:
            root.add_widget(label(app.t("choose"), 22 * u, size_hint_y=None, height=36 * u))

        cols = 1 if portrait() or len(view.buttons) < 2 else 2
        grid = GridLayout(cols=cols, spacing=10 * u)
        self.service_buttons = {}
        for b in view.buttons:
            face = (
                PRIORITY if priority_mode and b.enabled else SERVICE if b.enabled else SERVICE_OFF
            )
            title = f"[b][size={int(30 * u)}]{b.title}[/size][/b]"
            text = f"{title}\n[size={int(19 * u)}]{b.detail}[/size]"
            btn = big_button(text, 30 * u, face, partial(app.take, b.code))
            btn.disabled = not b.enabled
            btn.disabled_color = INK_OFF
            grid.add_widget(btn)
            self.service_buttons[b.code] = btn
        root.add_widget(grid)

        self.booking_button = None
        if view.booking:
            self.booking_button = booking_button(app.language, bool(view.banner), app.open_code)
            root.add_widget(self.booking_button)
        if self.schedule_button is not None and portrait():
            self.schedule_button.size_hint = (1, None)
            self.schedule_button.height = 70 * u
            root.add_widget(self.schedule_button)

        self.priority_button = None
        if view.priority_enabled:
            if priority_mode:
                text = f"[b]{app.t('cancel')}[/b]"
                face = INK_OFF
            else:
                text = (
                    f"[b][size={int(26 * u)}]{app.t('priority_button')}[/size][/b]  "
                    f"[size={int(19 * u)}]{app.t('priority_who')}\n"
                    f"{app.t('priority_hint')}[/size]"
                )
                face = PRIORITY
            self.priority_button = big_button(
                text, 24 * u, face, app.toggle_priority, size_hint_y=None, height=70 * u
            )
            self.priority_button.disabled = bool(view.banner)
            root.add_widget(self.priority_button)
        self.add_widget(root)

    def set_clock(self, text: str) -> None:
        if self.clock_label is not None:
            self.clock_label.text = text


def schedule_button(app: Any) -> Button:
    """Home's "Jadwal keliling": the coming visits of the mobile unit, both languages."""
    u = unit()
    other = "en" if app.language == "id" else "id"
    text = (
        f"[b][size={int(19 * u)}]{app.t('schedule_button')}[/size][/b]\n"
        f"[size={int(14 * u)}]{words.text(other, 'schedule_button')}[/size]"
    )
    return big_button(text, 18 * u, SCHEDULE, app.open_schedule, size_hint_x=None, width=170 * u)


def booking_button(language: str, disabled: bool, action: Callable[[], None]) -> Button:
    """Home's "Sudah mendaftar?" row: as tall as the priority row, the same type sizes.

    Upright screens are 480 units wide, too narrow for the Indonesian line in
    one: there it takes two lines, and the row is taller.
    """
    u = unit()
    other = "en" if language == "id" else "id"
    text = (
        f"[b][size={int(26 * u)}]{words.text(language, 'booking_button')}[/size][/b]\n"
        f"[size={int(19 * u)}]{words.text(other, 'booking_button')}[/size]"
    )
    face = SERVICE_OFF if disabled else GOOD
    height = (100 if portrait() else 70) * u
    btn = big_button(text, 24 * u, face, action, size_hint_y=None, height=height)
    btn.disabled = disabled
    btn.disabled_color = INK_OFF
    return btn


@dataclass(frozen=True, slots=True)
class TouchGuard:
    """Which touches a message screen ignores, so a finger that keeps tapping does nothing.

    after_shown_s: touches this soon after the screen appeared (a bounce, or
    the taps that follow a ticket). quiet_s: a touch this soon after the
    previous touch on the screen (ignored ones count too), so only a touch
    after a pause, as a resident who has read the screen makes, is taken.
    """

    after_shown_s: float = 0.8
    quiet_s: float = 0.0


_DOWN_ON = "antrean_screen"  # touch.ud key: the render of the screen the touch went down on


class MessageScreen(Screen):
    """Printing, Done, Trouble and the short notices: a column of centred lines and buttons."""

    def __init__(self, name: str, app: Any, **kw: Any) -> None:
        super().__init__(name=name, **kw)
        self.app = app
        self.labels: dict[str, Label] = {}
        self.buttons: dict[str, Button] = {}

    def render(
        self,
        lines: list[tuple[str, str, float, tuple[float, ...]]],
        buttons: list[tuple[str, str, tuple[float, ...], Callable[[], None]]] = (),  # type: ignore[assignment]
        on_touch: Callable[[], None] | None = None,
        guard: TouchGuard | None = None,
    ) -> None:
        """lines: (key, text, size in units, colour); buttons: (key, text, colour, action).

        `guard` says which touches this screen ignores (see TouchGuard); the
        buttons and `on_touch` only see a touch that went down here, unguarded.
        """
        self._guard = guard or TouchGuard()
        self._shown_at = time.monotonic()
        self._last_touch = float("-inf")
        self._serial += 1
        u, heights = self._fit(lines, bool(buttons))
        self.clear_widgets()
        root = BoxLayout(orientation="vertical", padding=16 * u, spacing=6 * u)
        paint(root, BACKGROUND)
        root.add_widget(Widget())  # spacers above and below centre the column
        self.labels = {}
        for (key, text, size, color), height in zip(lines, heights, strict=True):
            lbl = label(text, size * u, color, size_hint_y=None, height=height)
            self.labels[key] = lbl
            root.add_widget(lbl)
        self.buttons = {}
        if buttons:
            row = BoxLayout(size_hint_y=None, height=76 * u, spacing=16 * u, padding=(40 * u, 0))
            for key, text, color, action in buttons:
                btn = big_button(f"[b]{text}[/b]", 28 * u, color, action)
                self.buttons[key] = btn
                row.add_widget(btn)
            root.add_widget(row)
        root.add_widget(Widget())
        self._on_touch = on_touch
        self.add_widget(root)

    def on_touch_down(self, touch: Any) -> bool:
        now = time.monotonic()
        early = now - self._shown_at < self._guard.after_shown_s
        hasty = now - self._last_touch < self._guard.quiet_s
        self._last_touch = now
        if early or hasty:
            return True  # swallowed: no button under it is pressed either
        touch.ud[_DOWN_ON] = self._serial
        return bool(super().on_touch_down(touch))

    @staticmethod
    def _fit(
        lines: list[tuple[str, str, float, tuple[float, ...]]], buttons: bool
    ) -> tuple[float, list[float]]:
        """The unit and each line's height (pixels) so that every line shows all its words.

        Each line is as tall as its text wrapped at the column's width; when the
        column is taller than the window, every size shrinks by the same factor.
        """
        u = unit()
        heights: list[float] = []
        for _attempt in range(8):  # wrapping changes with the size: shrink until it fits
            width = Window.width - 2 * 16 * u
            heights = [text_height(text, size * u, width) for _k, text, size, _c in lines]
            chrome = (32 + 6 * (len(lines) + 3) + (76 + 6 if buttons else 0)) * u
            needed = sum(heights) + chrome
            if needed <= Window.height:
                break
            u *= max(0.5, 0.98 * Window.height / needed)
        return u, heights

    def on_touch_up(self, touch: Any) -> bool:
        if super().on_touch_up(touch):
            return True
        if touch.ud.get(_DOWN_ON) != self._serial:
            return False  # it went down before this screen was up, or was ignored
        if self._on_touch is not None and self.collide_point(*touch.pos):
            self._on_touch()
            return True
        return False

    _on_touch: Callable[[], None] | None = None
    _guard = TouchGuard()
    _shown_at = 0.0
    _last_touch = float("-inf")
    _serial = 0
