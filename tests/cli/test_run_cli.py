"""End-to-end `evalkit run` on the tiny random model and the fixture tasks."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from evalkit.store.reader import load_results

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tasks"


def test_run_grid_stores_everything(tiny_model_dir: Path, tmp_path: Path, evalkit_cli) -> None:
    store = tmp_path / "r.db"
    result = evalkit_cli("run", "-m", tiny_model_dir, "--include-path", FIXTURES, "-t", "toy_sentiment",
                         "-t", "toy_gen", "--setting", "zero-shot", "--setting", "few-shot:2", "--limit", "6",
                         "--store", store, "--name", "grid")
    assert result.exit_code == 0, result.output
    frame = load_results(store)
    assert set(frame.task) == {"toy_sentiment", "toy_gen"}
    assert set(frame.setting) == {"zero-shot", "few-shot:2"}
    assert dict(zip(frame.task, frame.n)) == {"toy_sentiment": 6, "toy_gen": 5}  # toy_gen has 5 docs
    row = frame[(frame.task == "toy_sentiment") & (frame.setting == "zero-shot")].iloc[0]
    assert row.metric == "acc" and row.ci_low <= row.value <= row.ci_high
    conn = sqlite3.connect(store)
    samples = conn.execute("SELECT COUNT(*), COUNT(DISTINCT doc_hash) FROM samples").fetchone()
    run = conn.execute("SELECT status, name, evalkit_version, host, seed FROM runs").fetchone()
    assert samples == (22, 11)  # 2 settings x (6 + 5) docs; the same 11 docs in both settings
    assert run[0] == "complete" and run[1] == "grid" and run[2] and run[4] == 1234
    assert "toy_sentiment" in result.stdout and "±" in result.stdout


def test_identical_runs_give_identical_scores(tiny_model_dir: Path, tmp_path: Path, evalkit_cli) -> None:
    store = tmp_path / "r.db"
    args = ["run", "-m", str(tiny_model_dir), "-t", str(FIXTURES / "toy_sentiment" / "toy_sentiment.yaml"),
            "--limit", "8", "--store", str(store)]
    assert evalkit_cli(*args).exit_code == 0 and evalkit_cli(*args).exit_code == 0
    conn = sqlite3.connect(store)
    rows = conn.execute("SELECT run_id, doc_id, outputs_json FROM samples ORDER BY doc_id, run_id").fetchall()
    first = [r[2] for r in rows[0::2]]
    second = [r[2] for r in rows[1::2]]
    assert first == second and len(first) == 8


def test_unknown_task_exits_2_with_suggestion(tiny_model_dir: Path, tmp_path: Path, evalkit_cli) -> None:
    result = evalkit_cli("run", "-m", tiny_model_dir, "-t", "sst", "--store", tmp_path / "r.db")
    assert result.exit_code == 2
    assert "Unknown task 'sst'. Did you mean: sst2" in result.stderr
    assert not (tmp_path / "r.db").exists()  # bad input costs nothing and writes nothing


@pytest.mark.parametrize("args, message", [
    (["--limit", "0"], "--limit"),
    (["--num-fewshot", "-1"], "--num-fewshot"),
    (["--setting", "few-shot"], "Invalid --setting 'few-shot'"),
    (["--setting", "two-shot"], "Invalid --setting"),
    (["-m", "/no/such/model"], "Unknown model '/no/such/model'"),
    (["-m", "smollm2-13m"], "Did you mean: smollm2-135m"),
    (["--batch-size", "zero"], "neither a positive integer nor 'auto'"),
])
def test_bad_options_exit_2(args: list[str], message: str, tmp_path: Path, evalkit_cli) -> None:
    result = evalkit_cli("run", "-t", "sst2", "--store", tmp_path / "r.db", *args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_model_directory_without_weights(tmp_path: Path, evalkit_cli) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.json").write_text("{}")
    result = evalkit_cli("run", "-m", tmp_path / "m", "-t", "sst2")
    assert result.exit_code == 2
    assert "has no weights" in result.stderr


def test_interrupted_run_is_not_complete(tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        evalkit_cli) -> None:
    import evalkit.engine.cell as cell_module

    calls = {"n": 0}
    original = cell_module.evaluate_task

    def interrupt_second(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(cell_module, "evaluate_task", interrupt_second)
    store = tmp_path / "r.db"
    result = evalkit_cli("run", "-m", tiny_model_dir, "--include-path", FIXTURES, "-t", "toy_sentiment",
                         "-t", "toy_gen", "--limit", "4", "--store", store)
    assert result.exit_code == 130 and "Interrupted." in result.stderr
    conn = sqlite3.connect(store)
    assert conn.execute("SELECT status FROM runs").fetchall() == [("failed",)]
    assert load_results(store).empty
