"""Board test fixtures: voice clips built once per session, a board app on the test's office."""

from __future__ import annotations

from pathlib import Path

import pytest

from display_board.voice.clips import ClipLibrary, VoiceSettings, build_clips


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every clip, synthesised once per test session with the real espeak-ng."""
    folder = tmp_path_factory.mktemp("voice")
    build_clips(VoiceSettings(folder))
    return folder


@pytest.fixture
def library(clip_dir: Path) -> ClipLibrary:
    return ClipLibrary(clip_dir).load()
