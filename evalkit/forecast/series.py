"""Trajectories as forecastable series, from a stored run (the trajectory view's points) or from
aggregate-only lm-eval files, with the series' language-modelling loss attached where it has one.

A points frame has one row per (series, task, setting, metric, step): value, stderr,
higher_is_better. The intermediate variable is, in order of preference, wikitext bits per byte or
the log of lambada perplexity at the same steps of the same series and setting.
"""

from __future__ import annotations

import math
from typing import Iterable

import numpy as np
import pandas as pd

from evalkit.forecast.model import Series
from evalkit.interop.lm_eval_aggregate import AggregateCheckpoint

KEYS = ["series", "task", "setting", "metric"]
# (task prefix, metric, transform, name): the loss a two-step fit goes through
LOSSES = (("wikitext", "bits_per_byte", "identity", "wikitext bits per byte"),
          ("lambada", "ppl", "log", "log lambada perplexity"),
          ("lambada", "perplexity", "log", "log lambada perplexity"))
Z95 = 1.96
LOG_METRICS = ("ppl", "perplexity", "word_perplexity", "byte_perplexity")


def points_from_checkpoints(checkpoints: Iterable[AggregateCheckpoint], setting: str = "") -> pd.DataFrame:
    """The points frame of aggregate-only checkpoints (one series)."""
    from evalkit.interop.aggregate_import import higher_is_better

    rows = [{"series": c.model, "task": m.task, "setting": setting or f"{c.num_fewshot}-shot", "metric": m.metric,
             "step": c.step, "value": m.value, "stderr": math.nan if m.stderr is None else m.stderr,
             "higher_is_better": higher_is_better(m.metric)}
            for c in checkpoints for m in c.metrics]
    return pd.DataFrame(rows).sort_values(KEYS + ["step"], kind="mergesort").reset_index(drop=True)


def points_from_trajectory(frame: pd.DataFrame) -> pd.DataFrame:
    """The points frame of a trajectory view (evalkit.studies.trajectory.point_frame): stderr from
    the stored 95% interval."""
    stderr = (frame.ci_high.astype(float) - frame.ci_low.astype(float)) / (2 * Z95)
    points = frame.assign(stderr=stderr)[KEYS + ["step", "value", "stderr", "higher_is_better"]]
    return pd.concat([points, _bits_per_byte_rows(frame)], ignore_index=True)


def _bits_per_byte_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """An LM cell's bits per byte (shown beside its log-likelihood in the view) as a series of its own:
    what a two-step fit goes through."""
    lm = frame[(frame.metric == "loglikelihood") & frame.bits_per_byte.notna()] if "bits_per_byte" in frame \
        else frame.iloc[0:0]
    return pd.DataFrame({"series": lm.series, "task": lm.task, "setting": lm.setting, "metric": "bits_per_byte",
                         "step": lm.step, "value": lm.bits_per_byte.astype(float) if len(lm) else [],
                         "stderr": math.nan, "higher_is_better": False})


def build_series(points: pd.DataFrame, *, task: str | None = None, metric: str | None = None) -> list[Series]:
    """One Series per (series, task, setting, metric), filtered by task and metric, the loss attached."""
    chosen = points
    if task is not None:
        chosen = chosen[chosen.task == task]
    if metric is not None:
        chosen = chosen[chosen.metric == metric]
    out = []
    for (series, task_name, setting, metric_name), group in chosen.groupby(KEYS, sort=False):
        group = group.sort_values("step")
        loss, loss_name = _loss(points, series, setting, task_name, metric_name, group.step.to_numpy())
        out.append(Series(f"{series} / {task_name} / {setting} / {metric_name}", group.step.to_numpy(dtype=int),
                          group.value.to_numpy(dtype=float), group.stderr.to_numpy(dtype=float),
                          bool(group.higher_is_better.iloc[0]), loss, loss_name,
                          metric_name.split(",")[0] in LOG_METRICS))
    return out


def _loss(points: pd.DataFrame, series: str, setting: str, task: str, metric: str,
          steps: np.ndarray) -> tuple[np.ndarray | None, str | None]:
    """The series' LM loss at `steps` (None when it has none, or when this series is the loss itself)."""
    same = points[(points.series == series) & (points.setting == setting)]
    for prefix, loss_metric, transform, name in LOSSES:
        if task.startswith(prefix) and metric == loss_metric:
            return None, None
        rows = same[same.task.str.startswith(prefix) & (same.metric == loss_metric)]
        if rows.empty or rows.task.nunique() != 1:
            continue
        by_step = dict(zip(rows.step.astype(int), rows.value.astype(float)))
        values = np.array([by_step.get(int(s), math.nan) for s in steps])
        return (np.log(values) if transform == "log" else values), name
    return None, None
