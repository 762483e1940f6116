"""`evalkit results import`: lm-eval's real output (HFLM on the tiny model) becomes a run that
compares document by document with an evalkit run of the same tasks, with nothing changed."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from tests.interop.conftest import DOCS, LIMIT, TASKS, results_file


def _run_ids(output: str) -> list[str]:
    return re.findall(r"as run (\S+):", output)


def _store_rows(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    from evalkit.store.schema import open_for_reading

    conn = open_for_reading(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def both_runs(tmp_path_factory: pytest.TempPathFactory, lm_eval_output: Path, tiny_model_dir: Path,
              task_dir: Path) -> tuple[Path, str, str]:
    """One store holding the imported lm-eval run and `evalkit run` on the same tasks and model."""
    from tests.conftest import _run_entry_point
    from evalkit.cli import results
    from evalkit.cli.results_import import import_command

    results.command.commands.setdefault("import", import_command)
    db = tmp_path_factory.mktemp("interop-store") / "results.db"
    imported = _run_entry_point("results", "import", lm_eval_output, "--store", db)
    assert imported.exit_code == 0, imported.output
    tasks = [a for t in TASKS for a in ("-t", task_dir / f"{t}.yaml")]
    ran = _run_entry_point("run", "-m", tiny_model_dir, *tasks, "--limit", LIMIT, "--store", db)
    assert ran.exit_code == 0, ran.output
    evalkit_id = _store_rows(db, "SELECT run_id FROM runs WHERE config_json NOT LIKE '%lm-eval import%'")[0][0]
    return db, _run_ids(imported.output)[0], evalkit_id


def test_compare_matches_every_document_with_zero_differences(both_runs, evalkit_cli) -> None:
    db, imported, ours = both_runs
    result = evalkit_cli("compare", imported, ours, "--store", db, "--format", "json")
    assert result.exit_code == 0, result.output
    (comparison,) = json.loads(result.stdout)["comparisons"]
    assert comparison["warnings"] == []
    rows = comparison["rows"]
    assert {(r["task"], r["metric"]) for r in rows} == {("toy_sentiment", "acc"), ("toy_gen", "exact_match")}
    for row in rows:
        assert (row["n"], row["unmatched_a"], row["unmatched_b"]) == (DOCS[row["task"]], 0, 0), row
        assert row["delta"] == 0.0 and row["improved"] == 0 and row["worsened"] == 0, row
        assert row["value_a"] == row["value_b"]


def test_every_document_record_equals_evalkit_own(both_runs) -> None:
    db, imported, ours = both_runs
    sql = ("SELECT c.task, s.doc_id, s.doc_hash, s.prompt_hash, s.prompt, s.target, s.prediction, s.scores_json, "
           "s.outputs_json FROM samples s JOIN cells c USING (run_id, cell_id) WHERE s.run_id = ? "
           "ORDER BY c.task, s.doc_id")
    theirs, mine = _store_rows(db, sql, (imported,)), _store_rows(db, sql, (ours,))
    assert len(theirs) == len(mine) == sum(DOCS.values())
    for a, b in zip(theirs, mine):
        assert a[:8] == b[:8]  # task, doc id, hashes, prompt, target, prediction, per-metric scores
        if a[0] == "toy_sentiment":  # the log-likelihoods HFLM and evalkit's backend computed
            flat_a, flat_b = _numbers(json.loads(a[8])), _numbers(json.loads(b[8]))
            assert len(flat_a) == len(flat_b) and all(math.isclose(x, y, abs_tol=1e-4) for x, y in zip(flat_a, flat_b))


def _numbers(value: object) -> list[float]:
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    return [float(value)] if isinstance(value, float) else []


def test_the_imported_run_records_where_it_came_from(both_runs, lm_eval_output: Path) -> None:
    db, imported, _ = both_runs
    (status, lm_eval_version, config), = _store_rows(
        db, "SELECT status, lm_eval_version, config_json FROM runs WHERE run_id = ?", (imported,))
    config = json.loads(config)
    recorded = json.loads(results_file(lm_eval_output).read_text(encoding="utf-8"))
    assert status == "complete" and lm_eval_version == recorded["lm_eval_version"]
    assert config["source"] == "lm-eval import" and config["files"][0] == str(results_file(lm_eval_output).resolve())
    assert len(config["files"]) == 1 + len(TASKS) and config["lm_eval_git_hash"] == recorded.get("git_hash")
    cells = _store_rows(db, "SELECT task, setting, num_fewshot, n, model_fingerprint FROM cells WHERE run_id = ? "
                            "ORDER BY task", (imported,))
    assert [c[:4] for c in cells] == [("toy_gen", "zero-shot", 0, 5), ("toy_sentiment", "zero-shot", 0, 8)]
    assert all(c[4].startswith("lm-eval:") for c in cells)


def test_metrics_keep_lm_eval_values_and_stderr(both_runs, lm_eval_output: Path) -> None:
    db, imported, _ = both_runs
    recorded = json.loads(results_file(lm_eval_output).read_text(encoding="utf-8"))["results"]["toy_sentiment"]
    (value, stderr, low, high, n), = _store_rows(
        db, "SELECT m.value, m.stderr, m.ci_low, m.ci_high, m.n FROM metrics m JOIN cells c USING (run_id, cell_id) "
            "WHERE m.run_id = ? AND c.task = 'toy_sentiment' AND m.metric = 'acc'", (imported,))
    assert (value, stderr, n) == (recorded["acc,none"], recorded["acc_stderr,none"], LIMIT)
    assert math.isclose(low, value - 1.96 * stderr) and math.isclose(high, value + 1.96 * stderr)


def test_the_same_yaml_gives_the_same_task_identity(both_runs) -> None:
    db, imported, ours = both_runs
    sql = "SELECT task, task_config_hash FROM cells WHERE run_id = ? ORDER BY task"
    assert _store_rows(db, sql, (imported,)) == _store_rows(db, sql, (ours,))


def test_a_changed_yaml_is_noted_and_needs_allow_incomparable(output_copy: Path, task_dir: Path, tmp_path: Path,
                                                              evalkit_cli) -> None:
    """The YAML lm-eval recorded no longer says what lm-eval ran: the import says so, keeps lm-eval's
    own config as the identity, and compare refuses it unless --allow-incomparable."""
    results = results_file(output_copy)
    data = json.loads(results.read_text(encoding="utf-8"))
    data["configs"]["toy_sentiment"]["doc_to_text"] = "changed: {{sentence}}"
    results.write_text(json.dumps(data), encoding="utf-8")
    db = tmp_path / "changed.db"
    imported = evalkit_cli("results", "import", results, "--store", db)
    assert imported.exit_code == 0, imported.output
    assert "toy_sentiment: identified by lm-eval's recorded config" in imported.stdout
    assert "key 'doc_to_text' differs" in imported.stdout
    (hash_,), = _store_rows(db, "SELECT task_config_hash FROM cells WHERE task = 'toy_sentiment'")
    assert hash_.startswith("lm-eval:")


def test_compare_says_when_every_score_is_identical(both_runs, evalkit_cli) -> None:
    db, imported, ours = both_runs
    result = evalkit_cli("compare", imported, ours, "--store", db, "--format", "json")
    notes = json.loads(result.stdout)["comparisons"][0]["notes"]
    assert any(n.startswith("tiny-model0 / toy_sentiment / zero-shot: ") and n.endswith(
        " have identical per-document scores on 8 documents (acc)") for n in notes), notes
