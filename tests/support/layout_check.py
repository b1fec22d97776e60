"""Finds text a person cannot read on a screen: lines dropped, words shortened, text off the edge.

A Kivy label bounded by `text_size` never overflows its texture: the lines that
do not fit are dropped and a `shorten` label ends in "...", so comparing
`texture_size` with the widget's size cannot see it. Here each label's text is
laid out a second time with the same font, size and width but no height limit
and no shortening, and the words it shows are compared with the words it needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from kivy.core.window import Window
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from tests.support import kivy_harness as harness
from tests.support.kivy_harness import pump

SLACK = 2  # pixels: Kivy rounds sizes and positions to whole pixels


def _words(core: Any) -> list[str]:
    return [word.text for line in core._cached_lines for word in line.words if word.text]


def needed_words(label: Label) -> list[str]:
    """The words of `label`'s text laid out at its width with unlimited height, unshortened."""
    core = label._label
    saved_size, saved_shorten = core.text_size, core.options["shorten"]
    try:
        core.text_size = (saved_size[0], None)
        core.options["shorten"] = False
        core.render()
        return _words(core)
    finally:
        core.text_size = saved_size
        core.options["shorten"] = saved_shorten
        core.render()


def shown_words(label: Label) -> list[str]:
    """The words Kivy actually draws for `label` (with its height limit and shortening)."""
    core = label._label
    core.render()
    return _words(core)


def cut_text(
    root: Widget, where: str, may_shorten: Callable[[Label], bool] = lambda _w: False
) -> list[str]:
    """Every readable label under `root` whose text is cut, dropped or off the window."""
    pump(frames=3)
    problems = []
    for w in root.walk(restrict=True):
        if not isinstance(w, Label) or not w.text.strip() or w.opacity == 0:
            continue
        if w.width <= 0 or w.height <= 0 or not w.get_root_window():
            continue
        what = f"{where}: {w.text!r} in {w.width:.0f}x{w.height:.0f}"
        shown, needed = shown_words(w), needed_words(w)
        if shown != needed and not (w.is_shortened and may_shorten(w)):
            if w.is_shortened:
                problems.append(f"{what}: shortened to {' '.join(shown)!r}")
            else:
                lost = [word for word in needed if word not in shown]
                problems.append(f"{what}: lost {' '.join(lost)!r}")
            continue
        tw, th = w.texture_size
        if tw > w.width + SLACK or th > w.height + SLACK:
            problems.append(f"{what}: text {tw}x{th} is bigger than its widget")
        x, y = w.to_window(w.x, w.y)
        if x < -SLACK or y < -SLACK or x + w.width > Window.width + SLACK:
            problems.append(f"{what}: off the window at {x:.0f},{y:.0f}")
        elif y + w.height > Window.height + SLACK:
            problems.append(f"{what}: off the top of the window at {x:.0f},{y:.0f}")
        elif outside := _outside_of(w, root):
            problems.append(f"{what}: spills out of its {type(outside).__name__}, over others")
    return problems


def _box(w: Widget) -> tuple[float, float, float, float]:
    x, y = w.to_window(w.x, w.y)
    return x, y, x + w.width, y + w.height


def _outside_of(w: Widget, root: Widget) -> Widget | None:
    """The first layout around `w` (up to `root`) that `w` does not lie inside, if any."""
    x0, y0, x1, y1 = _box(w)
    parent = w.parent
    while parent is not None and parent is not root.parent:
        if isinstance(parent, Widget) and parent.width > 0 and parent.height > 0:
            px0, py0, px1, py1 = _box(parent)
            if x0 < px0 - SLACK or y0 < py0 - SLACK or x1 > px1 + SLACK or y1 > py1 + SLACK:
                return parent
        parent = parent.parent
    return None


def kiosk_languages_at(app: Any, size: tuple[int, int]) -> Iterator[str]:
    """Sets the window to `size`, then for each language: the kiosk on Home; yields 'WxH lang'.

    The window goes back to 800x480 afterwards, whatever the test found.
    """
    harness.set_window_size(*size)
    try:
        for language in ("id", "en"):
            app.language = language
            app.go_home()
            pump(0.9)  # past Home's bounce guard
            yield f"{size[0]}x{size[1]} {language}"
    finally:
        harness.set_window_size(800, 480)
