"""An import stores only what lm-eval computed, once, whole: a document logged twice, a score or an
aggregate that is not a number, an aggregate that contradicts its documents, a doc_id or score no store
can hold, or a malformed task metadata is refused with exit 2 (naming file, line or task) before the
store is created; the same output imported again is refused naming its run; a write that fails midway
leaves no run behind."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any, Callable

import pytest

from tests.interop.conftest import results_file, samples_file


def _edit_sample(folder: Path, line: int, change: Callable[[dict[str, Any]], None]) -> Path:
    """Apply `change` to the sample on `line` (from 1) of toy_sentiment's samples file."""
    path = samples_file(folder, "toy_sentiment")
    lines = path.read_text(encoding="utf-8").splitlines()
    sample = json.loads(lines[line - 1])
    change(sample)
    lines[line - 1] = json.dumps(sample)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _edit_results(folder: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    path = results_file(folder)
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _refused(evalkit_cli, folder: Path, db: Path, *expected: str) -> None:
    result = evalkit_cli("results", "import", folder, "--store", db)
    assert result.exit_code == 2, result.output
    for text in expected:
        assert text in result.stderr, (text, result.stderr)
    assert "Traceback" not in result.output
    assert not db.exists()


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda sample: sample.__setitem__(key, value)


def test_two_samples_of_one_document_are_refused(output_copy: Path, tmp_path: Path, evalkit_cli) -> None:
    path = _edit_sample(output_copy, 3, _set("doc_id", 0))
    _refused(evalkit_cli, output_copy, tmp_path / "s.db", path.name, "line 3", "doc_id 0", "already logged on line 1")


def test_a_boolean_doc_id_is_refused(output_copy: Path, tmp_path: Path, evalkit_cli) -> None:
    path = _edit_sample(output_copy, 4, _set("doc_id", True))
    _refused(evalkit_cli, output_copy, tmp_path / "s.db", path.name, "line 4", "'doc_id' must be an integer")


@pytest.mark.parametrize("score, described", [(float("nan"), "the score is NaN"), (None, "the score is null"),
                                               ("0.5", "the score is the text '0.5'"),
                                               (10**400, "an integer of 401 digits")],
                         ids=["nan", "null", "text", "400-digit-integer"])
def test_a_score_lm_eval_did_not_compute_is_refused(score: Any, described: str, output_copy: Path, tmp_path: Path,
                                                    evalkit_cli) -> None:
    path = _edit_sample(output_copy, 2, _set("acc", score))
    _refused(evalkit_cli, output_copy, tmp_path / "s.db", path.name, "line 2", "doc_id 1", "metric 'acc'", described)


def test_an_aggregate_that_is_not_a_number_is_refused(output_copy: Path, tmp_path: Path, evalkit_cli) -> None:
    path = _edit_results(output_copy, lambda d: d["results"]["toy_gen"].__setitem__("exact_match,none", "N/A"))
    _refused(evalkit_cli, output_copy, tmp_path / "s.db", path.name, "'exact_match,none' of task 'toy_gen'",
             "'N/A'")


def test_an_aggregate_that_contradicts_its_documents_is_refused(output_copy: Path, tmp_path: Path,
                                                                evalkit_cli) -> None:
    path = _edit_results(output_copy, lambda d: d["results"]["toy_sentiment"].__setitem__("acc,none", 0.99))
    _refused(evalkit_cli, output_copy, tmp_path / "s.db", path.name, "'acc,none' of task 'toy_sentiment'",
             "contradicts its documents", "0.99", "mean of its 8 documents")


def test_an_aggregate_equal_to_its_documents_mean_up_to_rounding_is_imported(output_copy: Path, tmp_path: Path,
                                                                            evalkit_cli) -> None:
    def nudge(data: dict[str, Any]) -> None:
        results = data["results"]["toy_sentiment"]
        results["acc,none"] = results["acc,none"] * (1 + 1e-9)  # a different summation order, at most

    _edit_results(output_copy, nudge)
    result = evalkit_cli("results", "import", output_copy, "--store", tmp_path / "s.db")
    assert result.exit_code == 0, result.output


def test_a_doc_id_beyond_64_bits_is_refused_and_leaves_no_failed_run(output_copy: Path, tmp_path: Path,
                                                                     evalkit_cli) -> None:
    path = _edit_sample(output_copy, 5, _set("doc_id", 10**30))
    _refused(evalkit_cli, output_copy, tmp_path / "s.db", path.name, "line 5", "outside the 64-bit integer range")


def test_task_metadata_that_is_not_an_object_is_refused(output_copy: Path, tmp_path: Path, evalkit_cli) -> None:
    path = _edit_results(output_copy, lambda d: d["configs"]["toy_gen"].__setitem__("metadata", "v1"))
    _refused(evalkit_cli, output_copy, tmp_path / "s.db", path.name, "'configs.toy_gen.metadata' is a str")


def test_the_same_output_imported_again_is_refused_naming_its_run(lm_eval_output: Path, output_copy: Path,
                                                                  tmp_path: Path, evalkit_cli) -> None:
    db = tmp_path / "s.db"
    first = evalkit_cli("results", "import", lm_eval_output, "--store", db, "--name", "first")
    assert first.exit_code == 0, first.output
    before = db.read_bytes()
    for again in ([lm_eval_output], [output_copy, "--name", "second"]):  # a copy elsewhere is the same output
        result = evalkit_cli("results", "import", *again, "--store", db)
        assert result.exit_code == 2, result.output
        assert "was already imported as run" in result.stderr and "('first')" in result.stderr
    assert db.read_bytes() == before


def test_two_copies_of_one_output_in_one_import_are_refused(lm_eval_output: Path, output_copy: Path,
                                                            tmp_path: Path, evalkit_cli) -> None:
    result = evalkit_cli("results", "import", lm_eval_output, output_copy, "--store", tmp_path / "s.db")
    assert result.exit_code == 2 and "holds the same lm-eval output" in result.stderr, result.output
    assert not (tmp_path / "s.db").exists()


def test_a_write_that_fails_midway_stores_nothing(lm_eval_output: Path, tmp_path: Path) -> None:
    """The store refuses the second cell's first sample (a trigger standing in for a full disk): the run
    and its first cell go with it, where a run used to be left behind as 'failed'."""
    from evalkit.interop.lm_eval_import import import_paths
    from evalkit.store.schema import open_for_writing

    db = tmp_path / "s.db"
    open_for_writing(db).close()
    conn = sqlite3.connect(db)
    conn.execute("CREATE TRIGGER second_cell_fails BEFORE INSERT ON samples WHEN EXISTS (SELECT 1 FROM samples) "
                 "AND NEW.cell_id NOT IN (SELECT cell_id FROM samples) BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    conn.close()
    with pytest.raises(Exception, match="disk full"):
        import_paths([lm_eval_output], db)
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT count(*) FROM runs").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM cells").fetchone() == (0,)
    finally:
        conn.close()


RESULTS_DAMAGE: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "versions-text": (lambda d: d.__setitem__("versions", "x"), "key 'versions' is a str"),
    "task-hashes-number": (lambda d: d.__setitem__("task_hashes", -1), "key 'task_hashes' is a int"),
    "directions-text": (lambda d: d["higher_is_better"].__setitem__("toy_gen", "x"),
                        "'higher_is_better.toy_gen' is a str"),
    "n-shot-beyond-64-bits": (lambda d: d["n-shot"].__setitem__("toy_gen", 10**30), "'n-shot.toy_gen'"),
}


