"""The back-test figure: observed points (fitted on, held back), the fitted curve and its prediction
band against the step on a log axis. matplotlib's object API, loaded only here (as figures.py)."""

from __future__ import annotations

import pandas as pd

from evalkit.report.figures import FigureImage, _encode, _label

MAX_FIGURES = 8


def forecast_figures(curves: list[pd.DataFrame]) -> list[FigureImage]:
    """One figure per series (the first MAX_FIGURES), from evalkit.forecast.frames.curve_frame."""
    return [_figure(c) for c in curves if not c.empty][:MAX_FIGURES]


def _figure(frame: pd.DataFrame) -> FigureImage:
    from matplotlib.figure import Figure

    a = frame.attrs
    fig = Figure(figsize=(7, 3.6), dpi=90, layout="constrained")
    ax = fig.add_subplot()
    fit = frame[frame.kind == "fit"]
    ax.fill_between(fit.step, fit.low, fit.high, alpha=0.25, label=f"{a.get('level', 0.95):.0%} prediction interval")
    ax.plot(fit.step, fit.value, label=_label(f"fit ({a.get('method', '')})"))
    for kind, marker in (("fitted on", "o"), ("held back", "x")):
        part = frame[frame.kind == kind]
        ax.scatter(part.step, part.value, marker=marker, label=kind, zorder=3)
    ax.axvline(float(a.get("fit_until", 0)) or 1, linestyle=":", color="grey")
    ax.set_xscale("log")
    ax.set_xlabel("step")
    ax.set_title(_label(a.get("label", "")), fontsize=9)
    ax.legend(fontsize=7)
    title = f"Back-test: {a.get('label', '')}"
    alt = (f"{a.get('label', '')}: observed values by step, fitted up to step {a.get('fit_until')}, "
           "with the fitted curve, its prediction band and the held-back points")
    return _encode(fig, title, alt)
