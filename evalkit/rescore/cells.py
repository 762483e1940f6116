"""Which cells a rescore covers (checked at the door) and the rescore of one cell."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from evalkit.errors import InputError
from evalkit.rescore.options import LOGLIKELIHOOD_METRICS, RescoreOptions, changes, overridden
from evalkit.store import CellRecord


# What the source cell's details say about how its outputs were produced: still true of the rescore.
_KEPT_DETAILS = ("limit", "prompt", "fewshot_source", "dtype", "precision", "device", "checkpoint", "batch_size")


@dataclass(frozen=True)
class PlannedCell:
    cell: Any  # the source cell's row (cells table)
    entry: Any  # the task entry, with any --filter / --metric in place
    outputs: dict[int, list[Any]]  # stored outputs by document id


def plan_cells(conn: Any, run_id: str, options: RescoreOptions) -> list[PlannedCell]:
    """The run's cells to rescore, each with its task and stored outputs; InputError (exit 2) for a run
    or task without outputs, a task not in the run, or a generation filter / metric on a cell without
    generated text."""
    from evalkit.store import cells_frame, samples_frame
    from evalkit.tasks.discovery import TaskRegistry

    registry = TaskRegistry.discover()
    chosen = {(e := registry.resolve(ref)).name: e for ref in options.tasks}
    cells = cells_frame(conn, [run_id])
    missing = sorted(set(chosen) - set(cells.task))
    if missing:
        raise InputError(f"Run {run_id} has no cell of task(s) {', '.join(missing)}.",
                         hint=f"Its tasks: {', '.join(sorted(set(cells.task)))}.")
    planned = []
    for _, cell in cells.iterrows():
        if chosen and cell.task not in chosen:
            continue
        entry = chosen.get(cell.task) or registry.index.get(cell.task)
        if entry is None:
            raise InputError(f"Task '{cell.task}' of run {run_id} is not among the tasks found now.",
                             hint="Pass its YAML with --task PATH.")
        samples = samples_frame(conn, run_id, cell.cell_id)
        outputs = {int(d): o for d, o in zip(samples.doc_id, samples.outputs) if o}
        if samples.empty or len(outputs) < len(samples):
            raise InputError(f"Run {run_id}, task '{cell.task}': {len(samples) - len(outputs)} of {len(samples)} "
                             "documents have no stored model outputs, so there is nothing to rescore.",
                             hint="Rescore a run evaluated by evalkit (imports without outputs cannot be).")
        _check_output_type(entry, cell, options)
        planned.append(PlannedCell(cell, overridden(entry, options), outputs))
    if not planned:
        raise InputError(f"Run {run_id} has no cells to rescore.", hint="Check the run reference and --task.")
    return planned


def _check_output_type(entry: Any, cell: Any, options: RescoreOptions) -> None:
    output_type = str(entry.config.get("output_type", "generate_until"))
    if output_type == "generate_until":
        return
    if options.filters or (options.metric and options.metric not in LOGLIKELIHOOD_METRICS):
        what = f"--filter {' '.join(options.filters)}" if options.filters else f"--metric {options.metric}"
        raise InputError(f"Task '{cell.task}' is {output_type}: its stored outputs are log-likelihoods, not "
                         f"generated text, so {what} cannot score them.",
                         hint="Filters and generation metrics apply to generate_until tasks only.")


def rescore_cell(item: PlannedCell, seed: int, options: RescoreOptions) -> tuple[CellRecord, dict[str, Any]]:
    """lm-eval's evaluator on the replayed outputs: the record a fresh run would store, same model."""
    from evalkit.engine.evaluation import evaluate_task
    from evalkit.rescore.replay import ReplayLM
    from evalkit.tasks.loading import load_task

    cell = item.cell
    loaded = load_task(item.entry)
    details = json.loads(cell.details_json or "{}")
    outcome = evaluate_task(ReplayLM(item.outputs, loaded.name), loaded, num_fewshot=int(cell.num_fewshot),
                            limit=details.get("limit"), seed=seed)
    record = CellRecord(
        cell_id=secrets.token_hex(6), model=str(cell.model), model_spec=json.loads(cell.model_spec_json or "{}"),
        model_fingerprint=str(cell.model_fingerprint), task=loaded.name, task_config_hash=loaded.config_hash,
        task_source=loaded.source, setting=str(cell.setting), num_fewshot=int(cell.num_fewshot),
        metrics=outcome.metrics, samples=outcome.samples,
        adapter=None if cell.adapter is None or cell.adapter != cell.adapter else str(cell.adapter),
        details={**{k: details[k] for k in _KEPT_DETAILS if k in details}, "rescore_of_cell": str(cell.cell_id)})
    return record, changes(item.entry, loaded.config_hash, cell, options)
