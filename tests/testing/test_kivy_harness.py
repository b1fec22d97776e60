"""The Kivy harness itself: a real window on Xvfb, a touch, a screenshot."""

from __future__ import annotations

from pathlib import Path

from kivy.app import App
from kivy.uix.button import Button
from PIL import Image

from tests.support.kivy_harness import screenshot, set_window_size, start_app, stop_app, tap


class OneButton(App):
    def build(self) -> Button:
        self.pressed = 0
        button = Button(text="Ambil tiket", background_normal="", background_color=(1, 0, 0, 1))
        button.bind(on_release=self.count)
        return button

    def count(self, *_: object) -> None:
        self.pressed += 1


def test_a_tap_reaches_the_button_and_the_screenshot_shows_it(tmp_path: Path) -> None:
    app = start_app(OneButton(), size=(800, 480))
    try:
        tap(app.root)
        assert app.pressed == 1
        png = screenshot(tmp_path / "shot.png")
        with Image.open(png) as image:
            assert image.size == (800, 480)
            r, g, b = image.convert("RGB").getpixel((20, 20))[:3]
        assert (r > 200, g < 50, b < 50) == (True, True, True), (r, g, b)
    finally:
        stop_app(app)


def test_the_window_takes_every_screen_size_the_apps_target(tmp_path: Path) -> None:
    app = start_app(OneButton())
    try:
        for size in [(800, 480), (1280, 800), (1080, 1920), (1366, 768), (1920, 1080)]:
            set_window_size(*size)
            with Image.open(screenshot(tmp_path / "size.png")) as image:
                assert image.size == size
                assert image.convert("RGB").getpixel((size[0] - 3, 3))[0] > 200
    finally:
        stop_app(app)
