"""Evaluating one cell: the task loaded fresh, the model (fine-tuned when the setting asks),
the scoring backend, and the resulting CellRecord."""

from __future__ import annotations

import time
from typing import Any

from evalkit.evaluation import check_documents, evaluate_task
from evalkit.plan import Cell
from evalkit.resume import RequestCache, ResumableLM, request_cache_path
from evalkit.store.records import CellRecord
from evalkit.tasks.discovery import TaskEntry


def evaluate_cell(cell: Cell, loaded: Any, entry: TaskEntry, sink: Any) -> CellRecord:
    """Evaluate `cell` with an already loaded model; returns the record to store."""
    from evalkit.scoring import make_backend
    from evalkit.tasks.loading import load_task

    start = time.perf_counter()
    task = load_task(entry)
    check_documents(task, cell.limit)
    model, adapter, details = loaded, None, {}
    if cell.setting.fine_tuned:
        from evalkit.finetune import finetuned_model

        model, adapter, details = finetuned_model(loaded, task, cell, sink)
    _seed_everything(cell.seed)
    with sink.cell(f"{cell.model.label} · {cell.task} · {cell.setting.label}") as report:
        backend = make_backend(model, batch_size=cell.batch_size, progress=report)
        cache = RequestCache(request_cache_path()) if cell.request_cache else None
        try:
            if cache is not None:
                backend = ResumableLM(backend, cache, request_model_key(model))
            outcome = evaluate_task(backend, task, num_fewshot=cell.setting.num_fewshot,
                                    limit=cell.limit, seed=cell.seed)
        finally:
            if cache is not None:
                cache.close()
    if isinstance(backend, ResumableLM):
        details["requests"] = dict(backend.stats)
    details.update(limit=cell.limit, batch_size=str(cell.batch_size), dtype=model.dtype,
                   device=model.device, checkpoint=model.checkpoint)
    return CellRecord(
        cell_id=cell.cell_id, model=cell.model.label, model_spec=cell.model.to_dict(),
        model_fingerprint=model.fingerprint, task=task.name, task_config_hash=task.config_hash,
        task_source=task.source, setting=cell.setting.label, num_fewshot=cell.setting.num_fewshot,
        metrics=outcome.metrics, samples=outcome.samples, duration_s=round(time.perf_counter() - start, 3),
        adapter=adapter, details=details)


def _seed_everything(seed: int) -> None:
    import random

    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def request_model_key(model: Any) -> str:
    """What a cached request result depends on besides the request itself."""
    from evalkit import __version__

    return f"{model.fingerprint}|{model.dtype}|evalkit-{__version__}"
