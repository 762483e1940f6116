"""`evalkit rescore`: a run's stored generations scored again through lm-eval's own filters and metrics,
without the model: the unchanged YAML reproduces the stored scores, a changed one gives what a fresh run
with it gives; bad requests stop at the door (exit 2)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tasks"


def _scores(store: Path, run_id: str) -> tuple[list[tuple[str, float]], list[tuple[int, dict]]]:
    conn = sqlite3.connect(store)
    try:
        metrics = conn.execute("SELECT metric, value FROM metrics WHERE run_id = ? ORDER BY metric", (run_id,)).fetchall()
        samples = conn.execute("SELECT doc_id, scores_json FROM samples WHERE run_id = ? ORDER BY doc_id", (run_id,))
        return metrics, [(d, json.loads(s)) for d, s in samples.fetchall()]
    finally:
        conn.close()


def _runs(store: Path) -> list[tuple[str, dict]]:
    conn = sqlite3.connect(store)
    try:
        return [(r, json.loads(c or "{}")) for r, c in conn.execute("SELECT run_id, config_json FROM runs ORDER BY rowid")]
    finally:
        conn.close()


@pytest.fixture(scope="module")
def generation_run(tiny_model_dir, tmp_path_factory):
    """A tiny-model run of toy_gen (generate_until, exact_match), from a copy of its YAML we can edit."""
    from tests.conftest import _run_entry_point

    folder = tmp_path_factory.mktemp("rescore") / "toy_gen"
    shutil.copytree(FIXTURES / "toy_gen", folder)
    store = folder.parent / "r.db"
    done = _run_entry_point("run", "-m", tiny_model_dir, "-t", folder / "toy_gen.yaml", "--no-cache", "--store", store)
    assert done.exit_code == 0, done.output
    return folder / "toy_gen.yaml", store, _runs(store)[0][0]


def test_unchanged_yaml_reproduces_the_stored_scores(generation_run, evalkit_cli) -> None:
    yaml_path, store, source = generation_run
    result = evalkit_cli("rescore", source, "--task", yaml_path, "--store", store, "--name", "same")
    assert result.exit_code == 0, result.output
    new_id, config = _runs(store)[-1]
    assert config["rescore_of"] == source and config["changed"] == {"toy_gen/zero-shot/" + _model(store, source): {}}
    assert _scores(store, new_id) == _scores(store, source) and len(_scores(store, source)[1]) == 5


def _model(store: Path, run_id: str) -> str:
    conn = sqlite3.connect(store)
    try:
        return conn.execute("SELECT model FROM cells WHERE run_id = ?", (run_id,)).fetchone()[0]
    finally:
        conn.close()


def test_changed_regex_scores_as_a_fresh_run_with_it(generation_run, tiny_model_dir, tmp_path, evalkit_cli) -> None:
    yaml_path, store, source = generation_run
    changed = tmp_path / "toy_gen"
    shutil.copytree(yaml_path.parent, changed)
    text = (changed / "toy_gen.yaml").read_text().replace("    ignore_punctuation: true\n",
                                                          "    ignore_punctuation: true\n    regexes_to_ignore: ['.*']\n")
    (changed / "toy_gen.yaml").write_text(text)
    result = evalkit_cli("rescore", source, "--task", changed / "toy_gen.yaml", "--store", store)
    assert result.exit_code == 0, result.output
    rescored, config = _runs(store)[-1]
    assert list(config["changed"].values())[0]["task_config_hash"][0] != list(config["changed"].values())[0]["task_config_hash"][1]
    fresh_store = tmp_path / "fresh.db"
    fresh = evalkit_cli("run", "-m", tiny_model_dir, "-t", changed / "toy_gen.yaml", "--no-cache", "--store", fresh_store)
    assert fresh.exit_code == 0, fresh.output
    assert _scores(store, rescored) == _scores(fresh_store, _runs(fresh_store)[0][0])
    assert _scores(store, rescored) != _scores(store, source)  # the edit changed the numbers
    compared = evalkit_cli("compare", source, rescored, "--store", store)  # paired, same documents
    assert compared.exit_code == 0, compared.output
    assert "not comparable" not in compared.output and "exact_match" in compared.output


@pytest.mark.parametrize("args, says", [(("--metric", "no_such_metric"), "Unknown metric"),
                                        (("--filter", "strip-everything"), "Unknown filter")])
def test_bad_requests_exit_2_before_any_work(generation_run, evalkit_cli, args, says) -> None:
    yaml_path, store, source = generation_run
    before = len(_runs(store))
    result = evalkit_cli("rescore", source, "--task", yaml_path, *args, "--store", store)
    assert result.exit_code == 2 and says in result.output
    assert len(_runs(store)) == before


def test_a_run_without_outputs_exits_2(generation_run, tmp_path, evalkit_cli) -> None:
    from evalkit.store.records import CellRecord, MetricRecord, RunInfo, SampleRecord
    from evalkit.store.schema import open_for_writing
    from evalkit.store.writer import begin_run, finish_run, write_cell

    yaml_path, _, _ = generation_run
    store, run_id = tmp_path / "bare.db", "20261201-000000-bare01"
    conn = open_for_writing(store)
    try:
        begin_run(conn, RunInfo(run_id, "bare", "2026-12-01T00:00:00+00:00", "test", 0, {}, None, "h"))
        write_cell(conn, run_id, CellRecord("c1", "m", {"name": "m"}, "fp", "toy_gen", "h", "src", "zero-shot", 0,
                                            [MetricRecord("exact_match", 0.0, None, None, None, 1, True)],
                                            [SampleRecord(0, "d", "p", "q", "4", "x", {"exact_match": 0.0})]))
        finish_run(conn, run_id, "complete")
    finally:
        conn.close()
    result = evalkit_cli("rescore", run_id, "--task", yaml_path, "--store", store)
    assert result.exit_code == 2 and "no stored model outputs" in result.output
    assert len(_runs(store)) == 1


def test_a_filter_on_loglikelihood_outputs_exits_2(tiny_model_dir, tmp_path, evalkit_cli) -> None:
    task, store = FIXTURES / "toy_sentiment" / "toy_sentiment.yaml", tmp_path / "ll.db"
    assert evalkit_cli("run", "-m", tiny_model_dir, "-t", task, "--no-cache", "--store", store).exit_code == 0
    source = _runs(store)[0][0]
    result = evalkit_cli("rescore", source, "--task", task, "--filter", "take-first", "--store", store)
    assert result.exit_code == 2 and "log-likelihoods, not generated text" in result.output
    generation_metric = evalkit_cli("rescore", source, "--task", task, "--metric", "exact_match", "--store", store)
    assert generation_metric.exit_code == 2 and "--metric exact_match cannot score them" in generation_metric.output
    same = evalkit_cli("rescore", source, "--task", task, "--store", store)  # its own metrics: fine
    assert same.exit_code == 0, same.output
    assert _scores(store, _runs(store)[-1][0]) == _scores(store, source)


def test_named_filter_chain_scores_as_the_same_chain_in_the_yaml(generation_run, tiny_model_dir, tmp_path,
                                                                 evalkit_cli) -> None:
    """--filter regex=... --filter take-first is lm-eval's regex + take_first filter_list, as a fresh run
    of a YAML naming that chain computes it (its metric is then exact_match,rescore)."""
    yaml_path, store, source = generation_run
    pattern = r"(\S)"
    result = evalkit_cli("rescore", source, "--task", yaml_path, "--filter", f"regex={pattern}", "--filter",
                         "take-first", "--store", store)
    assert result.exit_code == 0, result.output
    rescored, config = _runs(store)[-1]
    assert list(config["changed"].values())[0]["filters"] == [f"regex={pattern}", "take-first"]
    changed = tmp_path / "toy_gen"
    shutil.copytree(yaml_path.parent, changed)
    chain = ("filter_list:\n  - name: rescore\n    filter:\n      - function: regex\n"
             f"        regex_pattern: '{pattern}'\n      - function: take_first\n")
    (changed / "toy_gen.yaml").write_text((changed / "toy_gen.yaml").read_text() + chain)
    fresh_store = tmp_path / "fresh.db"
    fresh = evalkit_cli("run", "-m", tiny_model_dir, "-t", changed / "toy_gen.yaml", "--no-cache", "--store", fresh_store)
    assert fresh.exit_code == 0, fresh.output
    assert _scores(store, rescored) == _scores(fresh_store, _runs(fresh_store)[0][0])
    assert [m for m, _ in _scores(store, rescored)[0]] == ["exact_match,rescore"]


def test_strip_think_removes_reasoning_blocks_through_lm_eval_filters() -> None:
    from lm_eval.api.registry import get_filter

    from evalkit.rescore.filters import STRIP_THINK, strip_think
    from evalkit.rescore.options import filter_chain

    assert filter_chain(("strip-think", "take-first"))[0]["filter"] == [{"function": STRIP_THINK},
                                                                       {"function": "take_first"}]
    chain = get_filter(STRIP_THINK)()
    assert chain.apply([["<think>2+2 is 4\n</think> 4", "<think>never closed", "plain"]], [None]) == [["4", "", "plain"]]
    assert strip_think("a <think>x</think>b") == "a b"


def test_metric_from_the_registry_and_its_door(generation_run, evalkit_cli) -> None:
    yaml_path, store, source = generation_run
    result = evalkit_cli("rescore", source, "--task", yaml_path, "--metric", "exact_match", "--store", store)
    assert result.exit_code == 0, result.output
    rescored, config = _runs(store)[-1]
    assert list(config["changed"].values())[0]["metric"] == "exact_match"
    assert [m for m, _ in _scores(store, rescored)[0]] == ["exact_match"]
