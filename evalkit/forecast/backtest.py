"""Back-test: fit on the checkpoints up to a step, predict the later ones, and score the forecast
(absolute error, whether the interval covered) against two plain baselines: the last fitted value
carried forward, and a straight line in log-step."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from evalkit.forecast.model import NoForecast, Series, fit_series


@dataclass(frozen=True)
class HeldPoint:
    """One held-back checkpoint: what happened, the forecast with its interval, and the baselines."""

    step: int
    actual: float
    forecast: float
    low: float
    high: float
    last_value: float
    linear: float

    @property
    def covered(self) -> bool:
        return self.low <= self.actual <= self.high


@dataclass(frozen=True)
class Backtest:
    """A series' back-test: its held-back points (empty with `reason` when no forecast was possible)."""

    label: str
    fit_until: int
    fitted_points: int
    method: str
    held: list[HeldPoint]
    reason: str = ""

    @property
    def ok(self) -> bool:
        return not self.reason

    def mae(self, which: str) -> float:
        """Mean absolute error of 'forecast', 'last_value' or 'linear' over the held-back points."""
        errors = [abs(getattr(p, which) - p.actual) for p in self.held]
        return float(np.mean(errors)) if errors else math.nan

    @property
    def coverage(self) -> float:
        return float(np.mean([p.covered for p in self.held])) if self.held else math.nan


def backtest(series: Series, fit_until: int, *, predict_steps: list[int] | None = None,
             level: float = 0.95) -> Backtest:
    """Fit on steps <= fit_until and predict `predict_steps` (default: every later checkpoint)."""
    train = series.upto(fit_until)
    later = [int(s) for s in series.steps if s > fit_until]
    targets = later if predict_steps is None else [s for s in predict_steps if s in later]
    if not targets:
        return Backtest(series.label, fit_until, len(train.steps), "", [], "nothing held back after the fit")
    try:
        fitted = fit_series(train)
    except NoForecast as exc:
        return Backtest(series.label, fit_until, len(train.steps), "", [], f"no forecast: {exc.reason}")
    mean, low, high = fitted.predict(np.asarray(targets, dtype=float), level)
    line = linear_log_step(train)
    actual = {int(s): float(v) for s, v in zip(series.steps, series.values)}
    held = [HeldPoint(s, actual[s], float(m), float(lo), float(hi), float(train.values[-1]), float(line(s)))
            for s, m, lo, hi in zip(targets, mean, low, high)]
    return Backtest(series.label, fit_until, fitted.points, fitted.method, held)


def linear_log_step(series: Series):  # -> Callable[[float], float]
    """The baseline: ordinary least squares of the value on log10(step), steps after 0."""
    use = (series.steps > 0) & np.isfinite(series.values)
    slope, intercept = np.polyfit(np.log10(series.steps[use].astype(float)), series.values[use], 1)
    return lambda step: intercept + slope * math.log10(max(float(step), 1.0))
