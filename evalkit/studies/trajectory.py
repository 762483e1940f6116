"""The trajectory view: a metric at every step of a checkpoint or fine-tuning series, each step
tested item by item against the previous step, the first step and the best step, with one
multiple-comparison correction across every test in the view.

A cell is a point of a trajectory when its details carry `trajectory` = {series, step, epoch,
tokens_seen, flos, kind}. A trajectory is every such cell of a run with the same series, task,
setting family (the setting without a trailing '@step:N') and metric, ordered by step. A
fine-tuning trajectory with no step 0 starts at its base cell (the same model, task and prompt
without fine-tuning: 'zero-shot' for 'fine-tuned'), so its first point is the model before training.
"""

from __future__ import annotations

import math
import sqlite3
from typing import Any

import pandas as pd

from evalkit.errors import InputError
from evalkit.plan.settings import reference_label, setting_family
from evalkit.stats import adjust_pvalues
from evalkit.studies.points import RunData, change_label, companion_value, gain, load_run, metric_points, paired_test

TRAJECTORY_KEYS = ["series", "task", "setting", "metric"]
REFERENCES = ("vs_prev", "vs_first", "vs_best")
TEST_FIELDS = ("delta", "ci_low", "ci_high", "p_value", "p_adjusted", "method", "n", "unmatched")
def trajectory_cells(run: RunData) -> pd.DataFrame:
    """One row per trajectory cell: cell_id, model, task, setting (family), series, step, epoch, ..."""
    rows = [_cell_point(run.run_id, cell) for cell in run.cells.itertuples(index=False)
            if isinstance(cell.details.get("trajectory"), dict)]
    if not rows:
        raise InputError(f"Run {run.run_id} has no trajectory cells (no cell records a checkpoint or "
                         "fine-tuning step).",
                         hint="Evaluate a checkpoint series (-m 'OUT/checkpoint-*') or use --ft-eval-steps N.")
    frame = pd.DataFrame(rows)
    return pd.concat([frame, _base_points(run, frame)], ignore_index=True)


def _cell_point(run_id: str, cell: Any) -> dict[str, Any]:
    info = cell.details["trajectory"]
    step = info.get("step")
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise InputError(f"Run {run_id}, cell {cell.model} / {cell.task} / {cell.setting}: trajectory step "
                         f"{step!r} is not a non-negative integer.", hint="The stored run is damaged; re-run it.")
    return {"cell_id": cell.cell_id, "model": cell.model, "task": cell.task, "setting_label": cell.setting,
            "setting": setting_family(cell.setting), "series": str(info.get("series") or cell.model),
            "kind": str(info.get("kind") or "checkpoint"), "step": step, "epoch": _num(info.get("epoch")),
            "tokens_seen": _num(info.get("tokens_seen")), "flos": _num(info.get("flos"))}


