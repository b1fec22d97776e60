"""Players: how an assembled announcement reaches the speakers.

The interface, and what the players share: `SubprocessPlayer` runs a
command-line player (aplay, pw-play) on each sound. The players that
`[voice] player` names register themselves from display_board/voice/players/
(display_board/voice/registry.py). Tests use RecordingPlayer, which keeps what
it was asked to play, when, and the audio itself; it is no config choice,
since it keeps every sound in memory.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
import threading
import time
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from display_board.voice.wav import Pcm, join

log = logging.getLogger(__name__)

# A player child that outlives its sound by this much is stuck (a hung ALSA
# device): it is killed so the next call is not blocked for ever.
STUCK_AFTER_S = 10.0


class PlayerError(RuntimeError):
    """The sound could not be played (player missing, device busy, killed)."""


@dataclass(frozen=True, slots=True)
class Sound:
    """One announcement ready to play: its clips, its text and the joined audio."""

    clips: tuple[str, ...]
    text: str
    pcm: Pcm


class Player(Protocol):
    name: str

    def play(self, sound: Sound) -> None:
        """Plays the sound and returns when it has finished; raises PlayerError."""

    def stop(self) -> None:
        """Cuts off whatever is playing (board shutdown)."""


class SubprocessPlayer:
    """Plays each sound with one run of a command-line player on a temporary WAV."""

    def __init__(self, name: str, argv: list[str]) -> None:
        self.name = name
        self.argv = argv
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def play(self, sound: Sound) -> None:
        binary = shutil.which(self.argv[0])
        if binary is None:
            raise PlayerError(f"{self.argv[0]} is not installed")
        with tempfile.NamedTemporaryFile(prefix="antrean-call-", suffix=".wav") as file:
            file.write(sound.pcm.wav_bytes())
            file.flush()
            self._run([binary, *self.argv[1:], file.name], sound)

    def _run(self, argv: list[str], sound: Sound) -> None:
        log.debug("playing %s with %s", sound.clips, argv)
        with self._lock:
            self._proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            proc = self._proc
        try:
            _out, err = proc.communicate(timeout=sound.pcm.duration_s + STUCK_AFTER_S)
        except subprocess.TimeoutExpired as exc:
            proc.kill()
            proc.wait()
            raise PlayerError(f"{self.name} was stuck and was killed") from exc
        finally:
            with self._lock:
                self._proc = None
        if proc.returncode != 0:
            message = err.decode(errors="replace").strip().splitlines()
            raise PlayerError(f"{self.name} failed ({proc.returncode}): {' '.join(message[-2:])}")

    def stop(self) -> None:
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                self._proc.terminate()


@dataclass(frozen=True, slots=True)
class Played:
    """What the recording player was given, and when it started and finished."""

    clips: tuple[str, ...]
    text: str
    started: float  # time.perf_counter()
    ended: float
    duration_s: float


@dataclass
class RecordingPlayer:
    """A test player: keeps every sound in order and takes `speed` x its real time."""

    speed: float = 1.0  # 0.1: a 5 s announcement takes 0.5 s
    name: str = "recording"
    played: list[Played] = field(default_factory=list)
    sounds: list[Pcm] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    playing: int = 0  # players running right now; more than 1 would be an overlap
    most_at_once: int = 0

    def play(self, sound: Sound) -> None:
        with self._lock:
            self.playing += 1
            self.most_at_once = max(self.most_at_once, self.playing)
        started = time.perf_counter()
        try:
            self._stop.wait(sound.pcm.duration_s * self.speed)
        finally:
            ended = time.perf_counter()
            with self._lock:
                self.playing -= 1
                self.played.append(
                    Played(sound.clips, sound.text, started, ended, sound.pcm.duration_s)
                )
                self.sounds.append(sound.pcm)

    def stop(self) -> None:
        self._stop.set()

    def joined(self) -> Pcm:
        """Everything played, back to back."""
        with self._lock:
            return join(list(self.sounds)) if self.sounds else Pcm(array("h"))

    def write_wav(self, path: Path) -> Path:
        self.joined().write(path)
        return path
