from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from tests.pg_server import pg_server, pg_url, store_at  # noqa: F401  (fixtures: a throw-away PostgreSQL server)

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random Llama checkpoint directory (shared by the whole session; do not modify)."""
    from tests.tiny_model import save_tiny_checkpoint

    return save_tiny_checkpoint(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point EVALKIT_HOME and the default store at a per-test directory."""
    home = tmp_path / "evalkit-home"
    monkeypatch.setenv("EVALKIT_HOME", str(home))
    monkeypatch.setenv("EVALKIT_STORE", str(tmp_path / "evalkit.db"))
    return home


@pytest.fixture(scope="session")
def real_model_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A shared EVALKIT_HOME for slow tests so the GGUF is converted once per session."""
    return Path(os.environ.get("EVALKIT_TEST_HOME") or tmp_path_factory.mktemp("real-home"))


@dataclass
class CliResult:
    """What one run of the real `evalkit` entry point produced."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def _run_entry_point(*args: object) -> CliResult:
    """Run `evalkit.cli.main.main` (the console script) in-process: its error mapping, its exit code."""
    from evalkit.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return CliResult(code, out.getvalue(), err.getvalue())


@pytest.fixture
def evalkit_cli(monkeypatch: pytest.MonkeyPatch) -> Callable[..., CliResult]:
    """The one way tests call the command line: `evalkit_cli("results", "list", "--store", db)`."""
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.delenv("EVALKIT_DEBUG", raising=False)
    return _run_entry_point


# Heavy kinds marked by the fixture that makes them heavy, so a new test using one is marked too.
_FIXTURE_MARKS = {"pg_server": "postgres", "pg_url": "postgres", "ray_cluster": "ray"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        kinds = {mark for fixture, mark in _FIXTURE_MARKS.items() if fixture in names}
        params = getattr(getattr(item, "callspec", None), "params", {})
        if params.get("store_at") == "postgresql":
            kinds.add("postgres")
        for kind in sorted(kinds):
            item.add_marker(getattr(pytest.mark, kind))
