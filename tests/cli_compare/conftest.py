from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

import pytest

from tests.compare.synthetic import standard_store

if TYPE_CHECKING:
    from tests.conftest import CliResult


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """The four-run store described in tests.compare.synthetic.standard_store."""
    return standard_store(tmp_path / "store.db")


@pytest.fixture
def evalkit(evalkit_cli: Callable[..., "CliResult"]) -> Callable[..., tuple[int, str, str]]:
    """(exit code, stdout, stderr) of `evalkit ARGS`, through the one entry-point fixture.
    Kept for test_compare_cli / test_gate_cli until they use `evalkit_cli` directly."""

    def run(*args: object) -> tuple[int, str, str]:
        result = evalkit_cli(*args)
        return result.exit_code, result.stdout, result.stderr

    return run
