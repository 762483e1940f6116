"""`metadata: {cluster: FIELD}` (issue 19): lm-eval's TaskConfig takes the key; validate and run check at
the door that every evaluation document has the field; a run stores str(doc[FIELD]) with each sample."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.store.reader import samples_frame
from evalkit.store.schema import open_for_reading
from tests.tasks.conftest import WriteTask

CLUSTERED = "metadata:\n  cluster: topic\n  version: 1.0\n"
ROWS = ('{"text": "good", "label": 1, "topic": "films"}\n{"text": "bad", "label": 0, "topic": 7}\n'
        '{"text": "fine", "label": 1, "topic": "films"}\n')


def _clusters(store: Path) -> list[str | None]:
    conn = open_for_reading(store)
    try:
        run_id = conn.execute("SELECT run_id FROM runs").fetchone()[0]
        return samples_frame(conn, run_id).cluster.tolist()
    finally:
        conn.close()


def test_a_task_naming_its_cluster_field_validates(evalkit_cli, write_task: WriteTask) -> None:
    result = evalkit_cli("tasks", "validate", write_task(extra=CLUSTERED, data=ROWS))
    assert result.exit_code == 0 and "3 evaluation documents" in result.output, result.output


def test_run_stores_each_documents_cluster_as_text(evalkit_cli, write_task: WriteTask, tiny_model_dir: Path,
                                                   tmp_path: Path) -> None:
    store = tmp_path / "r.db"
    result = evalkit_cli("run", "-m", tiny_model_dir, "-t", write_task(extra=CLUSTERED, data=ROWS), "--store", store)
    assert result.exit_code == 0, result.output
    assert _clusters(store) == ["films", "7", "films"]


def test_a_task_without_the_key_stores_no_cluster(evalkit_cli, write_task: WriteTask, tiny_model_dir: Path,
                                                  tmp_path: Path) -> None:
    store = tmp_path / "r.db"
    result = evalkit_cli("run", "-m", tiny_model_dir, "-t", write_task(data=ROWS), "--store", store)
    assert result.exit_code == 0, result.output
    assert _clusters(store) == [None, None, None]


@pytest.mark.parametrize(("rows", "needle"), [
    ('{"text": "good", "label": 1, "topic": "a"}\n{"text": "bad", "label": 0}\n',
     "document 1: key 'metadata.cluster' names the document field 'topic', which has no value (null, empty or absent)"),
    ('{"text": "good", "label": 1, "topic": null}\n{"text": "bad", "label": 0, "topic": "a"}\n',
     "document 0: key 'metadata.cluster' names the document field 'topic', which has no value (null, empty or absent)"),
    ('{"text": "good", "label": 1, "topic": "a"}\n{"text": "bad", "label": 0, "topic": ""}\n',
     "document 1: key 'metadata.cluster' names the document field 'topic', which has no value (null, empty or absent)"),
    ('{"text": "good", "label": 1}\n{"text": "bad", "label": 0}\n',  # no document has it: not in the data at all
     "document 0: key 'metadata.cluster' names the document field 'topic', which this document lacks "
     "(its fields: text, label)"),
])
def test_validate_and_run_refuse_a_document_without_its_cluster(rows: str, needle: str, evalkit_cli,
                                                                write_task: WriteTask, tiny_model_dir: Path,
                                                                tmp_path: Path, monkeypatch) -> None:
    import evalkit.models.loading as loading

    monkeypatch.setattr(loading, "load_model", lambda spec: pytest.fail("a model was loaded"))
    path = write_task(extra=CLUSTERED, data=rows)
    validated = evalkit_cli("tasks", "validate", path)
    assert validated.exit_code == 2 and needle in validated.output, validated.output
    store = tmp_path / "r.db"
    run = evalkit_cli("run", "-m", tiny_model_dir, "-t", path, "--store", store)
    assert run.exit_code == 2 and needle in " ".join(run.output.split()), run.output
    assert not store.exists()
    assert "Traceback" not in validated.output + run.output


@pytest.mark.parametrize("value", ["5", "''", "[subject]"])
def test_a_cluster_key_that_names_no_field_is_refused(value: str, evalkit_cli, write_task: WriteTask) -> None:
    result = evalkit_cli("tasks", "validate", write_task(extra=f"metadata:\n  cluster: {value}\n", data=ROWS))
    assert result.exit_code == 2, result.output
    assert "key 'metadata.cluster' must name a document field (e.g. `cluster: subject`)" in result.output


def test_a_run_of_a_ci_subset_task_keeps_its_design_in_the_cell(evalkit_cli, write_task: WriteTask,
                                                                tiny_model_dir: Path, tmp_path: Path) -> None:
    import json

    subset = ("metadata:\n  evalkit_subset: {source_task: sst2, target_drop: 0.05, power: 0.8, alpha: 0.05, "
              "discordance: 0.2, n: 3, seed: 1, tolerance: 0.0}\n")
    store = tmp_path / "r.db"
    result = evalkit_cli("run", "-m", tiny_model_dir, "-t", write_task(extra=subset, data=ROWS), "--store", store)
    assert result.exit_code == 0, result.output
    conn = open_for_reading(store)
    try:
        (details,) = conn.execute("SELECT details_json FROM cells").fetchone()
    finally:
        conn.close()
    assert json.loads(details)["subset"]["target_drop"] == 0.05


def test_a_clustered_cells_interval_is_cluster_robust(evalkit_cli, write_task: WriteTask, tiny_model_dir: Path,
                                                      tmp_path: Path) -> None:
    from evalkit.stats.intervals import clustered_mean_interval

    store = tmp_path / "r.db"
    assert evalkit_cli("run", "-m", tiny_model_dir, "-t", write_task(extra=CLUSTERED, data=ROWS),
                       "--store", store).exit_code == 0
    conn = open_for_reading(store)
    try:
        run_id = conn.execute("SELECT run_id FROM runs").fetchone()[0]
        low, high = conn.execute("SELECT ci_low, ci_high FROM metrics WHERE metric LIKE 'acc%'").fetchone()
        scores = [s["acc,none"] if "acc,none" in s else s["acc"] for s in samples_frame(conn, run_id).scores]
    finally:
        conn.close()
    expected = clustered_mean_interval(scores, ["films", "7", "films"])
    assert (low, high) == pytest.approx((expected.low, expected.high))
