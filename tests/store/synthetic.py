"""Synthetic runs for store tests (no model needed)."""

from __future__ import annotations

import random

from evalkit.store.records import CellRecord, MetricRecord, RunInfo, SampleRecord


def synthetic_run(run_id: str, *, n_cells: int = 3, n_docs: int = 50, seed: int = 0,
                  clusters: int = 0) -> tuple[RunInfo, list[CellRecord]]:
    """`clusters`: documents i get cluster f"g{i % clusters}" (0: no clusters)."""
    rng = random.Random(seed)
    info = RunInfo(run_id=run_id, name=f"name-{run_id}", created_at="2026-11-28T00:00:00+00:00",
                   command="test", seed=seed, versions={"evalkit": "0.1.0"}, git_commit=None, host="h")
    cells = []
    for c in range(n_cells):
        scores = [float(rng.random() < 0.6) for _ in range(n_docs)]
        samples = [SampleRecord(i, f"d{i}", f"p{i}", f"prompt {i}", "yes", "yes" if s else "no", {"acc": s},
                                cluster=f"g{i % clusters}" if clusters else None)
                   for i, s in enumerate(scores)]
        metric = MetricRecord("acc", sum(scores) / n_docs, 0.05, 0.5, 0.7, n_docs, True)
        cells.append(CellRecord(f"cell{c}", "m", {"name": "m"}, "fp", f"task{c}", "hash", "src",
                                "zero-shot", 0, [metric], samples))
    return info, cells
