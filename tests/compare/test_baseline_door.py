"""`load_baseline` checks what the comparison relies on when the file is loaded (issue 9, "check at
the door"): each fault is a BaselineError naming the file, the cell and the document, raised by the
loader itself rather than later by the comparison."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pytest

from evalkit.errors import BaselineError
from evalkit.store.baseline import load_baseline
from evalkit.store.export import export_run
from evalkit.store.schema import open_for_reading

BASE = "00000000-base"
SST2 = "tiny-model / sst2 / zero-shot"


def _exported(store: Path, path: Path) -> Path:
    conn = open_for_reading(store)
    try:
        export_run(conn, BASE, path, path.suffix[1:])
    finally:
        conn.close()
    return path


def _edited(store: Path, tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    path = _exported(store, tmp_path / "base.json")
    doc = json.loads(path.read_text(encoding="utf-8"))
    edit(doc)
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _first_sst2_sample(doc: dict[str, Any]) -> dict[str, Any]:
    sst2 = next(c["cell_id"] for c in doc["cells"] if c["task"] == "sst2")
    return next(s for s in doc["samples"] if s["cell_id"] == sst2)


def _set_direction(value: object) -> Callable[[dict[str, Any]], None]:
    def edit(doc: dict[str, Any]) -> None:
        next(m for m in doc["metrics"] if m["task"] == "sst2")["higher_is_better"] = value
    return edit


@pytest.mark.parametrize("value", ["false", 2, 0.5])
def test_a_direction_that_is_not_true_or_false_is_refused_at_load(store: Path, tmp_path: Path, value: object) -> None:
    path = _edited(store, tmp_path, _set_direction(value))
    with pytest.raises(BaselineError) as info:
        load_baseline(path)
    assert info.value.message == (f"Baseline file '{path}': metric 'acc' of {SST2} has higher_is_better = "
                                  f"{value!r}, not true or false.")


@pytest.mark.parametrize("value", [True, 0])
def test_a_boolean_or_0_1_direction_loads_as_an_integer(store: Path, tmp_path: Path, value: object) -> None:
    baseline = load_baseline(_edited(store, tmp_path, _set_direction(value)))
    try:
        stored = baseline.conn.execute("SELECT higher_is_better, typeof(higher_is_better) FROM metrics "
                                       "WHERE task = 'sst2'").fetchone()
    finally:
        baseline.conn.close()
    assert stored == (int(value), "integer")


@pytest.mark.parametrize("value", ["three", 3.5, True])
def test_a_doc_id_that_is_not_an_integer_is_refused_at_load(store: Path, tmp_path: Path, value: object) -> None:
    path = _edited(store, tmp_path, lambda doc: _first_sst2_sample(doc).__setitem__("doc_id", value))
    with pytest.raises(BaselineError, match=rf"^Baseline file '{path}': a document of {SST2} cannot be read: "
                                            rf"doc_id {value!r} is not an integer\.$"):
        load_baseline(path)


def test_scores_text_that_is_not_json_is_refused_at_load(store: Path, tmp_path: Path) -> None:
    path = _exported(store, tmp_path / "base.csv")
    samples = tmp_path / "base.samples.csv"
    samples.write_text(samples.read_text(encoding="utf-8").replace('"{""acc"": 1.0}"', '"{""acc"": 1.0"', 1),
                       encoding="utf-8")
    with pytest.raises(BaselineError, match=rf"^Baseline file '{path}': a document of {SST2} cannot be read: "
                                            r"doc_id 0 has scores that are not valid JSON"):
        load_baseline(path)


def test_a_csv_doc_id_is_read_as_an_integer(store: Path, tmp_path: Path) -> None:
    baseline = load_baseline(_exported(store, tmp_path / "base.csv"))
    try:
        kinds = {r[0] for r in baseline.conn.execute("SELECT DISTINCT typeof(doc_id) FROM samples")}
    finally:
        baseline.conn.close()
    assert kinds == {"integer"}


def test_a_duplicated_document_is_refused_naming_it(store: Path, tmp_path: Path) -> None:
    path = _edited(store, tmp_path, lambda doc: doc["samples"].append(dict(_first_sst2_sample(doc))))
    with pytest.raises(BaselineError, match=rf"doc_id 0 of {SST2} appears more than once"):  # was: UNIQUE constraint
        load_baseline(path)


def test_a_cell_missing_some_of_its_documents_is_refused(store: Path, tmp_path: Path) -> None:
    path = _edited(store, tmp_path, lambda doc: doc["samples"].remove(_first_sst2_sample(doc)))
    with pytest.raises(BaselineError, match=rf"cell {SST2} records 200 documents but the file holds 199; "
                                            "it was truncated or edited"):
        load_baseline(path)


@pytest.mark.parametrize("emptied", ["cells", "metrics"])
def test_a_baseline_without_results_is_refused(store: Path, tmp_path: Path, emptied: str) -> None:
    def edit(doc: dict[str, Any]) -> None:
        doc[emptied] = []
        if emptied == "cells":
            doc["metrics"], doc["samples"] = [], []
    path = _edited(store, tmp_path, edit)
    with pytest.raises(BaselineError, match=rf"holds no results \(its list of {emptied} is empty\)"):
        load_baseline(path)


def test_a_directory_is_named_as_one(tmp_path: Path) -> None:
    folder = tmp_path / "baseline.json"
    folder.mkdir()
    with pytest.raises(BaselineError, match=r"is a directory, not an exported results file"):  # was "does not exist"
        load_baseline(folder)


def test_a_json_baseline_with_a_byte_order_mark_loads(store: Path, tmp_path: Path) -> None:
    path = _exported(store, tmp_path / "base.json")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())  # as some Windows editors save it
    baseline = load_baseline(path)
    baseline.conn.close()
    assert baseline.run_id == BASE


@pytest.mark.parametrize(("edit", "fragment"), [
    (lambda doc: _first_sst2_sample(doc).__setitem__("doc_id", 10 ** 30), "too large"),
    (lambda doc: doc["metrics"][0].__setitem__("n", 10 ** 40), "too large"),
])
def test_an_integer_sqlite_cannot_hold_is_a_baseline_error(store: Path, tmp_path: Path, edit, fragment: str) -> None:
    path = _edited(store, tmp_path, edit)
    with pytest.raises(BaselineError, match=fragment):  # was an OverflowError
        load_baseline(path)


def test_json_nested_too_deeply_is_a_baseline_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(BaselineError, match="nests JSON too deeply"):  # was a RecursionError
        load_baseline(path)


@pytest.mark.parametrize(("value", "fragment"), [(float("nan"), "lacks higher_is_better"),
                                                 (0.5, "holds 0.5, not a whole number")])
def test_a_parquet_direction_that_is_nan_or_fractional_is_refused(store: Path, tmp_path: Path, value: float,
                                                                  fragment: str) -> None:
    import pandas as pd

    path = _exported(store, tmp_path / "base.parquet")
    metrics = pd.read_parquet(path)
    metrics["higher_is_better"] = metrics["higher_is_better"].astype(float)
    metrics.loc[0, "higher_is_better"] = value  # was 'Unexpected ValueError' (NaN) or silently 0 (0.5)
    metrics.to_parquet(path)
    with pytest.raises(BaselineError, match=fragment):
        load_baseline(path)


@pytest.mark.parametrize("which", ["metrics", "samples"])
def test_a_tidy_baseline_that_mixes_runs_is_refused(store: Path, tmp_path: Path, which: str) -> None:
    import pandas as pd

    path = _exported(store, tmp_path / "base.csv")
    target = path if which == "metrics" else path.with_name("base.samples.csv")
    frame = pd.read_csv(target, dtype=str, keep_default_na=False)
    frame.loc[len(frame) - 1, "run_id"] = "other-run"  # was merged silently into the first row's run
    frame.to_csv(target, index=False)
    with pytest.raises(BaselineError, match="mixes runs: rows of 00000000-base and of other-run"):
        load_baseline(path)


def test_a_tidy_baseline_missing_a_tasks_metric_rows_names_the_cell_not_a_foreign_key(store: Path,
                                                                                        tmp_path: Path) -> None:
    import pandas as pd

    path = _exported(store, tmp_path / "base.csv")
    metrics = pd.read_csv(path, dtype=str, keep_default_na=False)
    sst2 = metrics[metrics.task == "sst2"].cell_id.iloc[0]
    metrics[metrics.task != "sst2"].to_csv(path, index=False)  # was: 'FOREIGN KEY constraint failed'
    with pytest.raises(BaselineError) as info:
        load_baseline(path)
    assert info.value.message.startswith(f"Baseline file '{path.with_name('base.samples.csv')}' holds 200 document(s) "
                                         f"of cell '{sst2}', but '{path}' has no metric rows for it")
    assert "FOREIGN KEY" not in info.value.message


def test_a_json_metric_of_a_cell_the_file_lacks_names_its_task(store: Path, tmp_path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        next(m for m in doc["metrics"] if m["task"] == "sst2")["cell_id"] = "gone"
    path = _edited(store, tmp_path, edit)
    with pytest.raises(BaselineError, match="metric 'acc' of task 'sst2' belongs to cell 'gone', which its list of "
                                            "cells lacks"):
        load_baseline(path)


def test_a_mean_metric_that_contradicts_its_documents_is_refused_at_load(store: Path, tmp_path: Path) -> None:
    """sst2's acc is 150/200 = 0.75 by its documents; a hand-edited 0.99 is not what was measured."""
    def edit(doc: dict[str, Any]) -> None:
        next(m for m in doc["metrics"] if m["task"] == "sst2" and m["metric"] == "acc")["value"] = 0.99

    path = _edited(store, tmp_path, edit)
    with pytest.raises(BaselineError) as info:
        load_baseline(path)
    assert info.value.message == (f"Baseline file '{path}': metric 'acc' of {SST2} contradicts its documents: the "
                                  "stored value 0.99 is not 0.75, the mean of its 200 documents' scores; it was edited.")


def test_a_mean_metric_within_rounding_of_its_documents_loads(store: Path, tmp_path: Path) -> None:
    def edit(doc: dict[str, Any]) -> None:
        next(m for m in doc["metrics"] if m["task"] == "sst2" and m["metric"] == "acc")["value"] = 0.75 * (1 + 1e-9)

    load_baseline(_edited(store, tmp_path, edit)).conn.close()
