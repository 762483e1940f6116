"""Curves a training trajectory is fitted with, and the fits themselves (scipy.optimize.curve_fit).

Direct: the score against x = log10(step), a sigmoid (rising to a plateau) or a saturating power
law in the step, the one with the lower AIC. Two-step (Bhagia et al. 2024, arXiv 2412.04403): a
language-modelling loss against the step (a power law plus a floor), then the score against that
loss (a sigmoid); the forecast at a step is the score at the loss predicted for that step.
Every fit returns its parameters and their covariance, so a prediction carries its parameter
uncertainty (delta method) beside the checkpoint-to-checkpoint noise (evalkit.forecast.model).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np

Curve = Callable[..., np.ndarray]


def sigmoid_log_step(x: np.ndarray, low: float, high: float, rate: float, mid: float) -> np.ndarray:
    """A score rising (rate > 0) or falling from `low` to `high` around log10-step `mid`."""
    return low + (high - low) / (1.0 + np.exp(-rate * (x - mid)))


def power_log_step(x: np.ndarray, limit: float, scale: float, alpha: float) -> np.ndarray:
    """limit - scale * step^(-alpha), written in x = log10(step): a score approaching `limit`."""
    return limit - scale * np.power(10.0, -alpha * x)


def loss_power(x: np.ndarray, floor: float, scale: float, alpha: float) -> np.ndarray:
    """A loss falling as a power of the step toward `floor` (x = log10(step))."""
    return floor + scale * np.power(10.0, -alpha * x)


def sigmoid_loss(loss: np.ndarray, low: float, high: float, rate: float, mid: float) -> np.ndarray:
    """The score as a sigmoid of the loss: `high` at low loss, `low` at high loss."""
    return low + (high - low) / (1.0 + np.exp(rate * (loss - mid)))


@dataclass(frozen=True)
class Fit:
    """One fitted curve: its function, parameters, their covariance and how well it fits."""

    name: str
    curve: Curve
    params: np.ndarray
    cov: np.ndarray
    aic: float

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.curve(np.asarray(x, dtype=float), *self.params)

    def param_sd(self, x: np.ndarray) -> np.ndarray:
        """Standard deviation of the fitted value at x from the parameters' covariance (delta method)."""
        x = np.atleast_1d(np.asarray(x, dtype=float))
        grad = np.empty((len(x), len(self.params)))
        for i, p in enumerate(self.params):
            h = 1e-6 * max(abs(p), 1e-3)
            up, down = self.params.copy(), self.params.copy()
            up[i], down[i] = p + h, p - h
            grad[:, i] = (self.curve(x, *up) - self.curve(x, *down)) / (2 * h)
        var = np.einsum("ij,jk,ik->i", grad, self.cov, grad)
        return np.sqrt(np.clip(var, 0.0, None))


def fit_curve(name: str, curve: Curve, x: np.ndarray, y: np.ndarray, p0: list[float],
              bounds: tuple[list[float], list[float]]) -> Fit | None:
    """Least-squares fit, None when it does not converge or its covariance is not finite."""
    from scipy.optimize import OptimizeWarning, curve_fit

    if len(x) <= len(p0):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            params, cov = curve_fit(curve, x, y, p0=p0, bounds=bounds, maxfev=20000)
    except (RuntimeError, ValueError):
        return None
    if not np.all(np.isfinite(cov)):
        return None
    rss = float(np.sum((curve(x, *params) - y) ** 2))
    return Fit(name, curve, params, cov, _aic(rss, len(x), len(params)))


def _aic(rss: float, n: int, k: int) -> float:
    """Gaussian AIC with the small-sample correction (AICc) where it is defined."""
    base = n * math.log(max(rss, 1e-300) / n) + 2 * k
    return base + (2 * k * (k + 1) / (n - k - 1) if n - k - 1 > 0 else math.inf)


def fit_direct(x: np.ndarray, y: np.ndarray) -> Fit | None:
    """The score against log10-step: sigmoid or saturating power law, the lower AICc; None if neither fits."""
    span = float(np.ptp(y)) or 1e-3
    rising = bool(np.polyfit(x, y, 1)[0] >= 0)
    lo, hi = (float(y.min()), float(y.max())) if rising else (float(y.max()), float(y.min()))
    fits = [
        fit_curve("sigmoid in log-step", sigmoid_log_step, x, y, [lo, hi + 0.1 * span * (1 if rising else -1), 2.0,
                  float(np.median(x))], ([-np.inf, -np.inf, 0.0, -5.0], [np.inf, np.inf, 50.0, 15.0])),
        fit_curve("power law in step", power_log_step, x, y,
                  [hi, (hi - lo) if rising else (hi - lo), 0.3], ([-np.inf, -np.inf, 1e-4], [np.inf, np.inf, 5.0])),
    ]
    fits = [f for f in fits if f is not None]
    return min(fits, key=lambda f: f.aic) if fits else None


def fit_loss(x: np.ndarray, loss: np.ndarray) -> Fit | None:
    """The language-modelling loss against log10-step: power law with a floor."""
    lo, hi = float(loss.min()), float(loss.max())
    return fit_curve("loss power law", loss_power, x, loss, [0.8 * lo, max(hi - 0.8 * lo, 1e-3), 0.3],
                     ([0.0, 0.0, 1e-4], [np.inf, np.inf, 5.0]))


def fit_score_of_loss(loss: np.ndarray, y: np.ndarray) -> Fit | None:
    """The score against the loss: a sigmoid, lower loss giving the higher score."""
    span = float(np.ptp(y)) or 1e-3
    return fit_curve("sigmoid in loss", sigmoid_loss, loss, y,
                     [float(y.min()), float(y.max()) + 0.1 * span, 2.0, float(np.median(loss))],
                     ([-np.inf, -np.inf, 0.0, -np.inf], [np.inf, np.inf, 100.0, np.inf]))
