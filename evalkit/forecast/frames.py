"""The forecast views as tidy frames (one row per series, or per held-back checkpoint), what the
renderers in evalkit.report.forecast_render show. A series that cannot be forecast is a row whose
`note` says "no forecast: <why>" and whose numbers are NaN."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from evalkit.forecast.backtest import backtest
from evalkit.forecast.model import NoForecast, Series, TargetStep, fit_series, step_for_target


def _keys(series: Series) -> dict[str, Any]:
    name, task, setting, metric = (series.label.split(" / ") + ["", "", "", ""])[:4]
    return {"series": name, "task": task, "setting": setting, "metric": metric,
            "higher_is_better": series.higher_is_better}


def forecast_frame(all_series: list[Series], *, at: int | None = None, level: float = 0.95) -> pd.DataFrame:
    """Per series: the fit, and the value predicted at `at` (default 10x the last step) with its interval."""
    rows = []
    for series in all_series:
        row = _keys(series) | {"at_step": math.nan, "forecast": math.nan, "low": math.nan, "high": math.nan,
                               "method": "", "points": 0, "last_step": math.nan, "last_value": math.nan,
                               "noise_sd": math.nan, "note": ""}
        try:
            fitted = fit_series(series)
        except NoForecast as exc:
            rows.append(row | {"note": f"no forecast: {exc.reason}"})
            continue
        step = at if at is not None else 10 * fitted.last_step
        mean, low, high = (float(v[0]) for v in fitted.predict([step], level))
        rows.append(row | {"at_step": step, "forecast": mean, "low": low, "high": high, "method": fitted.method,
                           "points": fitted.points, "last_step": fitted.last_step, "last_value": fitted.last_value,
                           "noise_sd": fitted.noise_sd})
    return _with_attrs(pd.DataFrame(rows), "forecast", level)


def target_frame(all_series: list[Series], target: float, *, level: float = 0.95) -> pd.DataFrame:
    """Per series: the step at which `target` is reached, with the interval of steps."""
    rows = []
    for series in all_series:
        row = _keys(series) | {"target": target, "step": math.nan, "earliest": math.nan, "latest": math.nan,
                               "method": "", "last_step": math.nan, "last_value": math.nan, "note": ""}
        try:
            fitted = fit_series(series)
        except NoForecast as exc:
            rows.append(row | {"note": f"no forecast: {exc.reason}"})
            continue
        found = step_for_target(fitted, target, level)
        rows.append(row | {"step": _num(found.step), "earliest": _num(found.earliest), "latest": _num(found.latest),
                           "method": fitted.method, "last_step": fitted.last_step, "last_value": fitted.last_value,
                           "note": _target_note(found)})
    return _with_attrs(pd.DataFrame(rows), "target", level)


def _target_note(found: TargetStep) -> str:
    if found.reached_already:
        return "reached already (last checkpoint)"
    if found.step is None:
        return "not reached within 10x the last step"
    return "" if found.latest is not None else "upper end beyond 10x the last step"


def backtest_frame(all_series: list[Series], *, fraction: float = 0.3, level: float = 0.95) -> pd.DataFrame:
    """Per series and held-back checkpoint: fitted on steps up to `fraction` of the last step."""
    rows = []
    for series in all_series:
        until = int(fraction * float(series.steps.max()))
        result = backtest(series, until, level=level)
        base = _keys(series) | {"fit_until": until, "method": result.method, "points": result.fitted_points}
        if not result.ok:
            rows.append(base | {"step": math.nan, "actual": math.nan, "forecast": math.nan, "low": math.nan,
                                "high": math.nan, "covered": None, "last_value": math.nan, "linear": math.nan,
                                "note": result.reason})
        for p in result.held:
            rows.append(base | {"step": p.step, "actual": p.actual, "forecast": p.forecast, "low": p.low,
                                "high": p.high, "covered": p.covered, "last_value": p.last_value,
                                "linear": p.linear, "note": ""})
    frame = _with_attrs(pd.DataFrame(rows), "backtest", level)
    frame.attrs["fraction"] = fraction
    return frame


def backtest_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per series: MAE of the forecast and of the two baselines over the held-back points, and coverage."""
    done = frame[frame.note == ""]
    rows = []
    for keys, group in done.groupby(["series", "task", "setting", "metric"], sort=False):
        rows.append(dict(zip(["series", "task", "setting", "metric"], keys)) | {
            "held": len(group), "mae_forecast": _mae(group, "forecast"), "mae_last_value": _mae(group, "last_value"),
            "mae_linear": _mae(group, "linear"), "coverage": float(group.covered.astype(float).mean())})
    return pd.DataFrame(rows)


def _mae(group: pd.DataFrame, column: str) -> float:
    return float(np.mean(np.abs(group[column].astype(float) - group.actual.astype(float))))


def _num(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _with_attrs(frame: pd.DataFrame, view: str, level: float) -> pd.DataFrame:
    frame.attrs.update(view=view, level=level)
    return frame


def curve_frame(series: Series, fit_until: int, *, level: float = 0.95, points: int = 120) -> pd.DataFrame:
    """What the back-test figure draws: the observed points (fitted on / held back) and the fitted
    curve with its interval band from the first fitted step to the last checkpoint; empty when the
    series cannot be forecast."""
    try:
        fitted = fit_series(series.upto(fit_until))
    except NoForecast:
        return pd.DataFrame()
    first = float(series.steps[series.steps > 0].min())
    grid = np.logspace(math.log10(first), math.log10(float(series.steps.max())), points)
    mean, low, high = fitted.predict(grid, level)
    curve = pd.DataFrame({"kind": "fit", "step": grid, "value": mean, "low": low, "high": high})
    seen = series.steps > 0
    observed = pd.DataFrame({"kind": np.where(series.steps[seen] <= fit_until, "fitted on", "held back"),
                             "step": series.steps[seen].astype(float), "value": series.values[seen],
                             "low": math.nan, "high": math.nan})
    frame = pd.concat([observed, curve], ignore_index=True)
    frame.attrs.update(label=series.label, method=fitted.method, fit_until=fit_until, level=level)
    return frame
