"""Settings compared within one run: for each (model, task) evaluated in several settings,
each setting's metrics with 95% intervals, and each setting against its baseline paired on
the same documents.

Baselines: fine-tuned -> zero-shot, fine-tuned+few-shot:K -> few-shot:K (so the difference is
what fine-tuning adds with the prompt held fixed), few-shot:K -> zero-shot. Documents are
matched by doc_hash (as `evalkit compare` does); the difference, its 95% interval and p-value
come from evalkit.stats.paired_compare (exact McNemar with a Newcombe interval for 0/1 scores,
paired bootstrap otherwise).
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass

import pandas as pd

from evalkit.settings import Setting, parse_setting

SETTING_COLUMNS = ["setting", "metric", "value", "ci_low", "ci_high", "n", "higher_is_better"]
DIFFERENCE_COLUMNS = ["setting", "baseline", "metric", "value", "baseline_value", "delta", "ci_low", "ci_high",
                      "p_value", "n", "method", "improved", "worsened", "higher_is_better"]


@dataclass(frozen=True)
class SettingsComparison:
    """One (model, task): every setting's metrics, and the paired differences from baselines."""

    model: str
    task: str
    settings: pd.DataFrame  # SETTING_COLUMNS
    differences: pd.DataFrame  # DIFFERENCE_COLUMNS


def baseline_of(setting: str, available: list[str]) -> str | None:
    """The setting `setting` is compared against, when the run has it."""
    try:
        parsed = parse_setting(setting)
    except Exception:  # a label this evalkit does not know: no baseline
        return None
    if parsed.fine_tuned:
        candidate = Setting(False, parsed.num_fewshot).label
    elif parsed.num_fewshot > 0:
        candidate = "zero-shot"
    else:
        return None
    return candidate if candidate in available else None


def compare_settings(cells: pd.DataFrame, metrics: pd.DataFrame,
                     samples: pd.DataFrame) -> list[SettingsComparison]:
    """Comparisons for every (model, task) of a run with more than one setting.

    cells, metrics, samples: the store reader's cells_frame, metrics_frame and samples_frame of one run.
    """
    found: list[SettingsComparison] = []
    for (model, task), group in cells.groupby(["model", "task"], sort=False):
        settings = list(dict.fromkeys(group.setting))
        if len(settings) < 2:
            continue
        cell_of = {s: group[group.setting == s].iloc[0].cell_id for s in settings}
        in_cells = metrics[metrics.cell_id.isin(list(cell_of.values()))]
        summary = in_cells.assign(_order=in_cells.setting.map(settings.index)).sort_values(["_order", "metric"])
        rows = []
        for setting in settings:
            base = baseline_of(setting, settings)
            if base is not None:
                rows += _difference_rows(setting, base, cell_of, in_cells, samples)
        found.append(SettingsComparison(str(model), str(task),
                                        summary[SETTING_COLUMNS].reset_index(drop=True),
                                        pd.DataFrame(rows, columns=DIFFERENCE_COLUMNS)))
    return found


def comparisons_from_store(conn: sqlite3.Connection, run_id: str) -> list[SettingsComparison]:
    """compare_settings over one stored run."""
    from evalkit.store.reader import cells_frame, metrics_frame, samples_frame

    return compare_settings(cells_frame(conn, [run_id]), metrics_frame(conn, [run_id], include_incomplete=True),
                            samples_frame(conn, run_id))


def _difference_rows(setting: str, base: str, cell_of: dict[str, str], metrics: pd.DataFrame,
                     samples: pd.DataFrame) -> list[dict[str, object]]:
    from evalkit.compare.matching import align_samples
    from evalkit.compare.paired import item_scores
    from evalkit.stats import paired_compare

    aligned, _, _ = align_samples(samples[samples.cell_id == cell_of[base]], samples[samples.cell_id == cell_of[setting]])
    ours = metrics[metrics.cell_id == cell_of[setting]]
    theirs = set(metrics[metrics.cell_id == cell_of[base]].metric)
    rows = []
    for metric, higher in zip(ours.metric, ours.higher_is_better):
        if metric not in theirs:
            continue
        values = item_scores(aligned, metric) if len(aligned) else None
        row = {"setting": setting, "baseline": base, "metric": metric, "higher_is_better": bool(higher)}
        if values is None:
            value, base_value = _value(metrics, cell_of[setting], metric), _value(metrics, cell_of[base], metric)
            row.update(value=value, baseline_value=base_value, delta=value - base_value, ci_low=math.nan,
                       ci_high=math.nan, p_value=math.nan, n=len(aligned), method="no per-item scores",
                       improved=None, worsened=None)
        else:
            result = paired_compare(values[0], values[1])
            row.update(value=result.mean_b, baseline_value=result.mean_a, delta=result.delta, ci_low=result.low,
                       ci_high=result.high, p_value=result.p_value, n=result.n, method=result.method,
                       improved=result.improved, worsened=result.worsened)
        rows.append(row)
    return rows


def _value(metrics: pd.DataFrame, cell_id: str, metric: str) -> float:
    found = metrics[(metrics.cell_id == cell_id) & (metrics.metric == metric)].value
    return float(found.iloc[0]) if len(found) and pd.notna(found.iloc[0]) else math.nan
