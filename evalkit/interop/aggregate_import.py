"""`evalkit results import` of aggregate-only lm-eval results: one import is one run holding one
checkpoint series (a cell per checkpoint and task, its step under details["trajectory"], as an
evalkit checkpoint series stores it), so `evalkit trajectory` and `evalkit forecast` read it.

The cells keep lm-eval's aggregates with their standard errors and no documents; the run config
says `per_document_scores: false`, which paired comparisons and the gate refuse by name
(evalkit.compare.sources.refuse_aggregate_only).
"""

from __future__ import annotations

import hashlib
import platform
import secrets
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from evalkit.interop.lm_eval_aggregate import AggregateCheckpoint, read_series
from evalkit.interop.lm_eval_import import ImportedRun, model_fingerprint
from evalkit.store import CellRecord, MetricRecord, RunInfo

SOURCE = "lm-eval aggregate import"
PER_DOCUMENT_KEY = "per_document_scores"
Z95 = 1.96
# lm-eval 0.3-era metric names outside evalkit's metric table, lower is better there (lambada's `ppl`,
# CrowS-Pairs' `likelihood_difference`); every other name's direction comes from evalkit.metric_semantics.
_OLD_LOWER_IS_BETTER = ("ppl", "likelihood_difference")


def import_aggregate(paths: Sequence[Path], store: Any, *, name: str | None = None,
                     step: int | None = None) -> ImportedRun:
    """Read and check every file, then store the series as one complete run."""
    from evalkit.interop.lm_eval_import import _refuse_stored
    from evalkit.store import check_run_name
    from evalkit.store import open_for_writing
    from evalkit.store import write_complete_runs

    run = build_series_run(read_series(paths, step=step), name=name)
    conn = open_for_writing(store)
    try:
        check_run_name(conn, name)
        _refuse_stored(conn, run)
        write_complete_runs(conn, [(run.info, run.cells)])
    finally:
        conn.close()
    return run


def series_hash(checkpoints: list[AggregateCheckpoint]) -> str:
    digest = hashlib.sha256()
    for checkpoint in checkpoints:
        digest.update(hashlib.sha256(checkpoint.path.read_bytes()).digest())
    return digest.hexdigest()


def build_series_run(checkpoints: list[AggregateCheckpoint], *, name: str | None = None) -> ImportedRun:
    """The RunInfo and cells of one series (nothing is written)."""
    series = checkpoints[0].model
    cells = [_cell(series, c, task) for c in checkpoints for task in dict.fromkeys(m.task for m in c.metrics)]
    config = {"source": SOURCE, "files": [str(c.path) for c in checkpoints],
              "content_sha256": series_hash(checkpoints), PER_DOCUMENT_KEY: False, "series": series,
              "steps": [c.step for c in checkpoints]}
    now = datetime.now(timezone.utc)
    info = RunInfo(run_id=f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}", name=name,
                   created_at=now.isoformat(timespec="seconds"), command=" ".join(sys.argv), seed=0,
                   versions=_versions(), git_commit=None, host=platform.node(), config=config)
    source = Path(checkpoints[0].path).parent if len(checkpoints) > 1 else checkpoints[0].path
    return ImportedRun(info, cells, source, [])


def _cell(series: str, checkpoint: AggregateCheckpoint, task: str) -> CellRecord:
    from evalkit.plan.settings import Setting

    config = checkpoint.data.get("config") if isinstance(checkpoint.data.get("config"), dict) else {}
    trajectory = {"series": series, "step": checkpoint.step, "epoch": None, "tokens_seen": None, "flos": None,
                  "kind": "checkpoint"}
    details = {"source": SOURCE, "results_file": str(checkpoint.path), PER_DOCUMENT_KEY: False,
               "task_version": (checkpoint.data.get("versions") or {}).get(task), "trajectory": trajectory}
    model = f"{series}@step{checkpoint.step}"
    spec = {"name": model, "kind": "lm-eval", "location": series, "revision": f"step{checkpoint.step}",
            "lm_eval_model": config.get("model"), "model_args": config.get("model_args")}
    task_hash = "lm-eval:" + hashlib.sha256(f"{task}|{(checkpoint.data.get('versions') or {}).get(task)}"
                                            .encode()).hexdigest()[:16]
    cell_id = hashlib.sha256(f"{checkpoint.path}|{task}".encode()).hexdigest()[:12]
    metrics = [_metric(m.metric, m.value, m.stderr) for m in checkpoint.metrics if m.task == task]
    return CellRecord(cell_id=cell_id, model=model, model_spec=spec, model_fingerprint=model_fingerprint(
        {"config": {**config, "model_revision": f"step{checkpoint.step}"}}), task=task, task_config_hash=task_hash,
        task_source="lm-eval", setting=Setting(num_fewshot=checkpoint.num_fewshot).label,
        num_fewshot=checkpoint.num_fewshot, metrics=metrics, samples=[], details=details)


def _metric(metric: str, value: float, stderr: float | None) -> MetricRecord:
    low, high = (value - Z95 * stderr, value + Z95 * stderr) if stderr is not None else (None, None)
    return MetricRecord(metric, value, stderr, low, high, 0, higher_is_better(metric))


def higher_is_better(metric: str) -> bool:
    """The direction of an aggregate-only metric: evalkit's metric table, else lm-eval 0.3's, else higher."""
    from evalkit.metric_semantics import semantics

    known = semantics(metric, per_document_numbers=False).higher_is_better
    return known if known is not None else metric.split(",")[0] not in _OLD_LOWER_IS_BETTER


def _versions() -> dict[str, str | None]:
    from evalkit.provenance import evalkit_version

    return {"evalkit": evalkit_version(), "lm_eval": None, "transformers": None, "torch": None}
