"""Turns calls into spoken announcements and plays them one at a time, in order.

A call becomes phrases of clips: chime; "Nomor antrean", letter, number;
"silakan menuju loket", counter number. A recall starts with "Panggilan
ulang". Announcements wait in a FIFO queue served by one worker thread, so
they never overlap and come out in the order the calls were made: a burst
of five calls is five announcements. Nothing is dropped for being late
(every waiting resident must hear their number); only a runaway queue past
`max_pending` loses its oldest waiting entries, with a warning, since
those calls are on screen anyway.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

from display_board.model import Call
from display_board.voice import wav
from display_board.voice.clips import CHIME, LETTER_NAMES, ClipLibrary, letter_clip
from display_board.voice.numbers import DIGITS, spoken_number
from display_board.voice.player import Player, PlayerError, Sound

log = logging.getLogger(__name__)

WORD_GAP_S = 0.04  # between the words of one phrase ("dua" "belas")
PHRASE_GAP_S = 0.30  # at a comma of the spoken sentence
AFTER_CHIME_S = 0.25
TAIL_S = 0.30  # a little air before the next announcement
MAX_PENDING = 50  # about four minutes of speech


@dataclass(frozen=True, slots=True)
class Announcement:
    """A call as phrases of clip names, and the same words as text."""

    call: Call
    phrases: tuple[tuple[str, ...], ...]

    @property
    def clips(self) -> tuple[str, ...]:
        return tuple(clip for phrase in self.phrases for clip in phrase)

    @property
    def text(self) -> str:
        """ "Nomor antrean, A, dua belas, silakan menuju loket, tiga"."""
        c = self.call
        parts = ["Nomor antrean", c.letter, " ".join(spoken_number(c.number))]
        parts += ["silakan menuju loket", " ".join(spoken_number(c.counter))]
        if c.recall:
            parts.insert(0, "Panggilan ulang")
        return ", ".join(parts)


def announcement_for(call: Call) -> Announcement:
    """The clip phrases of a call (see the module docstring)."""
    phrases: list[tuple[str, ...]] = [(CHIME,)]
    if call.recall:
        phrases.append(("panggilan-ulang",))
    phrases.append(("nomor-antrean",))
    phrases.append(_letter_clips(call.letter))
    phrases.append(tuple(spoken_number(call.number)))
    phrases.append(("silakan-menuju-loket",))
    phrases.append(tuple(spoken_number(call.counter)))
    return Announcement(call, tuple(phrases))


def _letter_clips(letters: str) -> tuple[str, ...]:
    """The clips that spell a code's letter part; a character without a clip is left out."""
    clips = []
    for ch in letters:
        if ch.isascii() and ch.upper() in LETTER_NAMES:
            clips.append(letter_clip(ch))
        elif ch.isdigit() and ch.isascii():
            clips.append(DIGITS[int(ch)])
        else:
            log.warning("no clip for %r in a ticket code: not spoken", ch)
    return tuple(clips)


def render(announcement: Announcement, library: ClipLibrary, volume: int = 100) -> Sound:
    """The announcement's audio: its clips joined with short pauses."""
    parts: list[wav.Pcm] = []
    for i, phrase in enumerate(announcement.phrases):
        for j, name in enumerate(phrase):
            clip = library.get(name)
            if clip is None:
                log.warning("clip %s missing: skipped", name)
                continue
            parts.append(clip)
            if j < len(phrase) - 1:
                parts.append(wav.silence(WORD_GAP_S))
        if i == 0:
            parts.append(wav.silence(AFTER_CHIME_S))
        elif i < len(announcement.phrases) - 1:
            parts.append(wav.silence(PHRASE_GAP_S))
    parts.append(wav.silence(TAIL_S))
    pcm = wav.scale(wav.join(parts), volume / 100)
    return Sound(announcement.clips, announcement.text, pcm)


StartHandler = Callable[[Announcement], None]
ErrorHandler = Callable[[Exception | None], None]  # None: the player works again


class Announcer:
    """One worker thread that speaks queued calls, one at a time, in order."""

    def __init__(
        self,
        library: ClipLibrary,
        player: Player,
        volume: int = 100,
        on_start: StartHandler | None = None,
        on_player: ErrorHandler | None = None,
        max_pending: int = MAX_PENDING,
    ) -> None:
        self.library = library
        self.player = player
        self.volume = volume
        self._on_start = on_start
        self._on_player = on_player
        self._queue: queue.Queue[Announcement | None] = queue.Queue()
        self._max_pending = max_pending
        self._lock = threading.Lock()
        self._failing = False
        self._thread = threading.Thread(target=self._run, daemon=True, name="announcer")
        self._outstanding = 0  # queued or being spoken
        self.spoken = 0
        self.dropped = 0

    def start(self) -> Announcer:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stops after cutting off the current announcement; waiting ones are dropped."""
        with self._lock:
            while not self._queue.empty():
                self._queue.get_nowait()
                self._outstanding -= 1
        self._queue.put(None)
        self.player.stop()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def announce(self, call: Call) -> Announcement:
        """Queues a call; returns its announcement at once."""
        announcement = announcement_for(call)
        with self._lock:
            while self._queue.qsize() >= self._max_pending:
                old = self._queue.get_nowait()
                self.dropped += 1
                self._outstanding -= 1
                log.warning("announcement queue full: dropped %s", old and old.text)
            self._outstanding += 1
            self._queue.put(announcement)
        return announcement

    @property
    def idle(self) -> bool:
        """Nothing queued and nothing being spoken: a new call is spoken at once."""
        with self._lock:
            return self._outstanding == 0

    @property
    def pending(self) -> int:
        """Announcements waiting (not counting the one being spoken)."""
        return self._queue.qsize()

    def _run(self) -> None:
        while True:
            announcement = self._queue.get()
            if announcement is None:
                return
            try:
                self._speak(announcement)
            except Exception:
                # The voice must never take the board down; the next call gets a fresh try.
                log.exception("announcing %s failed", announcement.call.code)
            finally:
                with self._lock:
                    self._outstanding -= 1

    def _speak(self, announcement: Announcement) -> None:
        sound = render(announcement, self.library, self.volume)
        if self._on_start:
            self._on_start(announcement)
        log.info("announcing: %s", sound.text)
        try:
            self.player.play(sound)
        except PlayerError as exc:
            log.error("cannot play %s: %s", announcement.call.code, exc)
            self._failing = True
            if self._on_player:
                self._on_player(exc)
            return
        self.spoken += 1
        if self._failing:
            self._failing = False
            if self._on_player:
                self._on_player(None)