@pytest.mark.parametrize("damage", list(RESULTS_DAMAGE), ids=list(RESULTS_DAMAGE))
def test_a_results_key_of_the_wrong_type_is_refused(damage: str, output_copy: Path, tmp_path: Path,
                                                    evalkit_cli) -> None:
    edit, expected = RESULTS_DAMAGE[damage]
    path = _edit_results(output_copy, edit)
    _refused(evalkit_cli, output_copy, tmp_path / "s.db", path.name, expected)


def test_provenance_no_store_can_hold_is_dropped_not_a_crash(output_copy: Path, tmp_path: Path,
                                                            evalkit_cli) -> None:
    """A seed beyond 64 bits is unknown (0), a NaN git hash null, an empty response no prediction."""
    def edit(data: dict[str, Any]) -> None:
        data["config"]["random_seed"] = 10**30
        data["git_hash"] = float("nan")

    _edit_results(output_copy, edit)
    gen = samples_file(output_copy, "toy_gen")
    lines = gen.read_text(encoding="utf-8").splitlines()
    sample = json.loads(lines[0])
    sample["filtered_resps"] = []
    gen.write_text("\n".join([json.dumps(sample), *lines[1:]]) + "\n", encoding="utf-8")
    result = evalkit_cli("results", "import", output_copy, "--store", tmp_path / "s.db")
    assert result.exit_code == 0, result.output


def test_a_rolling_task_whose_response_is_no_log_likelihood_is_refused(output_copy: Path, tmp_path: Path,
                                                                       evalkit_cli) -> None:
    """evalkit's per-document score of a loglikelihood_rolling task is the logged response: toy_gen's
    responses are generated text, so relabelled as rolling it has no readable score (was stored as null)."""
    _edit_results(output_copy, lambda d: d["configs"]["toy_gen"].__setitem__("output_type", "loglikelihood_rolling"))
    _refused(evalkit_cli, output_copy, tmp_path / "s.db", samples_file(output_copy, "toy_gen").name, "line 1",
             "no readable log-likelihood in 'filtered_resps'", "the score is NaN")
