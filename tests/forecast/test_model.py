"""The forecast fits on synthetic series with a known curve: recovery, intervals, refusals, targets."""

from __future__ import annotations

import numpy as np
import pytest

from evalkit.forecast import NoForecast, Series, backtest, fit_series, step_for_target
from evalkit.forecast.curves import loss_power, power_log_step, sigmoid_log_step, sigmoid_loss

STEPS = np.array([0, 10, 30, 100, 300, 1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000])


def _series(values: np.ndarray, stderr: float = 0.01, loss: np.ndarray | None = None, steps=STEPS) -> Series:
    return Series("s / t / zero-shot / acc", steps, values, np.full(len(steps), stderr), True, loss,
                  "synthetic loss" if loss is not None else None)


def _sigmoid(steps: np.ndarray) -> np.ndarray:
    return sigmoid_log_step(np.log10(np.maximum(steps, 1)), 0.25, 0.80, 1.5, 3.5)


def test_a_sigmoid_in_log_step_is_recovered_and_extrapolated() -> None:
    rng = np.random.default_rng(0)
    fitted = fit_series(_series(_sigmoid(STEPS) + rng.normal(0, 0.003, len(STEPS))))
    mean, low, high = fitted.predict([1_000_000])
    truth = _sigmoid(np.array([1_000_000]))[0]
    assert abs(mean[0] - truth) < 0.02
    assert low[0] <= truth <= high[0]
    assert 0.001 < fitted.noise_sd < 0.01  # the noise put in (0.003), read from consecutive residuals


def test_a_two_step_fit_goes_through_the_loss() -> None:
    x = np.log10(np.maximum(STEPS, 1))
    loss = loss_power(x, 2.0, 6.0, 0.35)
    score = sigmoid_loss(loss, 0.25, 0.85, 3.0, 3.2)
    fitted = fit_series(_series(score + np.random.default_rng(1).normal(0, 0.002, len(STEPS)), loss=loss))
    assert fitted.method == "two-step via synthetic loss"
    truth = sigmoid_loss(loss_power(np.log10(1e6), 2.0, 6.0, 0.35), 0.25, 0.85, 3.0, 3.2)
    assert abs(fitted.predict([1e6])[0][0] - truth) < 0.03


def test_intervals_cover_at_roughly_the_nominal_rate() -> None:
    """A small simulation: power-law series with noise, fitted on steps <= 16000, the last step predicted."""
    rng = np.random.default_rng(7)
    x = np.log10(np.maximum(STEPS, 1))
    truth = power_log_step(x, 0.7, 0.5, 0.4)
    covered = []
    for _ in range(60):
        result = backtest(_series(truth + rng.normal(0, 0.01, len(STEPS))), 16000, predict_steps=[128000], level=0.9)
        assert result.ok, result.reason
        covered.append(result.held[0].low <= truth[-1] <= result.held[0].high)
    assert 0.75 <= np.mean(covered) <= 1.0


@pytest.mark.parametrize("values, steps, reason", [
    (np.array([0.2, 0.3, 0.4]), np.array([0, 10, 100]), "fewer than 4 checkpoints"),
    (np.array([0.25, 0.26, 0.24, 0.25, 0.26, 0.24, 0.25, 0.26]), STEPS[:8], "no trend"),
])
def test_no_forecast_says_why(values: np.ndarray, steps: np.ndarray, reason: str) -> None:
    with pytest.raises(NoForecast, match=reason):
        fit_series(_series(values, steps=steps))


def test_a_series_still_at_the_untrained_level_gets_no_forecast() -> None:
    values = 0.25 + 0.004 * np.log10(np.maximum(STEPS, 1))  # a trend, but 0.02 above step 0 with se 0.02
    with pytest.raises(NoForecast, match="at chance level"):
        fit_series(_series(values, stderr=0.02))


def test_the_step_of_a_target_comes_with_an_interval_or_is_not_reached() -> None:
    rng = np.random.default_rng(3)
    x = np.log10(np.maximum(STEPS, 1))
    fitted = fit_series(_series(power_log_step(x, 0.9, 0.8, 0.25) + rng.normal(0, 0.002, len(STEPS))))
    target = float(power_log_step(np.log10(400_000), 0.9, 0.8, 0.25))
    found = step_for_target(fitted, target)
    assert found.step is not None and 200_000 < found.step < 800_000
    assert found.earliest is not None and found.earliest <= found.step
    assert step_for_target(fitted, 0.95).step is None  # above the plateau: not within 10x
    assert step_for_target(fitted, 0.1).reached_already
