"""Pure renderers of the forecast views (evalkit.forecast.frames): a frame in, a rich renderable or
text out, every format from the same TextTables (rich through evalkit.report.rich_fit, markdown),
JSON from the frame's rows. HTML: the back-test figure (evalkit.report.forecast_figure)."""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd
from rich.console import Group
from rich.text import Text

from evalkit.report.json_render import records
from evalkit.report.markdown import md_escape, md_table
from evalkit.report.rich_render import rich_table
from evalkit.report.tables import TextTable

FORECAST_FORMATS = ("rich", "markdown", "json", "html")
JSON_VERSION = 1


def render_forecast(frame: pd.DataFrame, fmt: str, *, title: str, summary: pd.DataFrame | None = None,
                    curves: list[pd.DataFrame] | None = None) -> Any:
    """The forecast, target or back-test frame: a rich renderable for 'rich', a string otherwise;
    html draws `curves` (evalkit.forecast.frames.curve_frame) as figures."""
    tables = forecast_tables(frame, summary)
    if fmt == "rich":
        return Group(Text(title, style="bold"), *(rich_table(t) for t in tables))
    if fmt == "markdown":
        return "\n\n".join([f"## {md_escape(title)}"] + [md_table(t) for t in tables]) + "\n"
    if fmt == "json":
        payload = {"format": f"evalkit-{frame.attrs.get('view', 'forecast')}", "version": JSON_VERSION,
                   "title": title, "level": frame.attrs.get("level"), "rows": records(frame),
                   "summary": records(summary) if summary is not None else None}
        return json.dumps(payload, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    if fmt == "html":
        return _html(title, tables, curves or [])
    raise ValueError(f"unknown forecast format {fmt!r}; choose one of: {', '.join(FORECAST_FORMATS)}")


def _html(title: str, tables: list[TextTable], curves: list[pd.DataFrame]) -> str:
    """One self-contained page through the report template: the figures, then the tables."""
    from evalkit.report.forecast_figure import forecast_figures
    from evalkit.report.html import Section
    from evalkit.report.html_template import REPORT_TEMPLATE
    from evalkit.report.study_render import html_environment

    env, render_table = html_environment()
    section = Section("Forecast", tables=tables, figures=list(forecast_figures(curves)))
    return env.from_string(REPORT_TEMPLATE).render(title=title, warnings=[], gate_lines=[], gate_passed=False,
                                                   sections=[section], render_table=render_table)


def forecast_tables(frame: pd.DataFrame, summary: pd.DataFrame | None = None) -> list[TextTable]:
    view, level = frame.attrs.get("view", "forecast"), float(frame.attrs.get("level", 0.95))
    if view == "target":
        return [_target_table(frame, level)]
    if view == "backtest":
        return [_backtest_table(frame, level)] + ([_summary_table(summary, level)] if summary is not None else [])
    return [_forecast_table(frame, level)]


def _what(row: dict[str, Any]) -> list[str]:
    return [str(row["series"]), str(row["task"]), str(row["setting"]), str(row["metric"])]


_KEYS = ["Series", "Task", "Setting", "Metric"]


def _forecast_table(frame: pd.DataFrame, level: float) -> TextTable:
    rows = [_what(r) + [_step(r["last_step"]), _num(r["last_value"]), _step(r["at_step"]), _num(r["forecast"]),
                        _interval(r["low"], r["high"]), str(r["method"]), str(r["note"])]
            for r in frame.to_dict("records")]
    return TextTable(title="Forecasts", headers=_KEYS + ["Last step", "Last value", "At step", "Forecast",
                                                         f"{level:.0%} prediction interval", "Fit", "Note"],
                     rows=rows, numeric=frozenset({4, 5, 6, 7}), whole=frozenset({8}),
                     caption="Interval: the series' checkpoint-to-checkpoint noise plus the fit's own uncertainty.")


def _target_table(frame: pd.DataFrame, level: float) -> TextTable:
    rows = [_what(r) + [_num(r["target"]), _step(r["last_step"]), _num(r["last_value"]), _step(r["step"]),
                        _step_range(r["earliest"], r["latest"]), str(r["method"]), str(r["note"])]
            for r in frame.to_dict("records")]
    return TextTable(title="When the target is reached", headers=_KEYS + [
        "Target", "Last step", "Last value", "Step", f"{level:.0%} interval (steps)", "Fit", "Note"],
        rows=rows, numeric=frozenset({4, 5, 6, 7}), whole=frozenset({8}))


def _backtest_table(frame: pd.DataFrame, level: float) -> TextTable:
    rows = [_what(r) + [_step(r["fit_until"]), _step(r["step"]), _num(r["actual"]), _num(r["forecast"]),
                        _interval(r["low"], r["high"]), _covered(r["covered"]), _num(r["last_value"]),
                        _num(r["linear"]), str(r["note"] or r["method"])]
            for r in frame.to_dict("records")]
    return TextTable(title="Back-test (fitted up to the step shown, held-back checkpoints predicted)",
                     headers=_KEYS + ["Fit until", "Step", "Actual", "Forecast", f"{level:.0%} interval",
                                      "Covered", "Last value", "Linear log-step", "Fit / note"],
                     rows=rows, numeric=frozenset({4, 5, 6, 7, 10, 11}), whole=frozenset({9}))


def _summary_table(summary: pd.DataFrame, level: float) -> TextTable:
    rows = [_what(r) + [str(int(r["held"])), _num(r["mae_forecast"]), _num(r["mae_last_value"]),
                        _num(r["mae_linear"]), f"{r['coverage']:.0%}"] for r in summary.to_dict("records")]
    return TextTable(title="Back-test summary (mean absolute error over the held-back checkpoints)",
                     headers=_KEYS + ["Held back", "MAE forecast", "MAE last value", "MAE linear log-step",
                                      f"{level:.0%} coverage"], rows=rows, numeric=frozenset({4, 5, 6, 7, 8}))


def _num(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{float(value):.4g}"


def _step(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{float(value):,.0f}"


def _interval(low: Any, high: Any) -> str:
    return "—" if _num(low) == "—" else f"[{_num(low)}, {_num(high)}]"


def _step_range(low: Any, high: Any) -> str:
    if _step(low) == "—":
        return "—"
    return f"[{_step(low)}, {_step(high) if _step(high) != '—' else '>10x last'}]"


def _covered(value: Any) -> str:
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else ("yes" if value else "no")