def _num(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan


def _base_points(run: RunData, points: pd.DataFrame) -> pd.DataFrame:
    """Step-0 points for fine-tuning trajectories that lack one: the untrained model's cell."""
    rows = []
    tuned = points[points.kind == "fine-tuning"]
    for (series, model, task, family), group in tuned.groupby(["series", "model", "task", "setting"], sort=False):
        if (group.step == 0).any():
            continue
        base = run.cells[(run.cells.model == model) & (run.cells.task == task)
                         & (run.cells.setting == reference_label(family))]
        if base.empty:
            continue
        rows.append({"cell_id": base.cell_id.iloc[0], "model": model, "task": task,
                     "setting_label": base.setting.iloc[0], "setting": family, "series": series,
                     "kind": "base", "step": 0, "epoch": 0.0, "tokens_seen": 0.0, "flos": math.nan})
    return pd.DataFrame(rows, columns=points.columns)


def point_frame(run: RunData, cells: pd.DataFrame) -> pd.DataFrame:
    """One row per (trajectory cell, metric), with value, interval, n and bits per byte."""
    rows = []
    for cell in cells.to_dict("records"):
        companion = companion_value(run, cell["cell_id"])
        for point in metric_points(run, cell["cell_id"]):
            rows.append({**cell, "metric": point.metric, "value": point.value, "ci_low": point.ci_low,
                         "ci_high": point.ci_high, "n": point.n, "higher_is_better": point.higher_is_better,
                         "item_key": point.item_key, "bits_per_byte": companion})
    frame = pd.DataFrame(rows)
    order = frame.groupby(TRAJECTORY_KEYS, sort=False).ngroup()  # trajectories in the run's cell order
    frame = frame.assign(_order=order).sort_values(["_order", "step"], kind="mergesort").drop(columns="_order")
    _check_unique_steps(run.run_id, frame)
    return frame.reset_index(drop=True)


def _check_unique_steps(run_id: str, frame: pd.DataFrame) -> None:
    twice = frame[frame.duplicated(TRAJECTORY_KEYS + ["step"], keep=False)]
    if len(twice):
        row = twice.iloc[0]
        cells = ", ".join(f"{m} ({s})" for m, s in zip(twice.model, twice.setting_label))
        raise InputError(f"Run {run_id}: series '{row.series}' on task '{row.task}' ({row.setting}) has step "
                         f"{int(row.step)} more than once: {cells}.",
                         hint="Give each checkpoint of a series its own step (trainer_state.json or folder name).")


def best_index(values: list[float], higher_is_better: bool) -> int | None:
    """Position of the best value (the earliest on ties), None when no value is known."""
    known = [(v if higher_is_better else -v, -i) for i, v in enumerate(values) if not math.isnan(v)]
    return -max(known)[1] if known else None


def _pairs(count: int, best: int | None) -> dict[str, list[tuple[int, int]]]:
    """For each reference kind, (reference position, point position) per point that has one."""
    pairs: dict[str, list[tuple[int, int]]] = {
        "vs_prev": [(i - 1, i) for i in range(1, count)], "vs_first": [(0, i) for i in range(1, count)],
        "vs_best": []}
    if best is not None:
        pairs["vs_best"] = [(best, i) for i in range(count) if i != best]
    return pairs


def _trajectory_tests(run: RunData, group: pd.DataFrame, confidence: float) -> tuple[dict, dict]:
    """Unique tests of one trajectory (earlier step as A) and, per reference kind, which point uses which."""
    cells, keys = list(group.cell_id), list(group.item_key)
    best = best_index(list(group.value), bool(group.higher_is_better.iloc[0]))
    uses = _pairs(len(cells), best)
    unique = sorted({tuple(sorted(p)) for pairs in uses.values() for p in pairs})
    tests = {(a, b): paired_test(run, cells[a], cells[b], keys[a] if keys[a] == keys[b] else None,
                                 confidence=confidence) for a, b in unique}
    return tests, {"best_position": best, **uses}


def _oriented(test: dict[str, Any], reference: int, point: int) -> dict[str, Any]:
    """The test read as point minus reference (each test is computed with the earlier position as A)."""
    if reference < point:
        return dict(test)
    return {**test, "delta": -test["delta"], "ci_low": -test["ci_high"], "ci_high": -test["ci_low"]}


def _adjust(all_tests: list[dict[str, Any]], correction: str) -> None:
    """Adjusted p-values across every test of the view, written into the test dicts."""
    tested = [t for t in all_tests if not math.isnan(t["p_value"])]
    for test, adjusted in zip(tested, adjust_pvalues([t["p_value"] for t in tested], correction)):
        test["p_adjusted"] = adjusted
    for test in all_tests:
        test.setdefault("p_adjusted", math.nan)


def _test_columns(frame: pd.DataFrame, groups: list[tuple[pd.Index, dict, dict]], alpha: float) -> pd.DataFrame:
    columns: dict[str, list[Any]] = {f"{r}_{f}": [math.nan] * len(frame) for r in REFERENCES for f in
                                     ("step",) + TEST_FIELDS + ("change",)}
    position = {label: i for i, label in enumerate(frame.index)}
    for index, tests, uses in groups:
        hib = bool(frame.loc[index[0], "higher_is_better"])
        for ref in REFERENCES:
            for reference, point in uses[ref]:
                row = position[index[point]]
                test = _oriented(tests[tuple(sorted((reference, point)))], reference, point)
                columns[f"{ref}_step"][row] = frame.loc[index[reference], "step"]
                for name in TEST_FIELDS:
                    columns[f"{ref}_{name}"][row] = test[name]
                columns[f"{ref}_change"][row] = change_label(test["delta"], test["p_adjusted"], hib, alpha)
    return frame.assign(**columns)


def _summary_columns(frame: pd.DataFrame, groups: list[tuple[pd.Index, dict, dict]], alpha: float) -> pd.DataFrame:
    """Per trajectory: best and last step, and whether the best is significantly better than the last."""
    best_step = pd.Series(math.nan, index=frame.index)
    last_step = pd.Series(math.nan, index=frame.index)
    beats = pd.Series(False, index=frame.index)
    for index, _, uses in groups:
        last = index[-1]
        last_step[index] = frame.loc[last, "step"]
        if uses["best_position"] is None:
            continue
        best_step[index] = frame.loc[index[uses["best_position"]], "step"]
        hib = bool(frame.loc[last, "higher_is_better"])
        p_adj, delta = frame.loc[last, "vs_best_p_adjusted"], frame.loc[last, "vs_best_delta"]
        beats[index] = bool(p_adj < alpha and gain(delta, hib) < 0) if not math.isnan(p_adj) else False
    ship = best_step.where(beats, last_step)
    return frame.assign(best_step=best_step, last_step=last_step, is_best=frame.step == best_step,
                        best_beats_last=beats, ship_step=ship)


def trajectory_frame(conn: sqlite3.Connection, run_id: str, *, metrics: tuple[str, ...] = (),
                     correction: str = "holm", alpha: float = 0.05, confidence: float = 0.95) -> pd.DataFrame:
    """The tidy trajectory view of `run_id`: one row per (series, task, setting, metric, step)."""
    run = load_run(conn, run_id)
    frame = point_frame(run, trajectory_cells(run))
    if metrics:
        frame = _only_metrics(run_id, frame, metrics)
    groups, all_tests = [], []
    for _, group in frame.groupby(TRAJECTORY_KEYS, sort=False):
        tests, uses = _trajectory_tests(run, group, confidence)
        groups.append((group.index, tests, uses))
        all_tests += list(tests.values())
    _adjust(all_tests, correction)
    frame = _summary_columns(_test_columns(frame, groups, alpha), groups, alpha)
    frame = frame.drop(columns="item_key").reset_index(drop=True)
    frame.attrs.update(run_id=run_id, correction=correction, alpha=alpha, confidence=confidence,
                       tests=sum(1 for t in all_tests if not math.isnan(t["p_value"])))
    return frame


def _only_metrics(run_id: str, frame: pd.DataFrame, metrics: tuple[str, ...]) -> pd.DataFrame:
    kept = frame[frame.metric.isin(metrics)]
    if kept.empty:
        known = ", ".join(dict.fromkeys(frame.metric))
        raise InputError(f"Run {run_id} has no trajectory of metric {', '.join(metrics)}; it has: {known}.",
                         hint="Pass --metric with one of those names.")
    return kept.reset_index(drop=True)
