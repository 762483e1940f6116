"""Evaluating one cell: the run's loaded task, the model (fine-tuned when the setting asks),
the scoring backend, and the resulting CellRecord.

The LoadedTask is shared by every cell of the run on that task (loaded and checked once, at
the door); evaluate_task sets the cell's few-shot count and seed on it before it is used.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Any, Iterator, Mapping

from evalkit.energy import EnergyMeter
from evalkit.engine.compute import ComputeMeter, with_energy
from evalkit.errors import EvalkitError, InputError, RunFailedError
from evalkit.engine.evaluation import CellOutcome, evaluate_task
from evalkit.plan import Cell, trains_on_itself
from evalkit.provenance import evalkit_version
from evalkit.report.truncation import DETAILS_KEY as TRUNCATION_KEY
from evalkit.engine.request_cache import RequestCache, ResumableLM, request_cache_path
from evalkit.store import CellRecord
from evalkit.tasks.loading import LoadedTask
from evalkit.tasks.subset import subset_design_of


def evaluate_cell(cell: Cell, loaded: Any, task: LoadedTask, sink: Any,
                  sources: Mapping[str, LoadedTask] | None = None, run_id: str | None = None) -> CellRecord:
    """Evaluate `cell` with an already loaded model and task; returns the record to store.
    `sources` holds the tasks fine-tuned-on:TASK cells train on, by name (evalkit.engine.door);
    `run_id` places the training curves in the run's TensorBoard folder."""
    start = time.perf_counter()
    energy = EnergyMeter().start()  # fine-tuning and evaluation: details["compute"]["energy"]
    model, adapter, details = loaded, None, {}
    if cell.setting.fine_tuned:
        from evalkit.finetune import finetuned_model

        with reported_failures(cell, task, "Fine-tuning for"):
            source = training_source(cell, task, sources)
            model, adapter, details = finetuned_model(loaded, source, cell, sink, run_id=run_id,
                                                      trajectory=trains_on_itself(cell.setting, task.name))
    _seed_everything(cell.seed)
    meter = ComputeMeter()  # tokens and seconds: details["compute"] (evalkit.engine.compute)
    outcome, stats, precision, truncation = _score(cell, model, task, sink, meter)
    if stats is not None:
        details["requests"] = stats
    if truncation is not None and truncation["truncated_documents"] > 0:
        details[TRUNCATION_KEY] = truncation  # prompts cut to the model's context (evalkit.scoring.truncation)
    if precision.get("precision", "exact") != "exact":
        details["precision"] = precision  # fast-exact: documents and requests re-scored, the bound
    # Checkpoint series: the series member's point (evalkit.models.series.SeriesMember.trajectory) is
    # stored under details["trajectory"]; see with_trajectory for a member that is also fine-tuned.
    details = with_trajectory(details, series_trajectory(cell))
    details.update(limit=cell.limit, batch_size=str(cell.batch_size), dtype=model.dtype,
                   device=model.device, checkpoint=model.checkpoint)
    details.update(prompt_details(cell, generates=task.task.OUTPUT_TYPE == "generate_until"))
    if (design := subset_design_of(task.task)) is not None:
        details["subset"] = design  # a power-sized CI subset: the gate prints what it was sized for
    duration = round(time.perf_counter() - start, 3)
    details["compute"] = with_energy(meter.record(duration), energy.stop(), len(outcome.samples))
    return CellRecord(
        cell_id=cell.cell_id, model=cell.model.label, model_spec=cell.model.to_dict(),
        model_fingerprint=model.fingerprint, task=task.name, task_config_hash=task.config_hash,
        task_source=task.source, setting=cell.setting.label, num_fewshot=cell.setting.num_fewshot,
        metrics=outcome.metrics, samples=outcome.samples, duration_s=duration,
        adapter=adapter, details=details)


def prompt_details(cell: Cell, *, generates: bool) -> dict[str, Any]:
    """The cell's prompt options as stored (details["prompt"], lm-eval's names) and where its few-shot
    count came from (details["fewshot_source"]: "task default" or "setting")."""
    from evalkit.plan.prompts import FEWSHOT_FROM_SETTING, FEWSHOT_FROM_TASK

    source = FEWSHOT_FROM_TASK if cell.setting.task_default else FEWSHOT_FROM_SETTING
    return {"prompt": cell.prompt.identity(cell.seed, generates=generates), "fewshot_source": source}


