"""Synthetic results stores for comparison tests, written through the real store writer (no models)."""

from __future__ import annotations

import hashlib
import math
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalkit.store.records import CellRecord, MetricRecord, RunInfo, SampleRecord
from evalkit.store.schema import open_for_writing
from evalkit.store.writer import begin_run, finish_run, write_cell

VERSIONS = {"evalkit": "0.1.0", "lm_eval": "0.4.13", "transformers": None, "torch": None}


def digest(text: str) -> str:
    """A short stable hash for synthetic doc and prompt hashes."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class CellSpec:
    """A synthetic cell: per-document scores of one or more metrics."""

    task: str
    scores: dict[str, list[float]]
    model: str = "tiny-model"
    setting: str = "zero-shot"
    num_fewshot: int = 0
    config_hash: str | None = None
    higher_is_better: dict[str, bool] = field(default_factory=dict)
    predictions: list[str] | None = None
    prompt_salt: str = ""
    doc_offset: int = 0
    aggregates: dict[str, float] = field(default_factory=dict)

    def record(self, index: int) -> CellRecord:
        """The CellRecord the writer stores, with mean and standard error per metric."""
        n = len(next(iter(self.scores.values())))
        samples = [SampleRecord(
            doc_id=i, doc_hash=digest(f"{self.task}-doc-{i + self.doc_offset}"),
            prompt_hash=digest(f"{self.task}-prompt-{i + self.doc_offset}{self.prompt_salt}"),
            prompt=f"Question {i + self.doc_offset} of {self.task}?", target=f"answer {i + self.doc_offset}",
            prediction=(self.predictions[i] if self.predictions else f"pred {i} by {self.model}"),
            scores={m: v[i] for m, v in self.scores.items()}) for i in range(n)]
        metrics = [_metric(m, v, self.higher_is_better.get(m, True), self.aggregates.get(m))
                   for m, v in self.scores.items()]
        return CellRecord(
            cell_id=f"c{index}", model=self.model, model_spec={"source": self.model},
            model_fingerprint=digest(self.model), task=self.task,
            task_config_hash=self.config_hash or digest(f"config-{self.task}"), task_source="synthetic",
            setting=self.setting, num_fewshot=self.num_fewshot, metrics=metrics, samples=samples)


def _metric(name: str, values: list[Any], higher_is_better: bool, aggregate: float | None) -> MetricRecord:
    n = len(values)
    if aggregate is not None:  # a corpus-level metric (F1, MCC): its items are not numbers to average
        return MetricRecord(metric=name, value=aggregate, stderr=None, ci_low=None, ci_high=None, n=n,
                            higher_is_better=higher_is_better)
    mean = sum(values) / n
    var = sum((v - mean) ** 2 for v in values) / (n - 1) if n > 1 else 0.0
    se = math.sqrt(var / n)
    return MetricRecord(metric=name, value=mean, stderr=se, ci_low=mean - 1.96 * se, ci_high=mean + 1.96 * se,
                        n=n, higher_is_better=higher_is_better)


def add_run(conn: sqlite3.Connection, run_id: str, cells: list[CellSpec | CellRecord], *, name: str | None = None,
            created_at: str = "2025-01-01T00:00:00+00:00", versions: dict[str, Any] | None = None,
            status: str = "complete") -> str:
    """Write one run with the given cells (specs, or records edited by a test); returns its id."""
    info = RunInfo(run_id=run_id, name=name, created_at=created_at, command="evalkit run (synthetic)", seed=0,
                   versions=versions or VERSIONS, git_commit=None, host="test")
    begin_run(conn, info)
    for index, cell in enumerate(cells):
        write_cell(conn, run_id, cell if isinstance(cell, CellRecord) else cell.record(index))
    finish_run(conn, run_id, status)
    return run_id


def binary(n: int, ones: int, *, first: int = 0) -> list[float]:
    """n 0/1 scores with `ones` ones, placed from position `first` (wrapping)."""
    out = [0.0] * n
    for k in range(ones):
        out[(first + k) % n] = 1.0
    return out


def new_store(path: Path) -> sqlite3.Connection:
    """A fresh store file."""
    return open_for_writing(path)


SCRIPT_PAYLOAD = "<script>document.title='pwned'</script>"


def standard_store(path: Path) -> Path:
    """Four runs of one model on sst2 (200 docs) and rte (100 docs), created in this order:

    base:      sst2 acc 150/200, rte acc 60/100
    noise:     sst2 loses 4 docs (146..149: right -> wrong; drop 0.02, McNemar p = 0.125), rte equal
    drop:      sst2 loses 30 docs (120..149; drop 0.15, significant), its first flipped prediction
               is a <script> payload; rte gains 1 doc
    newconfig: like base but rte has another task config hash and sst2 other prompts
    """
    conn = open_for_writing(path)
    try:
        add_run(conn, "00000000-base", [CellSpec("sst2", {"acc": binary(200, 150)}),
                                        CellSpec("rte", {"acc": binary(100, 60)})],
                name="base", created_at="2025-01-01T00:00:00+00:00")
        add_run(conn, "11111111-noise", [CellSpec("sst2", {"acc": binary(200, 146)}),
                                         CellSpec("rte", {"acc": binary(100, 60)})],
                name="noise", created_at="2025-01-02T00:00:00+00:00")
        predictions = [f"label {i}" for i in range(200)]
        predictions[120] = SCRIPT_PAYLOAD
        add_run(conn, "22222222-drop", [CellSpec("sst2", {"acc": binary(200, 120)}, predictions=predictions),
                                        CellSpec("rte", {"acc": binary(100, 61)})],
                name="drop", created_at="2025-01-03T00:00:00+00:00")
        add_run(conn, "33333333-newconfig", [
            CellSpec("sst2", {"acc": binary(200, 150)}, prompt_salt="v2"),
            CellSpec("rte", {"acc": binary(100, 60)}, config_hash="another-config")],
            name="newconfig", created_at="2025-01-04T00:00:00+00:00")
    finally:
        conn.close()
    return path
