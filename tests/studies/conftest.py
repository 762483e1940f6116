from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from evalkit.store.schema import open_for_reading
from tests.studies.synthetic import study_store


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """The four-run study store described in tests.studies.synthetic.study_store."""
    return study_store(tmp_path / "study.db")


@pytest.fixture
def conn(store: Path) -> Iterator[sqlite3.Connection]:
    """An open connection to the study store."""
    connection = open_for_reading(store)
    yield connection
    connection.close()


@pytest.fixture
def study_cli(evalkit_cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """The real `evalkit` entry point with the study commands registered (a no-op once main.py lists them)."""
    from evalkit.cli.main import COMMANDS

    monkeypatch.setitem(COMMANDS, "trajectory", ("evalkit.cli.trajectory", "Checkpoint / fine-tuning trajectories."))
    monkeypatch.setitem(COMMANDS, "transfer", ("evalkit.cli.transfer", "The transfer / forgetting matrix."))
    return evalkit_cli
