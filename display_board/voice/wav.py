"""Plain 16-bit mono PCM in memory: read, trim, normalise, join and write WAV files.

Every clip is converted to one format when it is loaded (FORMAT_RATE, mono,
16-bit), so an announcement is a simple concatenation of samples.
"""

from __future__ import annotations

import io
import math
import shutil
import subprocess
import sys
import wave
from array import array
from dataclasses import dataclass
from pathlib import Path

RATE = 22050  # espeak-ng's own rate; recorded clips are converted to it
FULL_SCALE = 32767


class ClipFormatError(ValueError):
    """A WAV file that cannot be used as a clip, with the reason."""


@dataclass(frozen=True, slots=True)
class Pcm:
    """Mono signed 16-bit samples at `rate` Hz."""

    samples: array[int]  # array("h")
    rate: int = RATE

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.rate

    def wav_bytes(self) -> bytes:
        """The samples as a complete WAV file."""
        out = io.BytesIO()
        with wave.open(out, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(self.rate)
            w.writeframes(_little_endian(self.samples))
        return out.getvalue()

    def write(self, path: Path) -> None:
        path.write_bytes(self.wav_bytes())

    @property
    def peak(self) -> int:
        return max((abs(s) for s in self.samples), default=0)


def silence(seconds: float, rate: int = RATE) -> Pcm:
    return Pcm(array("h", bytes(2 * round(seconds * rate))), rate)


def join(parts: list[Pcm]) -> Pcm:
    """One Pcm after another (all must have the same rate)."""
    samples = array("h")
    for part in parts:
        if part.rate != RATE:
            raise ValueError(f"cannot join {part.rate} Hz audio with {RATE} Hz")
        samples.extend(part.samples)
    return Pcm(samples)


def read_wav(path: Path) -> Pcm:
    """A WAV file as mono 16-bit at RATE; other formats go through sox."""
    try:
        with wave.open(str(path), "rb") as w:
            channels, width, rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
            frames = w.readframes(w.getnframes())
    except (wave.Error, EOFError):
        # Python's wave reads only plain PCM; sox reads extensible, float, 24-bit ...
        return _convert_with_sox(path)
    if (channels, width, rate) == (1, 2, RATE):
        samples = array("h")
        samples.frombytes(frames)
        if sys.byteorder == "big":
            samples.byteswap()
        return Pcm(samples)
    return _convert_with_sox(path)


def _convert_with_sox(path: Path) -> Pcm:
    # Recorded human clips are often 44.1/48 kHz stereo; sox resamples well.
    sox = shutil.which("sox")
    if sox is None:
        raise ClipFormatError(f"{path}: not mono 16-bit {RATE} Hz and sox is not installed")
    result = subprocess.run(
        [sox, str(path), "-t", "wav", "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed", "-"],
        capture_output=True,
        check=False,
        timeout=30,
    )
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip()
        raise ClipFormatError(f"{path}: sox could not convert it: {message}")
    with wave.open(io.BytesIO(result.stdout), "rb") as w:
        frames = w.readframes(w.getnframes())
    samples = array("h")
    samples.frombytes(frames)
    if sys.byteorder == "big":
        samples.byteswap()
    return Pcm(samples)


def trim(pcm: Pcm, threshold: float = 0.02, margin_s: float = 0.015) -> Pcm:
    """Cuts the quiet lead-in and tail that synthesisers and recorders leave."""
    level = threshold * FULL_SCALE
    loud = [i for i, s in enumerate(pcm.samples) if abs(s) > level]
    if not loud:
        return pcm
    margin = round(margin_s * pcm.rate)
    start = max(0, loud[0] - margin)
    end = min(len(pcm.samples), loud[-1] + margin)
    return Pcm(pcm.samples[start:end], pcm.rate)


def scale(pcm: Pcm, factor: float) -> Pcm:
    """Louder or softer by a factor (clipped at full scale)."""
    if factor == 1:
        return pcm
    scaled = array("h", (max(-FULL_SCALE, min(FULL_SCALE, round(s * factor))) for s in pcm.samples))
    return Pcm(scaled, pcm.rate)


def normalise(pcm: Pcm, peak_dbfs: float = -3.0) -> Pcm:
    """Scales so the loudest sample sits at peak_dbfs: every clip equally loud."""
    if pcm.peak == 0:
        return pcm
    target = FULL_SCALE * 10 ** (peak_dbfs / 20)
    return scale(pcm, target / pcm.peak)


def tone_chime(rate: int = RATE) -> Pcm:
    """A two-note "ding-dong" (E5 then C5) with soft bell harmonics and decay."""
    samples = array("h")
    for freq, length in ((659.25, 0.55), (523.25, 0.9)):
        n = round(length * rate)
        for i in range(n):
            t = i / rate
            envelope = min(1.0, t / 0.005) * math.exp(-t * 4.0)
            wave_ = (
                math.sin(2 * math.pi * freq * t)
                + 0.35 * math.sin(2 * math.pi * 2 * freq * t)
                + 0.12 * math.sin(2 * math.pi * 3 * freq * t)
            )
            samples.append(round(0.45 * FULL_SCALE * envelope * wave_ / 1.47))
    return Pcm(samples, rate)


def _little_endian(samples: array[int]) -> bytes:
    if sys.byteorder == "big":
        swapped = array("h", samples)
        swapped.byteswap()
        return swapped.tobytes()
    return samples.tobytes()
