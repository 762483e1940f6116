"""$GITHUB_STEP_SUMMARY pointing at a FIFO or device never blocks `gate` (issue 24 item 5): exit 2
at the door, and the append itself never waits for a reader."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from evalkit.outputs import append_regular


@pytest.fixture(autouse=True)
def deadline() -> Iterator[None]:
    """Old code blocked forever opening the FIFO: fail after 30 s instead of hanging the suite."""

    def expired(*_: object) -> None:
        raise TimeoutError("hung opening $GITHUB_STEP_SUMMARY")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(30)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def test_gate_refuses_a_fifo_step_summary_at_the_door(store: Path, tmp_path: Path, evalkit_cli,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    fifo = tmp_path / "summary.fifo"
    os.mkfifo(fifo)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(fifo))
    r = evalkit_cli("gate", "--baseline", "base", "--candidate", "drop", "--store", store)
    assert r.exit_code == 2, r.output
    assert "is a FIFO (named pipe), not a regular file" in r.stderr and "Gate" not in r.stdout


def test_gate_refuses_a_device_step_summary(store: Path, evalkit_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", "/dev/null")
    r = evalkit_cli("gate", "--baseline", "base", "--candidate", "noise", "--store", store)
    assert r.exit_code == 2 and "character device" in r.stderr


def test_append_to_a_fifo_without_reader_fails_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "p"
    os.mkfifo(fifo)
    with pytest.raises(OSError):
        append_regular(fifo, "text")


def test_append_creates_and_appends_to_a_regular_file(tmp_path: Path) -> None:
    path = tmp_path / "s.md"
    append_regular(path, "a\n")
    append_regular(path, "b\n")
    assert path.read_text() == "a\nb\n"
