"""The trajectory figure for the HTML view: metric vs step with its interval band, one panel per task,
one line per series, the best step starred. matplotlib's object API only (no pyplot)."""

from __future__ import annotations

import pandas as pd

from evalkit.report.figures import FigureImage, _encode, _label

PANEL_COLUMNS = 3


def trajectory_figures(frame: pd.DataFrame) -> list[FigureImage]:
    """One figure per metric, a panel per task."""
    from matplotlib.figure import Figure

    figures = []
    for metric, part in frame.groupby("metric", sort=False):
        tasks = list(dict.fromkeys(part.task))
        cols = min(PANEL_COLUMNS, len(tasks))
        rows = (len(tasks) + cols - 1) // cols
        fig = Figure(figsize=(4.2 * cols, 3.0 * rows), dpi=90, layout="constrained")
        axes = fig.subplots(rows, cols, squeeze=False)
        for index, task in enumerate(tasks):
            _panel(axes[index // cols][index % cols], part[part.task == task], str(task), str(metric))
        for index in range(len(tasks), rows * cols):
            axes[index // cols][index % cols].set_visible(False)
        figures.append(_encode(fig, f"{metric} vs step (95% CI band; ★ best step)",
                               f"{metric} at every step with interval bands, one panel per task"))
    return figures


def _panel(ax: object, part: pd.DataFrame, task: str, metric: str) -> None:
    for (series, setting), line in part.groupby(["series", "setting"], sort=False):
        label = _label(f"{series} ({setting})")
        drawn = ax.plot(line.step, line.value, marker="o", label=label)  # type: ignore[attr-defined]
        color = drawn[0].get_color()
        if line.ci_low.notna().all() and line.ci_high.notna().all():
            ax.fill_between(line.step, line.ci_low, line.ci_high, alpha=0.2, color=color)  # type: ignore[attr-defined]
        best = line[line.is_best]
        ax.plot(best.step, best.value, marker="*", markersize=14, linestyle="none", color=color)  # type: ignore[attr-defined]
    ax.set_title(_label(task))  # type: ignore[attr-defined]
    ax.set_xlabel("step")  # type: ignore[attr-defined]
    ax.set_ylabel(_label(metric))  # type: ignore[attr-defined]
    ax.legend(fontsize="small", loc="best")  # type: ignore[attr-defined]
