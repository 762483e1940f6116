"""`results export --format hf-eval-results`: Hugging Face .eval_results/<task>.yaml entries for the
cells whose task has a hub dataset id (a built-in task's documented mapping, or a hub dataset_path)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from evalkit.store.records import CellRecord, MetricRecord, RunInfo, SampleRecord

RUN = "20261201-000000-hf0001"


def _cell(cell_id: str, task: str, source: str, value: float) -> CellRecord:
    samples = [SampleRecord(i, f"d{i}", f"p{i}", f"prompt {i}", "ref", "pred", {"acc": float(i % 2)}) for i in range(4)]
    metrics = [MetricRecord("acc", value, 0.1, None, None, 4, True), MetricRecord("acc_norm", 0.25, None, None, None, 4, True)]
    return CellRecord(cell_id, "tiny", {"name": "tiny", "kind": "local", "location": "/m"}, "fp", task, "hash", source,
                      "zero-shot", 0, metrics, samples)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    from evalkit.store.schema import open_for_writing
    from evalkit.store.writer import begin_run, finish_run, write_cell

    db = tmp_path / "hf.db"
    conn = open_for_writing(db)
    try:
        begin_run(conn, RunInfo(RUN, "hf", "2026-12-01T10:00:00+00:00", "test", 0, {"evalkit": "0.1"}, None, "h"))
        write_cell(conn, RUN, _cell("c1", "sst2", "builtin", 0.75))
        write_cell(conn, RUN, _cell("c2", "my_local_task", "include-path", 0.5))
        finish_run(conn, RUN, "complete")
    finally:
        conn.close()
    return db


def test_hub_dataset_id_from_yaml_or_builtin_mapping() -> None:
    from evalkit.interop.hf_eval_results import hub_dataset

    assert hub_dataset("sst2", "builtin", {"dataset_path": "json"}) == "nyu-mll/glue"
    assert hub_dataset("mine", "include-path", {"dataset_path": "org/bench"}) == "org/bench"
    assert hub_dataset("mine", "include-path", {"dataset_path": "json"}) is None
    assert hub_dataset("sst2", "include-path", {"dataset_path": "json"}) is None  # a user task named like a built-in


def test_export_writes_entries_for_hub_tasks_only(store: Path, tmp_path: Path, evalkit_cli) -> None:
    out = tmp_path / "eval_results"
    result = evalkit_cli("results", "export", RUN, "--format", "hf-eval-results", "-o", out, "--store", store)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["sst2.yaml"]
    assert "Left out my_local_task" in result.output
    entries = yaml.safe_load((out / "sst2.yaml").read_text(encoding="utf-8"))
    assert entries == [{"dataset": {"id": "nyu-mll/glue", "task_id": "sst2"}, "value": 0.75, "date": "2026-12-01",
                        "source": {"name": "evalkit run hf (tiny)"},
                        "notes": "acc, zero-shot, 4 documents, model tiny"}]
    again = evalkit_cli("results", "export", RUN, "--format", "hf-eval-results", "-o", out, "--store", store)
    assert again.exit_code == 2 and "--force" in again.output
