"""Where a training run is heading: fit a checkpoint series, predict a later step or the step a
target is reached with a prediction interval, and back-test the forecast against plain baselines."""

from evalkit.forecast.backtest import Backtest, HeldPoint, backtest
from evalkit.forecast.model import FittedSeries, NoForecast, Series, TargetStep, fit_series, step_for_target

__all__ = ["Backtest", "FittedSeries", "HeldPoint", "NoForecast", "Series", "TargetStep", "backtest", "fit_series",
           "step_for_target"]
