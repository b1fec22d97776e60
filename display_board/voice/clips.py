"""The clip library: one WAV per word, letter or phrase, built offline with espeak-ng.

`antrean voice build` writes every clip in CLIPS into a folder. A recorded
human voice replaces a clip by putting a WAV with the same name there
(any rate or channels: they are converted with sox when loaded). The list,
with what each clip says, is in docs/board.md.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from display_board.voice import wav
from display_board.voice.numbers import WORDS
from display_board.voice.wav import ClipFormatError, Pcm

log = logging.getLogger(__name__)

CHIME = "chime"


class VoiceBuildError(RuntimeError):
    """The clips could not be made (espeak-ng missing, unknown voice, ...)."""


# How Indonesians say each letter when spelling (huruf): "be", "ce", "de", ...
LETTER_NAMES = {
    "A": "a", "B": "be", "C": "ce", "D": "de", "E": "e", "F": "ef", "G": "ge",
    "H": "ha", "I": "i", "J": "je", "K": "ka", "L": "el", "M": "em", "N": "en",
    "O": "o", "P": "pe", "Q": "ki", "R": "er", "S": "es", "T": "te", "U": "u",
    "V": "fe", "W": "we", "X": "eks", "Y": "ye", "Z": "zet",
}  # fmt: skip
PHRASES = {
    "nomor-antrean": "Nomor antrean",
    "silakan-menuju-loket": "silakan menuju loket",
    "panggilan-ulang": "Panggilan ulang",
}


def letter_clip(letter: str) -> str:
    """The clip name of a letter: "A" -> "huruf-a"."""
    return f"huruf-{letter.lower()}"


# clip name -> the text espeak-ng speaks for it (the chime is synthesised).
CLIPS: dict[str, str] = {
    **PHRASES,
    **{letter_clip(k): v for k, v in LETTER_NAMES.items()},
    **{word: word for word in WORDS},
}
ALL_CLIPS = (CHIME, *CLIPS)


@dataclass(frozen=True, slots=True)
class VoiceSettings:
    """How clips are made and played, from the [voice] section."""

    clip_dir: Path
    player: str = "aplay"  # a registered player (display_board/voice/players/)
    volume: int = 100  # percent of the clips' level
    espeak_voice: str = "id"
    espeak_speed: int = 150  # words per minute; espeak-ng's default 175 is hurried on a TV
    options: Any = None  # the player's own settings (players/aplay.py: the ALSA device)


def build_clips(
    settings: VoiceSettings, out_dir: Path | None = None, overwrite: bool = False
) -> list[Path]:
    """Synthesises the clips into out_dir (default: the clip dir); returns the files written.

    A clip that is already there is kept unless `overwrite`: it may be a
    recorded human voice that replaced the synthetic one.
    """
    target = out_dir or settings.clip_dir
    target.mkdir(parents=True, exist_ok=True)
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise VoiceBuildError("espeak-ng is not installed: apt-get install espeak-ng")
    written: list[Path] = []
    chime = target / f"{CHIME}.wav"
    if overwrite or not chime.exists():
        wav.normalise(wav.tone_chime(), -6.0).write(chime)
        written.append(chime)
    with tempfile.TemporaryDirectory(prefix="antrean-voice-") as tmp:
        raw = Path(tmp) / "raw.wav"
        for name, text in CLIPS.items():
            path = target / f"{name}.wav"
            if path.exists() and not overwrite:
                continue
            argv = [espeak, "-v", settings.espeak_voice, "-s", str(settings.espeak_speed)]
            done = subprocess.run(
                [*argv, "-w", str(raw), text],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
            if done.returncode != 0 or not raw.exists():
                why = (done.stderr or done.stdout).strip().splitlines()
                raise VoiceBuildError(
                    f"espeak-ng -v {settings.espeak_voice} failed on {text!r}: "
                    + (why[0] if why else f"exit status {done.returncode}")
                )
            wav.normalise(wav.trim(wav.read_wav(raw))).write(path)
            raw.unlink()
            written.append(path)
    log.info("wrote %d clips to %s (%d kept)", len(written), target, len(ALL_CLIPS) - len(written))
    return written


class ClipLibrary:
    """Every clip of a folder, loaded once into memory and checked."""

    def __init__(self, clip_dir: Path) -> None:
        self.clip_dir = clip_dir
        self.clips: dict[str, Pcm] = {}
        self.missing: list[str] = []
        self.broken: list[str] = []

    def load(self) -> ClipLibrary:
        """Reads every known clip; missing and unreadable ones are listed, not fatal."""
        for name in ALL_CLIPS:
            path = self.clip_dir / f"{name}.wav"
            if not path.exists():
                self.missing.append(name)
                continue
            try:
                self.clips[name] = wav.read_wav(path)
            except ClipFormatError as exc:
                log.error("clip %s unusable: %s", name, exc)
                self.broken.append(name)
        if self.missing:
            log.warning(
                "%d voice clips missing in %s (run 'antrean voice build'): %s",
                len(self.missing),
                self.clip_dir,
                ", ".join(self.missing[:8]),
            )
        return self

    @property
    def complete(self) -> bool:
        return not self.missing and not self.broken

    def get(self, name: str) -> Pcm | None:
        return self.clips.get(name)
