"""The voice-player registry: players register themselves; [voice] and the doctor's audio
line go through it, and a new player needs no other file."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from antrean.backends import Backend, Key
from antrean.config import ConfigError
from antrean_tools.doctor import Doctor, Result
from display_board.settings import voice_settings
from display_board.voice.clips import VoiceSettings
from display_board.voice.player import RecordingPlayer
from display_board.voice.registry import PLAYERS, open_player
from tests.support.helpers import example_config, example_text

APLAY = 'player = "aplay"'


def test_every_player_is_registered_with_its_keys() -> None:
    keys = {name: [k.name for k in b.keys] for name, b in PLAYERS.backends().items()}
    assert keys == {"aplay": ["alsa_device"], "none": [], "pw-play": []}
    assert all(b.check is not None and b.summary for b in PLAYERS.backends().values())


def test_an_unknown_player_names_its_line_and_the_registered_ones(tmp_path: Path) -> None:
    config = example_config(tmp_path, edit={APLAY: 'player = "vlc"'})
    line = next(n for n, raw in enumerate(config.text.splitlines(), 1) if "vlc" in raw)
    with pytest.raises(ConfigError) as bad:
        voice_settings(config)
    assert str(bad.value) == (
        f"test.toml:{line}: voice.player: unknown voice player 'vlc'; "
        "registered: aplay, none, pw-play"
    )


def test_the_example_reads_aplay_with_its_device_and_another_player_keeps_the_key(
    tmp_path: Path,
) -> None:
    voice = voice_settings(
        example_config(tmp_path, edit={'alsa_device = ""': 'alsa_device = "null"'})
    )
    assert (voice.player, voice.options) == ("aplay", "null")
    assert open_player(voice).argv == ["aplay", "-q", "-D", "null"]  # type: ignore[attr-defined]
    # Silencing a board is one edit: aplay's key may stay in the file.
    silent = voice_settings(example_config(tmp_path, edit={APLAY: 'player = "none"'}))
    assert (silent.player, silent.options, open_player(silent).name) == ("none", None, "none")
    with pytest.raises(ConfigError, match=r"voice\.alsa_devise: unknown key; did you mean"):
        voice_settings(example_config(tmp_path, edit={"alsa_device": "alsa_devise"}))


def test_the_doctor_audio_line_is_the_player_check(tmp_path: Path) -> None:
    path = tmp_path / "antrean.toml"
    path.write_text(example_text(edit={APLAY: 'player = "none"'}), encoding="utf-8")
    assert Doctor(path).check_audio().status == "OK"
    assert Doctor(path, role="display").check_audio() == Result(
        "WARN",
        "audio",
        "silent board (player = none): calls are shown, not spoken",
        'set [voice] player = "aplay" for a TV with speakers',
    )
    path.write_text(example_text(edit={APLAY: 'player = "pw-play"'}), encoding="utf-8")
    doctor = Doctor(path, role="display")

    def no_pipewire(argv: list[str]) -> subprocess.CompletedProcess[str]:
        raise FileNotFoundError(argv[0])

    doctor.run = no_pipewire
    assert doctor.check_audio().detail == "pw-play is not installed"


@pytest.fixture
def fake_player() -> Iterator[list[VoiceSettings]]:
    """A player registered by a test, the way a new player module registers itself."""
    checked: list[VoiceSettings] = []

    def check(s: VoiceSettings, probe: Any) -> Any:
        checked.append(s)
        return probe.result("OK", "audio", f"recorder at {s.options}x is fine")

    PLAYERS.register(
        Backend(
            name="recorder",
            summary="a test player",
            keys=(Key("recorder_speed", "float", 1.0),),
            parse=lambda r, t, where, _c: float(r.get(t, where, "recorder_speed", 1.0)),
            open=lambda s: RecordingPlayer(speed=s.options),
            check=check,
        )
    )
    yield checked
    PLAYERS._backends.pop("recorder")


def test_a_registered_player_is_read_opened_and_checked_without_touching_another_file(
    tmp_path: Path, fake_player: list[VoiceSettings]
) -> None:
    text = example_text(edit={APLAY: 'player = "recorder"\nrecorder_speed = 0.5'})
    path = tmp_path / "antrean.toml"
    path.write_text(text, encoding="utf-8")
    doctor = Doctor(config_file=path, role="display")
    assert doctor.check_config().status == "OK"  # check-config reads it through the registry
    assert doctor.check_audio() == Result("OK", "audio", "recorder at 0.5x is fine")
    (settings,) = fake_player
    player = open_player(settings)
    assert isinstance(player, RecordingPlayer)
    assert (player.speed, settings.volume) == (0.5, 100)
