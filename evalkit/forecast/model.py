"""A series' forecast: fit it (evalkit.forecast.curves), predict a later step with a prediction
interval, or the step at which a target is reached, and say when no forecast can be made.

The error term is the series' own checkpoint-to-checkpoint noise (Heineman et al. 2025, arXiv
2508.13144): the scatter of consecutive residuals around the fit, sqrt(mean(diff(r)^2) / 2), which
a slow misfit barely moves; the parameters' own uncertainty (delta method) is added to it, and the
interval uses Student's t with the fit's residual degrees of freedom.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from evalkit.forecast.curves import Fit, fit_direct, fit_loss, fit_score_of_loss

MIN_POINTS = 4
HOLDOUT = 2  # the last fitted points that choose between the two-step and the direct fit
TARGET_HORIZON = 10  # a target is searched up to 10x the last step


class NoForecast(Exception):
    """Why a series cannot be forecast (too few points, no trend, at chance, no fit)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Series:
    """One trajectory: steps, values and their standard errors (NaN when unknown), and optionally a
    language-modelling loss at the same steps (lower is better) used as the intermediate variable."""

    label: str
    steps: np.ndarray
    values: np.ndarray
    stderr: np.ndarray
    higher_is_better: bool = True
    loss: np.ndarray | None = None
    loss_name: str | None = None
    log_values: bool = False  # a perplexity: fitted on its log, predicted back on its own scale

    def upto(self, step: float) -> "Series":
        """The series cut after `step` (a back-test's fitting window)."""
        keep = self.steps <= step
        loss = None if self.loss is None else self.loss[keep]
        return Series(self.label, self.steps[keep], self.values[keep], self.stderr[keep], self.higher_is_better,
                      loss, self.loss_name, self.log_values)


@dataclass(frozen=True)
class FittedSeries:
    """A fitted trajectory: `mean_sd(steps)` gives the fitted value and its parameter sd at each step."""

    method: str
    mean_sd: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
    noise_sd: float
    dof: int
    points: int
    last_step: int
    last_value: float
    higher_is_better: bool
    log_values: bool = False

    def predict(self, steps: np.ndarray | list[float], level: float = 0.95) -> tuple[np.ndarray, np.ndarray,
                                                                                       np.ndarray]:
        """Predicted value with the `level` prediction interval at each step."""
        from scipy.stats import t

        mean, param_sd = self.mean_sd(np.asarray(steps, dtype=float))
        half = float(t.ppf(0.5 + level / 2, max(self.dof, 1))) * np.sqrt(self.noise_sd ** 2 + param_sd ** 2)
        if self.log_values:
            return np.exp(mean), np.exp(mean - half), np.exp(mean + half)
        return mean, mean - half, mean + half


def fit_series(series: Series) -> FittedSeries:
    """The series fitted (two-step through its loss when it has one, else directly in log-step);
    NoForecast says why not."""
    use = (series.steps > 0) & np.isfinite(series.values)
    x, y = np.log10(series.steps[use].astype(float)), series.values[use].astype(float)
    if series.log_values:
        if np.any(y <= 0):
            raise NoForecast("a perplexity that is not positive")
        y = np.log(y)
    if len(x) < MIN_POINTS:
        raise NoForecast(f"fewer than {MIN_POINTS} checkpoints after step 0 ({len(x)})")
    _check_trend(series, x, y)
    name, mean_sd, k = _choose(series, use, x, y)
    residuals = y - mean_sd(series.steps[use].astype(float))[0]
    noise = math.sqrt(float(np.mean(np.diff(residuals) ** 2)) / 2) if len(residuals) > 1 else math.nan
    last = float(series.values[use][-1])
    return FittedSeries(name, mean_sd, noise, len(x) - k, len(x), int(series.steps[use][-1]), last,
                        series.higher_is_better, series.log_values)


def _check_trend(series: Series, x: np.ndarray, y: np.ndarray) -> None:
    """No forecast for a flat series: the log-step slope within noise, or the last point at the untrained level."""
    from scipy.stats import linregress

    fit = linregress(x, y)
    if not (fit.pvalue < 0.05):
        raise NoForecast(f"no trend (slope per decade of steps {fit.slope:+.3g}, p = {fit.pvalue:.2g})")
    first, last = series.values[0], series.values[-1]
    se = math.hypot(series.stderr[0], series.stderr[-1])
    if series.steps[0] == 0 and math.isfinite(se) and abs(last - first) < 2 * se:
        raise NoForecast(f"at chance level (the last checkpoint, {last:.3g}, is within 2 standard errors of "
                         f"the untrained model's {first:.3g})")


