"""What `evalkit run` records and how it uses its inputs: the typed run config, the run name
check, each task loaded once per run (without state leaking between cells), and scoring
failures reported as messages that name the task and document."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tasks"
SENTIMENT = str(FIXTURES / "toy_sentiment" / "toy_sentiment.yaml")


def _runs(store: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(store)
    try:
        return conn.execute("SELECT run_id, config_json FROM runs ORDER BY rowid").fetchall()
    finally:
        conn.close()


def _prompts(store: Path, run_id: str, setting: str) -> list[str]:
    conn = sqlite3.connect(store)
    try:
        return [r[0] for r in conn.execute(
            "SELECT s.prompt FROM samples s JOIN cells c ON s.cell_id = c.cell_id AND s.run_id = c.run_id "
            "WHERE s.run_id = ? AND c.setting = ? ORDER BY s.doc_id", (run_id, setting))]
    finally:
        conn.close()


def test_run_config_is_stored_as_typed_json(tiny_model_dir, tmp_path, evalkit_cli):
    store = tmp_path / "r.db"
    r = evalkit_cli("run", "-m", tiny_model_dir, "-t", SENTIMENT, "--setting", "zero-shot", "--setting", "few-shot:1",
                    "--limit", "3", "--store", store)
    assert r.exit_code == 0, r.output
    (_, config_json), = _runs(store)
    config = json.loads(config_json)
    assert config["settings"] == ["zero-shot", "few-shot:1"]
    assert config["limit"] == 3 and config["seed"] == 1234 and config["adapter"] is None
    assert config["finetune"]["method"] == "lora" and config["finetune"]["lr"] is None
    assert config["finetune"]["epochs"] == 1.0 and config["trust_remote_code"] is False
    assert config["models"] == [str(tiny_model_dir)]


def test_a_reserved_run_name_is_refused_before_anything_runs(tiny_model_dir, tmp_path, evalkit_cli, monkeypatch):
    import evalkit.models.loading as loading

    monkeypatch.setattr(loading, "load_model", lambda spec: pytest.fail("a model was loaded"))
    store = tmp_path / "r.db"
    r = evalkit_cli("run", "-m", tiny_model_dir, "-t", SENTIMENT, "--name", "latest~1", "--store", store)
    assert r.exit_code == 2, r.output
    assert "latest~1" in r.stderr
    assert not store.exists() or _runs(store) == []


def test_a_reused_run_name_is_warned_about(tiny_model_dir, tmp_path, evalkit_cli):
    store = tmp_path / "r.db"
    args = ("run", "-m", tiny_model_dir, "-t", SENTIMENT, "--limit", "2", "--name", "nightly", "--store", store)
    assert evalkit_cli(*args).exit_code == 0
    again = evalkit_cli(*args)
    assert again.exit_code == 0
    assert "already used" in again.output and "nightly" in again.output


def test_each_task_is_loaded_once_per_run(tiny_model_dir, tmp_path, evalkit_cli, monkeypatch):
    import evalkit.tasks.loading as loading

    loads: list[str] = []
    original = loading.load_task

    def counting(entry):  # noqa: ANN001
        loads.append(entry.name)
        return original(entry)

    monkeypatch.setattr(loading, "load_task", counting)
    r = evalkit_cli("run", "-m", tiny_model_dir, "--include-path", FIXTURES, "-t", "toy_sentiment", "-t", "toy_gen",
                    "--setting", "zero-shot", "--setting", "few-shot:1", "--limit", "2", "--store", tmp_path / "r.db")
    assert r.exit_code == 0, r.output
    assert sorted(loads) == ["toy_gen", "toy_sentiment"]


def test_a_shared_task_leaks_no_state_between_cells(tiny_model_dir, tmp_path, evalkit_cli):
    """Few-shot prompts (sampler seed, K) in a cell do not depend on which cells ran before it."""
    store = tmp_path / "r.db"
    mixed = evalkit_cli("run", "-m", tiny_model_dir, "-t", SENTIMENT, "--setting", "few-shot:3", "--setting",
                        "zero-shot", "--setting", "few-shot:2", "--limit", "4", "--store", store)
    alone = evalkit_cli("run", "-m", tiny_model_dir, "-t", SENTIMENT, "--setting", "few-shot:2", "--limit", "4",
                        "--store", store, "--no-cache")
    zero = evalkit_cli("run", "-m", tiny_model_dir, "-t", SENTIMENT, "--limit", "4", "--store", store)
    assert mixed.exit_code == alone.exit_code == zero.exit_code == 0
    (first, _), (second, _), (third, _) = _runs(store)
    assert _prompts(store, first, "few-shot:2") == _prompts(store, second, "few-shot:2")
    assert _prompts(store, first, "zero-shot") == _prompts(store, third, "zero-shot")
    assert _prompts(store, first, "few-shot:3") != _prompts(store, first, "few-shot:2")


@pytest.fixture
def empty_answer_task(tmp_path: Path) -> Path:
    """A loglikelihood task whose answers tokenise to nothing."""
    folder = tmp_path / "empty_answer"
    folder.mkdir()
    shutil.copy(FIXTURES / "toy_gen" / "test.jsonl", folder / "test.jsonl")
    (folder / "empty_answer.yaml").write_text(
        "task: empty_answer\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: test.jsonl\n"
        "output_type: loglikelihood\ntest_split: test\ndoc_to_text: \"Question: {{question}}\"\n"
        "doc_to_target: \"\"\ntarget_delimiter: \"\"\nmetric_list:\n  - metric: perplexity\n")
    return folder / "empty_answer.yaml"


def test_a_request_the_model_cannot_score_is_a_message(empty_answer_task, tiny_model_dir, tmp_path, evalkit_cli):
    r = evalkit_cli("run", "-m", tiny_model_dir, "-t", empty_answer_task, "--limit", "2", "--no-cache",
                    "--store", tmp_path / "r.db")
    assert r.exit_code == 1, r.output
    assert "Cannot score task 'empty_answer', document 0" in r.stderr and "empty" in r.stderr
    assert "Traceback" not in r.output


def test_an_unexpected_failure_while_scoring_names_the_cell(tiny_model_dir, tmp_path, evalkit_cli, monkeypatch):
    import evalkit.engine.cell as cell_module

    def out_of_memory(*args, **kwargs):  # noqa: ANN002, ANN003
        raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB\nmore detail")

    monkeypatch.setattr(cell_module, "evaluate_task", out_of_memory)
    store = tmp_path / "r.db"
    r = evalkit_cli("run", "-m", tiny_model_dir, "-t", SENTIMENT, "--limit", "2", "--store", store)
    assert r.exit_code == 1, r.output
    assert "Evaluating task 'toy_sentiment' (zero-shot)" in r.stderr and "CUDA out of memory" in r.stderr
    assert "Traceback" not in r.output and "more detail" not in r.stderr
    conn = sqlite3.connect(store)
    assert conn.execute("SELECT status FROM runs").fetchall() == [("failed",)]