def training_source(cell: Cell, task: LoadedTask, sources: Mapping[str, LoadedTask] | None) -> LoadedTask:
    """The task whose training split the cell's adapter is trained on."""
    name = cell.setting.trained_on
    if name is None:
        return task
    if not sources or name not in sources:
        raise InputError(f"Setting '{cell.setting.label}': task '{name}' was not loaded for this run.",
                         hint="Run cells through evalkit.engine.runner.execute (its checks load every task trained on).")
    return sources[name]


def series_trajectory(cell: Cell) -> dict[str, Any] | None:
    """The trajectory point of a checkpoint-series member (None for a plain model)."""
    member = getattr(cell.model, "member", None)
    return member.trajectory() if member is not None else None


def with_trajectory(details: dict[str, Any], series: dict[str, Any] | None) -> dict[str, Any]:
    """Add a series member's trajectory point. A cell that already has one is a fine-tuning step
    (--ft-eval-steps): that one wins, since its setting label carries the step, and the member's
    point is kept beside it as details["series_checkpoint"] (details["checkpoint"] is the
    weights folder), so neither collides nor is lost."""
    if series is None:
        return details
    if isinstance(details.get("trajectory"), dict):
        return {**details, "series_checkpoint": series}
    return {**details, "trajectory": series}


def _score(cell: Cell, model: Any, task: LoadedTask, sink: Any,
           meter: ComputeMeter) -> tuple[CellOutcome, dict[str, int] | None, dict[str, Any], dict[str, Any] | None]:
    """lm-eval's evaluation on evalkit's backend (through the request cache unless disabled), measuring
    the prompts cut to the model's context outside the cache (evalkit.scoring.truncation)."""
    from evalkit.engine.processes import current_processes
    from evalkit.scoring import make_backend
    from evalkit.scoring.truncation import TruncationMeter

    processes = current_processes()  # several: each computes a share of the requests (evalkit.engine.processes)
    with sink.cell(f"{cell.model.label} · {cell.task} · {cell.setting.shown_label}") as report:
        progress = _share_progress(report, processes)
        backend: Any = make_backend(model, batch_size=cell.batch_size, progress=progress, precision=cell.precision)
        backend.register_task(task.name, task.task)  # fast-exact reads the task's decisions (metrics)
        backend.chat_template_name = cell.prompt.template_name  # --apply-chat-template NAME
        scorer = backend
        backend = meter.wrap(backend)
        if processes.distributed:
            from evalkit.scoring.distributed import ShardedLM

            backend = ShardedLM(backend, processes, progress=progress)
        cache = RequestCache(request_cache_path()) if cell.request_cache else None
        try:
            if cache is not None:
                backend = ResumableLM(backend, cache, request_model_key(model, cell.precision), processes)
            with reported_failures(cell, task, "Evaluating"):
                truncation = TruncationMeter(backend, scorer)
                outcome = evaluate_task(truncation, task, num_fewshot=cell.setting.num_fewshot,
                                        limit=cell.limit, seed=cell.fewshot_seed, prompt=cell.prompt)
        finally:
            if cache is not None:
                cache.close()
    return (outcome, dict(backend.stats) if isinstance(backend, ResumableLM) else None, backend.precision_details(),
            truncation.record())


def _share_progress(report: Any, processes: Any) -> Any:
    """The backend's progress callback: the cell's own, or (several processes) over this process's share."""
    if not processes.distributed:
        return report
    from evalkit.scoring.distributed import ShareProgress

    return ShareProgress(report, processes)


@contextmanager
def reported_failures(cell: Cell, task: LoadedTask, doing: str) -> Iterator[None]:
    """A failure that is not one of evalkit's own errors becomes a RunFailedError naming the
    cell (torch, transformers and lm-eval raise many unrelated types); --debug shows the cause."""
    try:
        yield
    except EvalkitError:
        raise
    except Exception as exc:
        raise RunFailedError(
            f"{doing} task '{task.name}' ({cell.setting.label}) with model '{cell.model.label}' failed: "
            f"{type(exc).__name__}: {_first_line(exc)}",
            hint="Run again with --debug for the traceback; cells finished before this one are stored.") from exc


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else "(no message)"


def _seed_everything(seed: int) -> None:
    import random

    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def request_model_key(model: Any, precision: str = "exact") -> str:
    """What a cached request result depends on besides the request itself (a fast-exact result may
    hold a bf16 value: its own key; an exact key is what it was before --precision existed)."""
    suffix = "" if precision == "exact" else f"|{precision}"
    return f"{model.fingerprint}|{model.dtype}|evalkit-{evalkit_version()}{suffix}"
