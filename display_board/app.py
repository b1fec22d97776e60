"""The board app: the retained state and live calls on the TV, each call spoken once.

Threads: DeviceLink's callbacks run on the MQTT thread. They update the model
(under a lock) and queue a new call for the announcer right there, so the
voice never waits for a frame to be drawn; then they hand the screen update
to Kivy's main thread with Clock.schedule_once. The announcer's worker tells
the main thread which call it starts speaking, so that call is on screen.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.lang import Builder

from antrean.config import Config
from antrean.device import DeviceLink
from antrean.disk import DISK_FULL
from display_board.model import BoardModel, Call, clock_text, date_text
from display_board.settings import BoardSettings
from display_board.voice.announcer import Announcement, Announcer
from display_board.voice.clips import ClipLibrary
from display_board.voice.player import Player
from display_board.widgets import BoardScreen, CounterTile, RecentRow, ServiceTile

log = logging.getLogger(__name__)

KV = Path(__file__).with_name("screen.kv")  # not board.kv: App would load that itself too
OFFLINE_BROKER = "OFFLINE"  # no broker: the data shown may be old
OFFLINE_QUEUE = "LAYANAN ANTREAN BERHENTI"  # broker up, queue service down
OFFLINE_DISK_FULL = "PENYIMPANAN SERVER PENUH"  # the queue service stopped on a full disk
TITLE_CALL = "NOMOR ANTREAN"
TITLE_RECALL = "PANGGILAN ULANG"

LinkFactory = Callable[..., DeviceLink]

Builder.load_file(str(KV))  # once per process: the rules are global in Kivy


def utc_now() -> datetime:
    return datetime.now(UTC)


class BoardApp(App):
    """The waiting-room TV board. Everything it talks to is passed in."""

    title = "Antrean - papan"

    def __init__(
        self,
        config: Config,
        device_id: str,
        settings: BoardSettings,
        library: ClipLibrary,
        player: Player,
        volume: int = 100,
        link_factory: LinkFactory = DeviceLink,
        clock: Callable[[], datetime] = utc_now,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.office_config = config
        self.device_id = device_id
        self.settings = settings
        self.clock = clock
        self.model = BoardModel(recent_limit=max(settings.recent_rows + 1, 1))
        self.model.office_name = config.office.name
        self.model.timezone = config.office.timezone
        self.model.running_text = config.office.running_text
        self.shown: Call | None = None  # the call in the big panel
        self.on_screen_update: Callable[[Call | None], None] | None = None  # bench hook
        self._unhighlight: Any = None
        self._office_seen = False
        self._lock = threading.Lock()  # the model: written on the MQTT thread, read here
        self.announcer = Announcer(
            library,
            player,
            volume,
            on_start=self._announcement_started,
            on_player=self._player_changed,
        )
        voice = "off" if player.name == "none" else "ok"
        if not library.complete:
            voice = "clips_missing"
        self._voice_health = voice  # what `voice` goes back to after a player failure
        self.link = link_factory(
            config,
            device_id,
            "board",
            on_state=self._state_from_mqtt,
            on_event=self._event_from_mqtt,
            on_link=self._link_from_mqtt,
            health={"voice": voice, "player": player.name},
        )

    # ---- Kivy life cycle --------------------------------------------------------

    def build(self) -> BoardScreen:
        screen = BoardScreen(marquee_speed=self.settings.marquee_speed)
        self.screen = screen
        self._refresh()
        self._tick(0)
        Clock.schedule_interval(self._tick, 1)
        self.announcer.start()
        self.link.start()  # connects in the background: build() never blocks
        return screen

    def on_stop(self) -> None:
        Clock.unschedule(self._tick)
        self.screen.ids.marquee.stop()
        self.announcer.stop()
        self.link.stop()

    # ---- MQTT and announcer threads ----------------------------------------------

    def _state_from_mqtt(self, path: str, body: dict[str, Any]) -> None:
        with self._lock:
            used = self.model.apply_state(path, body)
        if used:
            Clock.schedule_once(lambda _dt: self._state_applied(path))

    def _event_from_mqtt(self, event: dict[str, Any]) -> None:
        """A live event: the voice starts from here, without waiting for a frame."""
        with self._lock:
            outcome = self.model.apply_event(event)
            call, idle = outcome.announce, self.announcer.idle
            if call is not None:
                try:
                    self.announcer.announce(call)
                except Exception:  # shown at once all the same, text only
                    log.exception("could not announce %s: shown, not spoken", call.code)
                    idle = True
        if outcome.resync:
            self.link.resync()
        if call is not None or outcome.changed:
            Clock.schedule_once(lambda _dt: self._event_applied(call, idle))

    def _link_from_mqtt(self, up: bool) -> None:
        if not up:
            # Whatever comes after the reconnect, continue from its state/office seq.
            with self._lock:
                self.model.expect_resync()
        Clock.schedule_once(lambda _dt: self._show_link())

    def _announcement_started(self, announcement: Announcement) -> None:
        Clock.schedule_once(lambda _dt: self._show_call(announcement.call))

    def _player_changed(self, error: Exception | None) -> None:
        self.link.set_health(voice="player_failed" if error else self._voice_health)

    # ---- main thread ------------------------------------------------------------

    def _state_applied(self, path: str) -> None:
        if path == "office" and not self._office_seen:
            self._office_seen = True
            # The benchmark's cold start reads this line (wall clock, seconds).
            log.info("board ready: office state on screen at %.3f", time.time())
        if path == "calls":
            self._check_shown_call()
        self._refresh()

    def _event_applied(self, call: Call | None, voice_was_idle: bool) -> None:
        if call is not None and voice_was_idle:
            self._show_call(call)  # else it shows when its announcement starts
        self._refresh()

    def _check_shown_call(self) -> None:
        """Once the voice is idle, the big panel shows a ticket still called at its counter.

        At start, after a resync, a no-show, a transfer, a requeue, a served
        ticket or a new day, the shown call may no longer be live; then the
        newest live call is shown, quietly, or none.
        """
        if not self.announcer.idle:
            return
        with self._lock:
            shown = self.shown
            if shown is not None and self.model.is_current(shown):
                return
            latest = self.model.latest
        if latest is None:
            if shown is not None:
                self._clear_call()
        else:
            self._show_call(latest, highlight=False)

    def _clear_call(self) -> None:
        self.shown = None
        self.screen.call_title = self.screen.call_code = self.screen.call_counter = ""
        self.screen.highlighted = False
        self._refresh_recent()

    def _show_call(self, call: Call, highlight: bool = True) -> None:
        if self.shown == call:
            return
        self.shown = call
        s = self.screen
        s.call_title = TITLE_RECALL if call.recall else TITLE_CALL
        s.call_code = call.code
        s.call_counter = call.counter_name.upper()
        if highlight:
            s.highlighted = True
            if self._unhighlight is not None:
                self._unhighlight.cancel()
            self._unhighlight = Clock.schedule_once(self._end_highlight, self.settings.highlight_s)
        self._refresh_recent()
        if self.on_screen_update:
            self.on_screen_update(call)

    def _end_highlight(self, _dt: float) -> None:
        self.screen.highlighted = False

    def _refresh(self) -> None:
        s, m = self.screen, self.model
        with self._lock:
            office_name, running_text = m.office_name, m.running_text
            counters, services = m.counter_views(), m.service_views()
        s.office_name = office_name
        s.running_text = running_text
        self._refresh_recent()
        _fill(s.ids.counters, CounterTile, len(counters), s.u)
        for tile, c in zip(reversed(s.ids.counters.children), counters, strict=True):
            tile.name, tile.open = c.name.upper(), c.open
            tile.serving = c.serving or ("-" if c.open else "TUTUP")
        _fill(s.ids.services, ServiceTile, len(services), s.u)
        for tile, v in zip(reversed(s.ids.services.children), services, strict=True):
            tile.code, tile.name, tile.note = v.code, v.name, _markup_safe(v.note)
            tile.figure = f"{v.waiting} menunggu"

    def _refresh_recent(self) -> None:
        """The earlier calls, newest first, without the one in the big panel."""
        s = self.screen
        shown = (self.shown.code, self.shown.counter) if self.shown else None
        with self._lock:
            recent = list(self.model.recent)
        rows = [c for c in recent if (c.code, c.counter) != shown]
        rows = rows[: self.settings.recent_rows]
        _fill(s.ids.recent, RecentRow, len(rows), s.u)
        for row, call in zip(reversed(s.ids.recent.children), rows, strict=True):
            row.code, row.counter_name = call.code, call.counter_name.upper()

    def _tick(self, _dt: float) -> None:
        with self._lock:
            zone = self.model.timezone
        now = self.clock().astimezone(zone)
        self.screen.date_text = date_text(now)
        self.screen.clock_text = clock_text(now)
        self._show_link()
        self._check_shown_call()

    def _show_link(self) -> None:
        if not self.link.connected:
            self.screen.offline_text = OFFLINE_BROKER
        elif not self.link.queue_online:
            full = self.link.queue_error == DISK_FULL
            self.screen.offline_text = OFFLINE_DISK_FULL if full else OFFLINE_QUEUE
        else:
            self.screen.offline_text = ""


def _markup_safe(text: str) -> str:
    """Text from the network inside Kivy markup: brackets must not become tags."""
    return text.replace("&", "&amp;").replace("[", "&bl;").replace("]", "&br;")


def _fill(box: Any, kind: type, count: int, u: float) -> None:
    """Makes `box` hold exactly `count` widgets of `kind` (reusing the ones it has)."""
    while len(box.children) > count:
        box.remove_widget(box.children[0])
    while len(box.children) < count:
        box.add_widget(kind(u=u))
