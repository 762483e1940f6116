"""EVALKIT_HOME that cannot be used is an input error naming it (exit 2), never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.errors import InputError
from evalkit.home import evalkit_home


def test_home_is_created(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVALKIT_HOME", str(tmp_path / "a" / "b"))
    assert evalkit_home() == tmp_path / "a" / "b" and (tmp_path / "a" / "b").is_dir()


def test_home_pointing_at_a_file_is_an_input_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "file"
    target.write_text("keep me")
    monkeypatch.setenv("EVALKIT_HOME", str(target))
    with pytest.raises(InputError) as caught:
        evalkit_home()
    assert caught.value.message == f"EVALKIT_HOME '{target}' is not a directory (it is a file)."
    assert "EVALKIT_HOME" in (caught.value.hint or "") and caught.value.exit_code == 2
    assert target.read_text() == "keep me"


def test_home_that_cannot_be_created_is_an_input_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("EVALKIT_HOME", str(blocker / "home"))
    with pytest.raises(InputError, match=f"EVALKIT_HOME '{blocker / 'home'}' cannot be created"):
        evalkit_home()
    monkeypatch.setenv("EVALKIT_HOME", "/proc/evalkit-home")
    with pytest.raises(InputError, match="EVALKIT_HOME '/proc/evalkit-home' cannot be created"):
        evalkit_home()