def _choose(series: Series, use: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[str, Callable, int]:
    """Two-step through the loss where the series has one and it predicts the last HOLDOUT fitted points
    (fitted without them) at least as well as the direct fit does; otherwise the direct fit."""
    two = _two_step(series, use, x, y) if series.loss is not None else None
    if two is None:
        return _direct(x, y)
    if len(x) - HOLDOUT < MIN_POINTS + 1:
        return two
    head = np.arange(len(x)) < len(x) - HOLDOUT
    cut = np.flatnonzero(use)[head]
    early = Series(series.label, series.steps[cut], series.values[cut], series.stderr[cut], series.higher_is_better,
                   series.loss[cut], series.loss_name, series.log_values)
    tail_steps = series.steps[use][~head].astype(float)
    errors = []
    for fitted in (_two_step(early, np.ones(len(cut), bool), x[head], y[head]), _direct_or_none(x[head], y[head])):
        errors.append(math.inf if fitted is None else float(np.mean(np.abs(fitted[1](tail_steps)[0] - y[~head]))))
    return two if errors[0] <= errors[1] else _direct(x, y)


def _direct_or_none(x: np.ndarray, y: np.ndarray) -> tuple[str, Callable, int] | None:
    try:
        return _direct(x, y)
    except NoForecast:
        return None


def _direct(x: np.ndarray, y: np.ndarray) -> tuple[str, Callable, int]:
    fit = fit_direct(x, y)
    if fit is None:
        raise NoForecast("no curve fits the points (the fit does not converge)")

    def mean_sd(steps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        xs = np.log10(np.maximum(steps, 1.0))
        return fit(xs), fit.param_sd(xs)

    return fit.name, mean_sd, len(fit.params)


def _two_step(series: Series, use: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[str, Callable, int] | None:
    """step -> loss (power law) -> score (sigmoid), None when the loss is missing or a fit fails."""
    loss = series.loss[use].astype(float)
    if not np.all(np.isfinite(loss)):
        return None
    loss_fit, score_fit = fit_loss(x, loss), fit_score_of_loss(loss, y)
    if loss_fit is None or score_fit is None:
        return None
    return f"two-step via {series.loss_name}", _chain(loss_fit, score_fit), len(score_fit.params)


def _chain(loss_fit: Fit, score_fit: Fit) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
    def mean_sd(steps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        xs = np.log10(np.maximum(steps, 1.0))
        loss, loss_sd = loss_fit(xs), loss_fit.param_sd(xs)
        h = 1e-4 * np.maximum(np.abs(loss), 1e-3)
        slope = (score_fit(loss + h) - score_fit(loss - h)) / (2 * h)
        return score_fit(loss), np.hypot(score_fit.param_sd(loss), slope * loss_sd)

    return mean_sd


@dataclass(frozen=True)
class TargetStep:
    """When a target is reached: the step and its interval (None: not within the horizon)."""

    step: float | None
    earliest: float | None
    latest: float | None
    reached_already: bool = False


def step_for_target(fitted: FittedSeries, target: float, level: float = 0.95) -> TargetStep:
    """First step (up to 10x the last) where the forecast reaches `target`, with the steps where the
    optimistic and the pessimistic interval bound reach it."""
    sign = 1.0 if fitted.higher_is_better else -1.0
    if sign * (fitted.last_value - target) >= 0:
        return TargetStep(fitted.last_step, fitted.last_step, fitted.last_step, reached_already=True)
    grid = np.logspace(math.log10(fitted.last_step), math.log10(fitted.last_step * TARGET_HORIZON), 2000)
    mean, low, high = fitted.predict(grid, level)
    optimistic, pessimistic = (high, low) if sign > 0 else (low, high)
    return TargetStep(_first(grid, sign * (mean - target) >= 0), _first(grid, sign * (optimistic - target) >= 0),
                      _first(grid, sign * (pessimistic - target) >= 0))


def _first(grid: np.ndarray, reached: np.ndarray) -> float | None:
    hits = np.flatnonzero(reached)
    return float(grid[hits[0]]) if len(hits) else None
