"""The clip library, the announcer's queue and the players, with real espeak-ng, sox and aplay."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import wave
from pathlib import Path
from typing import Any

import pytest

from antrean.config import ConfigError
from display_board.model import Call
from display_board.settings import board_device, board_settings, voice_settings
from display_board.voice import wav
from display_board.voice.announcer import Announcer, announcement_for, render
from display_board.voice.clips import ALL_CLIPS, ClipLibrary, VoiceSettings
from display_board.voice.player import PlayerError, RecordingPlayer
from display_board.voice.players.aplay import aplay
from display_board.voice.registry import open_player
from tests.support.board import wav_seconds
from tests.support.helpers import example_config

A012_AT_3 = Call("A012", 3, "Loket 3")


def test_every_clip_is_built_mono_16_bit_and_speaks(clip_dir: Path) -> None:
    assert sorted(p.stem for p in clip_dir.glob("*.wav")) == sorted(ALL_CLIPS)
    for name in ALL_CLIPS:
        with wave.open(str(clip_dir / f"{name}.wav"), "rb") as w:
            assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 22050)
            seconds = w.getnframes() / w.getframerate()
        assert 0.1 < seconds < 2.5, (name, seconds)
        peak = wav.read_wav(clip_dir / f"{name}.wav").peak
        assert peak > 10_000, (name, peak)  # normalised, not silence


def test_a_call_is_chime_then_the_sentence_in_clips(library: ClipLibrary) -> None:
    a = announcement_for(A012_AT_3)
    assert a.clips == (
        "chime", "nomor-antrean", "huruf-a", "dua", "belas", "silakan-menuju-loket", "tiga",
    )  # fmt: skip
    assert a.text == "Nomor antrean, A, dua belas, silakan menuju loket, tiga"
    recall = announcement_for(Call("B1000", 12, "Loket 12", recall=True))
    assert recall.clips == (
        "chime", "panggilan-ulang", "nomor-antrean", "huruf-b", "seribu",
        "silakan-menuju-loket", "dua", "belas",
    )  # fmt: skip
    assert recall.text.startswith("Panggilan ulang, Nomor antrean, B, seribu")
    sound = render(a, library)
    clips_alone = sum(library.clips[c].duration_s for c in a.clips)
    assert clips_alone < sound.pcm.duration_s < clips_alone + 2.0  # plus the short pauses


def test_the_rendered_call_measures_right_with_sox(library: ClipLibrary, tmp_path: Path) -> None:
    path = tmp_path / "call.wav"
    render(announcement_for(A012_AT_3), library).pcm.write(path)
    stat = subprocess.run(
        ["sox", str(path), "-n", "stat"], capture_output=True, text=True, check=True
    ).stderr
    figures = dict(line.split(":", 1) for line in stat.splitlines() if ":" in line)
    length = float(figures["Length (seconds)"])
    peak = float(figures["Maximum amplitude"])
    assert 4.0 < length < 10.0, length
    assert 0.5 < peak <= 0.75, peak  # clips at -3 dBFS, no clipping
    assert length == pytest.approx(wav_seconds(path), abs=0.01)


def test_a_recorded_clip_in_another_format_replaces_the_synthetic_one(
    clip_dir: Path, tmp_path: Path
) -> None:
    mine = tmp_path / "voice"
    shutil.copytree(clip_dir, mine)
    # A human "tiga": 44.1 kHz stereo, 0.8 s (here a tone stands in for the voice).
    subprocess.run(
        ["sox", "-n", "-r", "44100", "-c", "2", str(mine / "tiga.wav"), "synth", "0.8", "sine",
         "440", "vol", "0.5"],
        check=True,
    )  # fmt: skip
    (mine / "empat.wav").write_bytes(b"not a wav file")
    library = ClipLibrary(mine).load()
    assert library.broken == ["empat"]
    assert not library.complete
    assert library.clips["tiga"].rate == 22050
    assert library.clips["tiga"].duration_s == pytest.approx(0.8, abs=0.01)
    # A missing clip is skipped; the rest of the call is still spoken.
    (mine / "chime.wav").unlink()
    library = ClipLibrary(mine).load()
    assert library.missing == ["chime"]
    sound = render(announcement_for(A012_AT_3), library)
    assert sound.clips[0] == "chime"
    assert sound.pcm.duration_s > 2


def test_a_burst_of_five_is_five_announcements_in_order_never_overlapping(
    library: ClipLibrary,
) -> None:
    player = RecordingPlayer(speed=0.02)
    started: list[str] = []
    announcer = Announcer(library, player, on_start=lambda a: started.append(a.call.code)).start()
    calls = [Call(f"A{n:03d}", n % 4 + 1, f"Loket {n % 4 + 1}") for n in range(1, 6)]
    try:
        for call in calls:
            announcer.announce(call)
        deadline = time.monotonic() + 10
        while len(player.played) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        announcer.stop()
    assert [p.text.split(", ")[2] for p in player.played] == [
        "satu",
        "dua",
        "tiga",
        "empat",
        "lima",
    ]
    assert started == [c.code for c in calls]
    assert player.most_at_once == 1
    for before, after in zip(player.played, player.played[1:], strict=False):
        assert after.started >= before.ended
    assert announcer.idle


def test_numbers_and_letters_past_the_clips_are_spelt_and_still_spoken(
    library: ClipLibrary,
) -> None:
    odd = [
        Call("A1234567", 3, "Loket 3"),  # past the number words (999,999)
        Call("B007", 1_000_000, "Loket 1000000"),  # a counter number from a wrong config
        Call("C012", -2, "Loket -2"),
        Call("\u00c4-12", 2, "Loket 2"),  # a letter without a clip, and a dash
    ]
    announcements = [announcement_for(call) for call in odd]
    assert announcements[0].clips[2:4] == ("huruf-a", "satu")
    assert announcements[0].text == (
        "Nomor antrean, A, satu dua tiga empat lima enam tujuh, silakan menuju loket, tiga"
    )
    assert announcements[1].clips[-7:] == ("satu",) + ("nol",) * 6
    assert announcements[2].text.endswith("silakan menuju loket, dua")
    assert announcements[3].clips == (
        "chime", "nomor-antrean", "dua", "belas", "silakan-menuju-loket", "dua",
    )  # fmt: skip
    assert all(set(a.clips) <= set(ALL_CLIPS) for a in announcements)
    player = RecordingPlayer(speed=0.02)
    announcer = Announcer(library, player).start()
    try:
        for call in odd:
            announcer.announce(call)  # raised ValueError for the first three before
        deadline = time.monotonic() + 10
        while len(player.played) < len(odd) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        announcer.stop()
    assert [p.text for p in player.played] == [a.text for a in announcements]


def test_aplay_takes_the_call_and_a_missing_device_is_an_error(library: ClipLibrary) -> None:
    sound = render(announcement_for(A012_AT_3), library)
    aplay("null").play(sound)  # ALSA's null device: the real aplay reads the whole WAV
    with pytest.raises(PlayerError, match="aplay failed"):
        aplay("no-such-alsa-device").play(sound)


def test_a_failing_player_is_reported_and_the_next_call_still_runs(library: ClipLibrary) -> None:
    states: list[object] = []
    broken = aplay("no-such-alsa-device")
    announcer = Announcer(library, broken, on_player=states.append).start()
    try:
        announcer.announce(A012_AT_3)
        deadline = time.monotonic() + 10
        while not states and time.monotonic() < deadline:
            time.sleep(0.01)
        assert isinstance(states[0], PlayerError)
        announcer.player = RecordingPlayer(speed=0.01)
        announcer.announce(A012_AT_3)
        while len(states) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert states[1] is None  # working again
    finally:
        announcer.stop()


def test_open_player_knows_the_three_players() -> None:
    assert open_player(VoiceSettings(Path("clips"), "aplay")).name == "aplay"
    assert open_player(VoiceSettings(Path("clips"), "pw-play")).name == "pw-play"
    assert open_player(VoiceSettings(Path("clips"), "none")).name == "none"
    with pytest.raises(ValueError, match="unknown voice player"):
        open_player(VoiceSettings(Path("clips"), "vlc"))


@pytest.mark.parametrize(
    ("read", "edit", "message"),
    [
        (voice_settings, 'player = "aplay"', 'player = "vlc"'),
        (voice_settings, "volume = 100", "volume = 150"),
        (board_settings, "recent_rows = 6", "recent_rows = -1"),
        (board_settings, "fullscreen = true", 'fullscreen = "ja"'),
    ],
)
def test_a_bad_board_or_voice_value_names_its_line(
    tmp_path: Path, read: Any, edit: str, message: str
) -> None:
    config = example_config(tmp_path, edit={edit: message})
    with pytest.raises(ConfigError) as raised:
        read(config)
    line = next(i for i, text in enumerate(config.text.splitlines(), 1) if message in text)
    assert str(raised.value).startswith(f"test.toml:{line}: ")


def test_the_settings_of_the_example_office(tmp_path: Path) -> None:
    config = example_config(tmp_path)
    voice = voice_settings(config)
    assert voice.clip_dir == tmp_path / "var" / "voice"
    assert (voice.player, voice.volume) == ("aplay", 100)
    assert board_settings(config).recent_rows == 6
    assert board_device(config, None) == "board-1"
    with pytest.raises(ValueError, match="not a board"):
        board_device(config, "kiosk-1")


def test_antrean_voice_build_and_a_board_with_a_bad_config(tmp_path: Path) -> None:
    antrean = [sys.executable, "-m", "antrean_tools.cli"]
    config = tmp_path / "antrean.toml"
    config.write_text(example_config(tmp_path).text, encoding="utf-8")
    built = subprocess.run(
        [*antrean, "voice", "build", "--config", str(config), "--out", str(tmp_path / "clips")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    assert len(list((tmp_path / "clips").glob("*.wav"))) == len(ALL_CLIPS)
    assert f"{len(ALL_CLIPS)} clips written" in built.stdout
    # A recorded clip survives a rebuild; --force replaces it.
    clips = tmp_path / "clips"
    recording = (clips / "dua.wav").read_bytes()  # stands in for a human "tiga"
    (clips / "tiga.wav").write_bytes(recording)
    (clips / "empat.wav").unlink()
    again = subprocess.run(
        [*antrean, "voice", "build", "--config", str(config), "--out", str(tmp_path / "clips")],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert f"1 clips written to {clips}; {len(ALL_CLIPS) - 1} kept" in again.stdout
    assert (clips / "tiga.wav").read_bytes() == recording
    assert (clips / "empat.wav").exists()
    # An espeak-ng voice that does not exist: a clear error, not a traceback.
    text = config.read_text()
    config.write_text(text.replace('alsa_device = ""', 'alsa_device = ""\nespeak_voice = "xx"'))
    unknown = subprocess.run(
        [*antrean, "voice", "build", "--config", str(config), "--out", str(tmp_path / "new")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert unknown.returncode == 1
    assert "voice build failed: espeak-ng -v xx failed on 'Nomor antrean': Error:" in unknown.stderr
    config.write_text(text.replace('player = "aplay"', 'player = "mpv"'))
    bad = subprocess.run(
        [*antrean, "board", "--config", str(config)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert bad.returncode == 2
    assert (
        "voice.player: unknown voice player 'mpv'; registered: aplay, none, pw-play" in bad.stderr
    )
