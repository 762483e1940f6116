"""The forecast renderers: every format from the same frame; a no-forecast row says why."""

from __future__ import annotations

import io
import json

import numpy as np
from rich.console import Console

from evalkit.forecast import Series
from evalkit.forecast.curves import sigmoid_log_step
from evalkit.forecast.frames import backtest_frame, curve_frame, forecast_frame
from evalkit.report.forecast_render import render_forecast

STEPS = np.array([0, 10, 30, 100, 300, 1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000])


def _series() -> list[Series]:
    rising = sigmoid_log_step(np.log10(np.maximum(STEPS, 1)), 0.25, 0.8, 1.5, 3.5)
    rising = rising + np.random.default_rng(0).normal(0, 0.003, len(STEPS))
    flat = np.full(len(STEPS), 0.25) + np.random.default_rng(1).normal(0, 0.003, len(STEPS))
    se = np.full(len(STEPS), 0.01)
    return [Series("m / up / zero-shot / acc", STEPS, rising, se), Series("m / flat / zero-shot / acc", STEPS, flat, se)]


def test_forecast_rows_in_every_format() -> None:
    frame = forecast_frame(_series(), at=256000)
    text = render_forecast(frame, "markdown", title="t")
    assert "| m | up | zero-shot | acc | 128,000 |" in text and "| 256,000 |" in text
    assert "no forecast: no trend" in text
    rows = json.loads(render_forecast(frame, "json", title="t"))["rows"]
    assert rows[0]["low"] < rows[0]["forecast"] < rows[0]["high"] and rows[1]["forecast"] is None
    out = io.StringIO()
    Console(file=out, width=200, color_system=None).print(render_forecast(frame, "rich", title="t"))
    assert "95% prediction interval" in out.getvalue() and "no forecast: no trend" in out.getvalue()


def test_the_backtest_page_draws_one_figure_per_forecast_series() -> None:
    series = _series()
    frame = backtest_frame(series, fraction=0.1)
    curves = [curve_frame(s, 12800) for s in series]
    assert curves[1].empty and set(curves[0].kind) == {"fitted on", "held back", "fit"}
    page = render_forecast(frame, "html", title="t", curves=curves)
    assert page.count("data:image/png;base64,") == 1 and "Back-test" in page
