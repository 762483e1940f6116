"""The summary table printed at the end of `evalkit run`: models x tasks, metric ±95% CI (n)."""

from __future__ import annotations

import math

import pandas as pd
from rich.table import Table


def format_estimate(value: float, low: float | None, high: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if low is None or high is None or any(isinstance(x, float) and math.isnan(x) for x in (low, high)):
        return f"{value:.4f}"
    return f"{value:.4f} ±{(high - low) / 2:.4f}"


def render_run_table(frame: pd.DataFrame) -> Table:
    """One row per (task, setting, metric), one column per model."""
    table = Table(title="Results (±: half-width of the 95% interval)", show_lines=False)
    models = list(dict.fromkeys(frame["model"]))
    for header in ("task", "setting", "metric", "n"):
        table.add_column(header, style="bold" if header == "task" else None)
    for model in models:
        table.add_column(model, justify="right")
    keys = list(dict.fromkeys(zip(frame["task"], frame["setting"], frame["metric"])))
    for task, setting, metric in keys:
        rows = frame[(frame.task == task) & (frame.setting == setting) & (frame.metric == metric)]
        by_model = {r.model: r for r in rows.itertuples()}
        n = str(int(rows["n"].max())) if len(rows) else ""
        cells = [format_estimate(by_model[m].value, by_model[m].ci_low, by_model[m].ci_high)
                 if m in by_model else "" for m in models]
        table.add_row(task, setting, metric, n, *cells)
    return table
