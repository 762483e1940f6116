"""The transfer / forgetting matrix: rows = the task a model was fine-tuned on (A), columns = the
task evaluated (B), each entry the paired difference against the same model's zero-shot cell on B
over the same documents, with one multiple-comparison correction across the matrix.

A cell with setting 'fine-tuned-on:A' on task B is the model fine-tuned on A's training split,
evaluated on B. The diagonal (A on A) is 'fine-tuned-on:A' on A, or the run's 'fine-tuned' cell on
A. `gain` is the difference turned so that + is better: + off the diagonal is transfer, - is
forgetting, also for lower-is-better metrics. An LM task is compared on per-document log-likelihood.
"""

from __future__ import annotations

import math
import sqlite3
from typing import Any

import pandas as pd

from evalkit.errors import InputError
from evalkit.stats import adjust_pvalues
from evalkit.studies.points import (LM_ITEM_METRIC, MetricPoint, RunData, change_label, companion_value, gain,
                                    load_run, metric_points, paired_test)

TRANSFER_PREFIX = "fine-tuned-on:"
IN_TASK_SETTING = "fine-tuned"
BASE_SETTING = "zero-shot"
DEFAULT_METRIC = "acc"


def transfer_entries(run: RunData) -> pd.DataFrame:
    """model, trained_on, task, cell_id, setting for every matrix entry; InputError when there is none."""
    cells = run.cells
    on = cells[cells.setting.str.startswith(TRANSFER_PREFIX) & ~cells.setting.str.contains("@step:", regex=False)]
    if on.empty:
        raise InputError(f"Run {run.run_id} has no transfer cells (no setting '{TRANSFER_PREFIX}TASK').",
                         hint="Run the matrix with `evalkit run ... --transfer` or --setting fine-tuned-on:TASK.")
    entries = on.assign(trained_on=on.setting.str.removeprefix(TRANSFER_PREFIX))
    in_task = cells[cells.setting == IN_TASK_SETTING]
    in_task = in_task.assign(trained_on=in_task.task)
    have = set(zip(entries.model, entries.trained_on, entries.task))
    in_task = in_task[[(m, t, t) not in have for m, t in zip(in_task.model, in_task.task)]]
    frame = pd.concat([entries, in_task], ignore_index=True)
    return frame[["model", "trained_on", "task", "cell_id", "setting"]]


def base_cell(run: RunData, model: str, task: str) -> str:
    """The cell_id of the model's zero-shot cell on `task`; InputError naming it when missing."""
    found = run.cells[(run.cells.model == model) & (run.cells.task == task) & (run.cells.setting == BASE_SETTING)]
    if found.empty:
        raise InputError(f"Run {run.run_id} has no '{BASE_SETTING}' cell of model {model} on task '{task}', "
                         "the baseline its transfer entries are compared with.",
                         hint=f"Evaluate '{task}' with --setting {BASE_SETTING} in the same run.")
    return str(found.cell_id.iloc[0])


def choose_metric(points: list[MetricPoint], wanted: str | None) -> MetricPoint | None:
    """The wanted metric where present; else per-document log-likelihood (LM tasks), acc, a tested metric."""
    by_name = {p.metric: p for p in points}
    for name in (wanted, LM_ITEM_METRIC, DEFAULT_METRIC):
        if name and name in by_name:
            return by_name[name]
    tested = [p for p in points if p.item_key is not None]
    return (tested or points or [None])[0]


def _entry_row(run: RunData, entry: dict[str, Any], wanted: str | None, confidence: float) -> dict[str, Any] | None:
    base_id = base_cell(run, entry["model"], entry["task"])
    base = choose_metric(metric_points(run, base_id), wanted)
    if base is None:
        return None
    tuned = {p.metric: p for p in metric_points(run, entry["cell_id"])}.get(base.metric)
    if tuned is None:
        return None
    key = base.item_key if base.item_key == tuned.item_key else None
    test = paired_test(run, base_id, entry["cell_id"], key, confidence=confidence)
    return {"model": entry["model"], "trained_on": entry["trained_on"], "task": entry["task"],
            "setting": entry["setting"], "metric": base.metric, "higher_is_better": base.higher_is_better,
            "diagonal": entry["trained_on"] == entry["task"], "base_value": base.value, "value": tuned.value,
            **test, "base_bits_per_byte": companion_value(run, base_id),
            "bits_per_byte": companion_value(run, entry["cell_id"])}


def _finish(frame: pd.DataFrame, correction: str, alpha: float) -> pd.DataFrame:
    """Adjusted p across the matrix, significance, direction-adjusted gain and its interval."""
    tested = frame.p_value.notna()
    adjusted = pd.Series(math.nan, index=frame.index)
    adjusted[tested] = adjust_pvalues(list(frame.p_value[tested]), correction)
    frame = frame.assign(p_adjusted=adjusted, significant=adjusted < alpha)
    hib = frame.higher_is_better.astype(bool)
    frame["gain"] = frame.delta.where(hib, -frame.delta)
    frame["gain_low"] = frame.ci_low.where(hib, -frame.ci_high)
    frame["gain_high"] = frame.ci_high.where(hib, -frame.ci_low)
    frame["change"] = [change_label(d, p, h, alpha) for d, p, h in zip(frame.delta, frame.p_adjusted, hib)]
    frame["effect"] = [_effect(c, diag) for c, diag in zip(frame.change, frame.diagonal)]
    return frame


def _effect(change: str, diagonal: bool) -> str:
    """'gain' / 'loss' on the diagonal, 'transfer' / 'forgetting' off it, '' when not significant."""
    if not change:
        return ""
    if diagonal:
        return "gain" if change == "better" else "loss"
    return "transfer" if change == "better" else "forgetting"


def transfer_frame(conn: sqlite3.Connection, run_id: str, *, metric: str | None = None, correction: str = "holm",
                   alpha: float = 0.05, confidence: float = 0.95) -> pd.DataFrame:
    """One row per (model, fine-tuned on A, evaluated task B): the paired difference against zero-shot on B."""
    run = load_run(conn, run_id)
    entries = transfer_entries(run)
    rows = [_entry_row(run, e, metric, confidence) for e in entries.to_dict("records")]
    frame = pd.DataFrame([r for r in rows if r is not None])
    if metric and (frame.empty or metric not in set(frame.metric)):
        raise InputError(f"No task of run {run_id}'s transfer matrix reports metric '{metric}'.",
                         hint="Leave out --metric to use each task's default (acc, or log-likelihood for LM tasks).")
    if frame.empty:
        raise InputError(f"Run {run_id}'s transfer cells share no metric with their zero-shot baselines.",
                         hint="Check the run with `evalkit results show RUN`.")
    frame = _finish(_ordered(frame), correction, alpha)
    frame.attrs.update(run_id=run_id, correction=correction, alpha=alpha, confidence=confidence,
                       tests=int(frame.p_value.notna().sum()))
    return frame.reset_index(drop=True)


def _ordered(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows and columns of the matrix in the same task order: sources first, then the other tasks."""
    order = list(dict.fromkeys(list(frame.trained_on) + list(frame.task)))
    rank = {task: i for i, task in enumerate(order)}
    keys = frame.assign(_row=frame.trained_on.map(rank), _col=frame.task.map(rank))
    return keys.sort_values(["model", "_row", "_col"], kind="mergesort").drop(columns=["_row", "_col"])
