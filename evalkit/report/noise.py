"""Rendering noise calibration (evalkit.compare.calibration): the flip rate / drift table of
`evalkit calibrate`, and the signal-to-noise note of a gate row whose policy names a calibration. Pure."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from evalkit.report.formatting import fmt_count, fmt_value, is_missing

if TYPE_CHECKING:
    from evalkit.report.tables import TextTable


def noise_table(frame: pd.DataFrame, nuisance: str) -> TextTable:
    """One row per cell and metric: documents, flip rate, per-document drift (mean ± sd), aggregate drift."""
    from evalkit.report.tables import TextTable

    headers = ["Model", "Task", "Setting", "Metric", "n", "flip rate", "drift mean", "drift sd", "Δ aggregate"]
    rows = [[str(row.model), str(row.task), "" if is_missing(row.setting) else str(row.setting), str(row.metric),
             fmt_count(row.n), _rate(row.flip_rate), _signed(row.drift_mean), _plain(row.drift_sd),
             _signed(row.aggregate_drift)] for row in frame.itertuples(index=False)]
    caption = ("flip rate: documents whose 0/1 score changed; drift: re-run minus source per document "
               "(n/a: corpus-level metric or not 0/1)")
    return TextTable(title=f"Noise under {nuisance}", headers=headers, rows=rows,
                     numeric=frozenset(range(4, 9)), caption=caption, optional=((0,), (2,)))


def noise_note(row: Any) -> str:
    """'; noise 0.004 (drop / noise 2.5)' for a gate row with a calibrated noise, else ''."""
    noise = row.get("noise") if hasattr(row, "get") else None
    if is_missing(noise):
        return ""
    drop = row.get("drop")
    ratio = "" if is_missing(drop) or float(noise) == 0 else f" (drop / noise {float(drop) / float(noise):.1f})"
    return f"; calibrated noise {fmt_value(noise, 4)}{ratio}"


def _rate(value: Any) -> str:
    return "n/a" if is_missing(value) else f"{float(value):.1%}"


def _signed(value: Any) -> str:
    return "n/a" if is_missing(value) else f"{float(value):+.3g}"


def _plain(value: Any) -> str:
    return "n/a" if is_missing(value) else f"{float(value):.4g}"
