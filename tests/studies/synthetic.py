"""Synthetic study runs (checkpoint series, fine-tuning steps, transfer matrices, an LM task) written
through the real store writer, following the data contract of evalkit.studies."""

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
LM_METRICS = ("word_perplexity", "byte_perplexity", "bits_per_byte")


def digest(text: str) -> str:
    """A short stable hash for synthetic doc and prompt hashes."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def binary(n: int, ones: list[int]) -> list[float]:
    """n 0/1 scores with ones at the given positions."""
    return [1.0 if i in set(ones) else 0.0 for i in range(n)]


@dataclass
class Cell:
    """A synthetic cell: per-document scores, corpus aggregates, optional trajectory details."""

    task: str
    scores: dict[str, list[Any]]
    model: str = "tiny"
    setting: str = "zero-shot"
    higher_is_better: dict[str, bool] = field(default_factory=dict)
    corpus: dict[str, float] = field(default_factory=dict)  # corpus-level metrics (no per-doc scores)
    trajectory: dict[str, Any] | None = None
    doc_ids: list[int] | None = None  # which documents of the task (default 0..n-1)

    def record(self, index: int) -> CellRecord:
        """The CellRecord the writer stores: mean metrics from the scores, corpus metrics as given."""
        n = len(next(iter(self.scores.values())))
        ids = self.doc_ids or list(range(n))
        samples = [SampleRecord(doc_id=i, doc_hash=digest(f"{self.task}-doc-{d}"), prompt_hash=digest(f"p{d}"),
                                prompt=f"q {d}", target="t", prediction="p",
                                scores={m: v[i] for m, v in self.scores.items()})
                   for i, d in enumerate(ids)]
        metrics = [_mean_metric(m, v, self.higher_is_better.get(m, True)) for m, v in self.scores.items()
                   if m != "loglikelihood"]
        metrics += [MetricRecord(m, v, None, None, None, n, False) for m, v in self.corpus.items()]
        details = {"trajectory": self.trajectory} if self.trajectory else {}
        return CellRecord(cell_id=f"c{index}", model=self.model, model_spec={"source": self.model},
                          model_fingerprint=digest(self.model), task=self.task,
                          task_config_hash=digest(self.task), task_source="synthetic", setting=self.setting,
                          num_fewshot=0, metrics=metrics, samples=samples, details=details)


def _mean_metric(name: str, values: list[Any], higher_is_better: bool) -> MetricRecord:
    numbers = [float(v) for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
    n = len(numbers)
    mean = sum(numbers) / n
    se = math.sqrt(sum((v - mean) ** 2 for v in numbers) / (n - 1) / n) if n > 1 else 0.0
    return MetricRecord(name, mean, se, mean - 1.96 * se, mean + 1.96 * se, len(values), higher_is_better)


def add_run(conn: sqlite3.Connection, run_id: str, cells: list[Cell], *, name: str | None = None,
            created_at: str = "2025-01-01T00:00:00+00:00") -> str:
    """Write one complete run with the given cells; returns its id."""
    begin_run(conn, RunInfo(run_id=run_id, name=name, created_at=created_at, command="evalkit run (synthetic)",
                            seed=0, versions=VERSIONS, git_commit=None, host="test"))
    for index, cell in enumerate(cells):
        write_cell(conn, run_id, cell.record(index))
    finish_run(conn, run_id, "complete")
    return run_id


def checkpoint(series: str, step: int, **extra: Any) -> dict[str, Any]:
    """Trajectory details of a checkpoint cell."""
    return {"series": series, "step": step, "epoch": extra.get("epoch"), "tokens_seen": extra.get("tokens_seen"),
            "flos": None, "kind": "checkpoint"}


def ft_step(series: str, step: int) -> dict[str, Any]:
    """Trajectory details of a fine-tuning evaluation."""
    return {"series": series, "step": step, "epoch": step / 100, "tokens_seen": step * 1000, "flos": None,
            "kind": "fine-tuning"}


# Checkpoint series 'out' on sst2 (n=40), steps 100, 200, 300 (written out of order):
#   step 100: docs 0..19 right (0.50); step 200: docs 0..35 right (0.90); step 300: docs 0..21 right (0.55).
SST2_RIGHT = {100: list(range(20)), 200: list(range(36)), 300: list(range(22))}
# The LM task 'wiki' (n=6) on the same checkpoints: per-document log-likelihoods (nats).
WIKI_LL = {100: [-50.0, -40.0, -60.0, -30.0, -45.0, -55.0],
           200: [-48.0, -39.0, -57.0, -30.0, -44.0, -52.0],
           300: [-49.0, -41.0, -58.0, -29.5, -44.5, -53.0]}
WIKI_BPB = {100: 1.30, 200: 1.20, 300: 1.25}


def checkpoint_cells() -> list[Cell]:
    """The 'out' checkpoint series on sst2 (0/1 acc) and wiki (LM), steps written 300, 100, 200."""
    cells = []
    for step in (300, 100, 200):
        model = f"out/checkpoint-{step}"
        cells.append(Cell("sst2", {"acc": binary(40, SST2_RIGHT[step])}, model=model,
                          trajectory=checkpoint("out", step, epoch=step / 300, tokens_seen=step * 512)))
        corpus = {"word_perplexity": 30.0 + step / 100, "byte_perplexity": 2.0, "bits_per_byte": WIKI_BPB[step]}
        cells.append(Cell("wiki", {"loglikelihood": WIKI_LL[step]}, model=model, corpus=corpus,
                          trajectory=checkpoint("out", step)))
    return cells


# Fine-tuning on rte (n=10): zero-shot 3 right; step 50: 6; step 100: 9; final (150): 8.
RTE_RIGHT = {0: [0, 1, 2], 50: list(range(6)), 100: list(range(9)), 150: list(range(8))}


def finetune_cells() -> list[Cell]:
    """Zero-shot rte plus fine-tuned@step:50, @step:100 and the final fine-tuned cell (step 150)."""
    return [Cell("rte", {"acc": binary(10, RTE_RIGHT[0])}),
            Cell("rte", {"acc": binary(10, RTE_RIGHT[50])}, setting="fine-tuned@step:50", trajectory=ft_step("tiny", 50)),
            Cell("rte", {"acc": binary(10, RTE_RIGHT[100])}, setting="fine-tuned@step:100",
                 trajectory=ft_step("tiny", 100)),
            Cell("rte", {"acc": binary(10, RTE_RIGHT[150])}, setting="fine-tuned", trajectory=ft_step("tiny", 150))]


# Transfer matrix over sst2 (n=20), rte (n=30) and the LM task wiki (n=6), model 'tiny':
ZS = {"sst2": list(range(10)), "rte": list(range(20))}
TUNED = {("sst2", "sst2"): list(range(18)), ("sst2", "rte"): list(range(8)),   # in-task gain, forgetting on rte
         ("rte", "rte"): list(range(28)), ("rte", "sst2"): list(range(12))}   # in-task gain, small transfer
WIKI_ZS = [-50.0, -40.0, -60.0, -30.0, -45.0, -55.0]
WIKI_TUNED = {"sst2": [-52.0, -41.0, -63.0, -31.0, -47.0, -58.0], "rte": [-50.5, -39.0, -60.0, -30.5, -44.0, -55.5]}
N = {"sst2": 20, "rte": 30}


def transfer_cells(*, diagonal_setting: str = "fine-tuned") -> list[Cell]:
    """Zero-shot of every task, 'fine-tuned' (or fine-tuned-on:A) on A, fine-tuned-on:A on the others."""
    cells = [Cell(t, {"acc": binary(N[t], ZS[t])}) for t in ("sst2", "rte")]
    cells.append(Cell("wiki", {"loglikelihood": WIKI_ZS}, corpus={"bits_per_byte": 1.30, "word_perplexity": 30.0}))
    for source in ("sst2", "rte"):
        for task in ("sst2", "rte"):
            setting = diagonal_setting if task == source and diagonal_setting == "fine-tuned" \
                else f"fine-tuned-on:{source}"
            cells.append(Cell(task, {"acc": binary(N[task], TUNED[(source, task)])}, setting=setting))
        cells.append(Cell("wiki", {"loglikelihood": WIKI_TUNED[source]}, setting=f"fine-tuned-on:{source}",
                          corpus={"bits_per_byte": 1.35 if source == "sst2" else 1.29, "word_perplexity": 31.0}))
    return cells


def study_store(path: Path) -> Path:
    """Runs: 'ckpt' (checkpoint series), 'ft' (fine-tuning trajectory), 'matrix' (transfer), 'plain'
    (zero-shot only), in that order."""
    conn = open_for_writing(path)
    try:
        add_run(conn, "aaaa0000-ckpt", checkpoint_cells(), name="ckpt", created_at="2025-01-01T00:00:00+00:00")
        add_run(conn, "bbbb0000-ft", finetune_cells(), name="ft", created_at="2025-01-02T00:00:00+00:00")
        add_run(conn, "cccc0000-matrix", transfer_cells(), name="matrix", created_at="2025-01-03T00:00:00+00:00")
        add_run(conn, "dddd0000-plain", [Cell("sst2", {"acc": binary(20, ZS["sst2"])})], name="plain",
                created_at="2025-01-04T00:00:00+00:00")
    finally:
        conn.close()
    return path
