"""The board's Kivy widgets; their look is in screen.kv."""

from __future__ import annotations

from kivy.clock import Clock
from kivy.core.text import Label as CoreLabel
from kivy.graphics import Color, Rectangle
from kivy.properties import (
    BooleanProperty,
    ColorProperty,
    NumericProperty,
    StringProperty,
)
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.stencilview import StencilView


class Panel(BoxLayout):
    """A rounded box in the board's colours; `u` is the screen's size unit."""

    bg = ColorProperty((0.075, 0.2, 0.36, 1))
    u = NumericProperty(1.0)


class CounterTile(Panel):
    name = StringProperty("")
    serving = StringProperty("")
    open = BooleanProperty(True)


class ServiceTile(Panel):
    code = StringProperty("")
    name = StringProperty("")
    note = StringProperty("")  # why it takes no tickets now ("Kuota hari ini sudah penuh.")
    figure = StringProperty("")


class RecentRow(Panel):
    code = StringProperty("")
    counter_name = StringProperty("")


class Marquee(StencilView):
    """The running text: one line that scrolls right to left, for ever."""

    text = StringProperty("")
    font_size = NumericProperty(36)
    speed = NumericProperty(120.0)  # pixels per second

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._offset = 0.0
        self._texture_width = 0.0
        with self.canvas:
            Color(1, 1, 1, 1)
            self._rect = Rectangle()
        self.bind(text=self._render, font_size=self._render, size=self._render, pos=self._place)
        self._ticker = Clock.schedule_interval(self._scroll, 1 / 30)

    def stop(self) -> None:
        """Stops scrolling (the app is closing)."""
        self._ticker.cancel()

    def _render(self, *_: object) -> None:
        if not self.text:
            self._rect.texture = None
            self._rect.size = (0, 0)
            return
        label = CoreLabel(text=self.text, font_size=self.font_size, bold=True)
        label.refresh()
        self._rect.texture = label.texture
        self._rect.size = label.texture.size
        self._texture_width = float(label.texture.size[0])
        self._place()

    def _scroll(self, dt: float) -> None:
        if not self.text:
            return
        self._offset -= self.speed * dt
        if self._offset < -self._texture_width:
            self._offset = float(self.width)  # start again from the right edge
        self._place()

    def _place(self, *_: object) -> None:
        height = self._rect.size[1]
        self._rect.pos = (self.x + self._offset, self.y + (self.height - height) / 2)


class BoardScreen(BoxLayout):
    """The whole TV picture; BoardApp sets these properties from the model."""

    u = NumericProperty(1.0)  # one 1080th of the screen height
    office_name = StringProperty("")
    offline_text = StringProperty("")
    date_text = StringProperty("")
    clock_text = StringProperty("")
    highlighted = BooleanProperty(False)
    call_title = StringProperty("")
    call_code = StringProperty("")
    call_counter = StringProperty("")
    running_text = StringProperty("")
    marquee_speed = NumericProperty(120)

    def on_height(self, _widget: object, height: float) -> None:
        self.u = height / 1080

    def on_u(self, _widget: object, u: float) -> None:
        for box in (self.ids.recent, self.ids.counters, self.ids.services):
            for child in box.children:
                child.u = u
