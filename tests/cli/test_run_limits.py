"""`--limit N`, `--limit TASK=N`: a document limit for every task, or for one task."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tasks"


def _run(evalkit_cli, model: Path, store: Path, *limits: str):
    return evalkit_cli("run", "-m", model, "--include-path", FIXTURES, "-t", "toy_sentiment", "-t", "toy_gen",
                       *[a for limit in limits for a in ("--limit", limit)], "--store", store)


def test_a_task_limit_overrides_the_limit_for_every_task(evalkit_cli, tiny_model_dir: Path, tmp_path: Path) -> None:
    store = tmp_path / "r.db"
    result = _run(evalkit_cli, tiny_model_dir, store, "6", "toy_gen=2")
    assert result.exit_code == 0, result.output
    with sqlite3.connect(store) as conn:
        n = dict(conn.execute("SELECT task, n FROM cells").fetchall())
        config = conn.execute("SELECT config_json FROM runs").fetchone()[0]
    assert n == {"toy_sentiment": 6, "toy_gen": 2}
    assert '"limit": {"*": 6, "toy_gen": 2}' in config


@pytest.mark.parametrize("limits, message", [
    (("toy_gne=2",), "toy_gne"),                 # a task that is not in the run, with a suggestion
    (("4", "5"), "given twice"),
    (("=3",), "names no task"),
    (("x",), "neither a number"),
    (("toy_gen=0",), "at least 1"),
    (("9223372036854775808",), "larger than any data set"),  # was a run-time failure after the model loaded
])
def test_bad_limits_are_refused_before_anything_runs(evalkit_cli, tiny_model_dir: Path, tmp_path: Path,
                                                    limits: tuple[str, ...], message: str) -> None:
    store = tmp_path / "r.db"
    result = _run(evalkit_cli, tiny_model_dir, store, *limits)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not store.exists()


def test_a_task_given_by_path_takes_a_limit_by_its_name(evalkit_cli, tiny_model_dir: Path, tmp_path: Path) -> None:
    store = tmp_path / "r.db"
    path = FIXTURES / "toy_sentiment" / "toy_sentiment.yaml"
    result = evalkit_cli("run", "-m", tiny_model_dir, "-t", path, "--limit", "toy_sentiment=3", "--store", store)
    assert result.exit_code == 0, result.output
    with sqlite3.connect(store) as conn:
        assert conn.execute("SELECT task, n FROM cells").fetchall() == [("toy_sentiment", 3)]
