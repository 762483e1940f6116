"""Figures for the HTML report, as base64 PNG data URIs. matplotlib is imported only here, through
its object API (no pyplot, no global state), so the rest of evalkit never loads it."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from typing import Any

import pandas as pd

from evalkit.compare.result import Comparison, GateOutcome
from evalkit.report.formatting import is_missing

MAX_SERIES = 8


@dataclass(frozen=True)
class FigureImage:
    """A rendered figure: title, alt text and a data: URI holding the PNG."""

    title: str
    alt: str
    data_uri: str


def _label(text: object) -> str:
    """Plain text for matplotlib: a '$' would otherwise start mathtext (and could fail to parse)."""
    return str(text).replace("$", r"\$")


def _new_figure(rows: int) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(8, max(2.2, 0.45 * rows + 1.2)), dpi=90, layout="constrained")


def _encode(fig: Any, title: str, alt: str) -> FigureImage:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return FigureImage(title, alt, "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii"))


def _errors(frame: pd.DataFrame) -> list[list[float]] | None:
    """Asymmetric error bars from ci_low / ci_high (None when no interval is known)."""
    if frame.ci_low.map(is_missing).any() or frame.ci_high.map(is_missing).any():
        return None
    # clip: an interval need not contain the point estimate (e.g. a percentile bootstrap of a skewed metric)
    return [list((frame.value - frame.ci_low).clip(lower=0)), list((frame.ci_high - frame.value).clip(lower=0))]


def results_figures(results: pd.DataFrame) -> list[FigureImage]:
    """Per metric: each task's value with its interval, one marker series per (run, model, setting)."""
    figures = []
    series_keys = [k for k in ("run", "model", "setting") if k in results and results[k].nunique() > 1] or ["model"]
    for metric, frame in results.groupby("metric", sort=False):
        tasks = list(dict.fromkeys(frame.task))
        fig = _new_figure(len(tasks))
        ax = fig.add_subplot()
        groups = list(frame.groupby(series_keys, sort=False))[:MAX_SERIES]
        for index, (key, group) in enumerate(groups):
            offset = (index - (len(groups) - 1) / 2) * 0.8 / max(1, len(groups))
            y = [tasks.index(t) + offset for t in group.task]
            label = " / ".join(str(k) for k in (key if isinstance(key, tuple) else (key,)))
            ax.errorbar(group.value, y, xerr=_errors(group), fmt="o", capsize=3, label=_label(label))
        ax.set_yticks(range(len(tasks)), [_label(t) for t in tasks])
        ax.invert_yaxis()
        ax.set_xlabel(_label(metric))
        ax.legend(fontsize="small", loc="best")
        figures.append(_encode(fig, f"{metric} by task (95% CI)", f"{metric} per task with intervals"))
    return figures


def settings_figures(results: pd.DataFrame) -> list[FigureImage]:
    """When settings differ (zero-shot vs few-shot vs fine-tuned): grouped bars per task and model."""
    if "setting" not in results or results.setting.nunique() < 2:
        return []
    figures = []
    several_runs = "run" in results and results.run.nunique() > 1
    for metric, frame in results.groupby("metric", sort=False):
        if frame.setting.nunique() < 2:
            continue
        prefix = frame.run.astype(str) + " / " if several_runs else ""
        frame = frame.assign(group=prefix + frame.model.astype(str) + " / " + frame.task.astype(str))
        groups = list(dict.fromkeys(frame.group))
        settings = list(dict.fromkeys(frame.setting))[:MAX_SERIES]
        fig = _new_figure(len(groups) * max(1, len(settings)) // 2 + 1)
        ax = fig.add_subplot()
        width = 0.8 / len(settings)
        for index, setting in enumerate(settings):
            part = frame[frame.setting == setting].drop_duplicates("group")
            y = [groups.index(g) + (index - (len(settings) - 1) / 2) * width for g in part.group]
            ax.barh(y, part.value, height=width, xerr=_errors(part), capsize=3, label=_label(setting))
        ax.set_yticks(range(len(groups)), [_label(g) for g in groups])
        ax.invert_yaxis()
        ax.set_xlabel(_label(metric))
        ax.legend(fontsize="small", loc="best")
        figures.append(_encode(fig, f"{metric}: settings compared", f"{metric} per setting for each task"))
    return figures


def delta_figure(comparison: Comparison) -> FigureImage | None:
    """Each comparison row's difference B−A with its interval; regressions and worse rows in red."""
    rows = comparison.rows
    if rows.empty:
        return None
    fig = _new_figure(len(rows))
    ax = fig.add_subplot()
    for index, (_, row) in enumerate(rows.iterrows()):
        bad = bool(row.get("regression", False)) or row.change == "worse"
        color = "tab:red" if bad else ("tab:green" if row.change == "better" else "tab:blue")
        err = None if is_missing(row.ci_low) else \
            [[max(0.0, row.delta - row.ci_low)], [max(0.0, row.ci_high - row.delta)]]
        ax.errorbar([row.delta], [index], xerr=err, fmt="o", capsize=3, color=color)
    several_models = rows.model.nunique() > 1
    labels = [" / ".join(str(v) for v in ((r.model,) if several_models else ()) + (r.task, r.setting, r.metric)
                         if not is_missing(v)) + f" ({r.b})" for r in rows.itertuples(index=False)]
    ax.set_yticks(range(len(rows)), [_label(x) for x in labels])
    ax.invert_yaxis()
    ax.axvline(0.0, color="grey", linewidth=1)
    ax.set_xlabel(f"Δ B − A ({comparison.confidence:.0%} CI)")
    title = f"Differences against {comparison.labels[0]}"
    return _encode(fig, title, "differences with intervals")


_VERDICT_COLOURS = {"PASS": "tab:green", "FAIL": "tab:red", "INCONCLUSIVE": "tab:orange"}


def verdict_figure(gate: GateOutcome) -> FigureImage | None:
    """A forest plot of the gate: each row's drop with its one-sided bounds against its own tolerance
    (a vertical tick), coloured by verdict, so the reason for every verdict is visible at once."""
    rows = gate.comparison.rows
    rows = rows[rows.verdict != "NOT GATED"]
    if rows.empty:
        return None
    fig = _new_figure(len(rows))
    ax = fig.add_subplot()
    for index, (_, row) in enumerate(rows.iterrows()):
        colour = _VERDICT_COLOURS.get(str(row.verdict), "tab:blue")
        low, high = _finite(row.drop_low, row["drop"]), _finite(row.drop_high, row["drop"])
        ax.plot([low, high], [index, index], color=colour, linewidth=2.5)
        ax.plot([row["drop"]], [index], "o", color=colour)
        ax.plot([row.tolerance, row.tolerance], [index - 0.35, index + 0.35], color="black", linewidth=1.5)
    labels = [" / ".join(str(v) for v in (r.task, r.setting, r.metric) if not is_missing(v)) + f": {r.verdict}"
              for r in rows.itertuples(index=False)]
    ax.set_yticks(range(len(rows)), [_label(x) for x in labels])
    ax.invert_yaxis()
    ax.axvline(0.0, color="grey", linewidth=1, linestyle=":")
    ax.set_xlabel(f"drop (positive = worse) with its one-sided {1 - gate.alpha:.0%} bounds; black tick: tolerance")
    return _encode(fig, f"Gate {gate.verdict}: each row's drop against its tolerance",
                   "forest plot of drops, bounds and tolerances")


def _finite(value: float, fallback: float) -> float:
    """An infinite bound (nothing estimable) drawn as the point: the reason text says it is unbounded."""
    return float(value) if not is_missing(value) and abs(float(value)) != float("inf") else float(fallback)
