"""Rendering noise calibration (evalkit.compare.calibration): the flip rate / drift table of
`evalkit calibrate` (the gate row's noise note is evalkit.report.tables.noise_note). Pure."""

from __future__ import annotations

from typing import Any

import pandas as pd

from evalkit.report.formatting import fmt_count, is_missing
from evalkit.report.tables import TextTable


def noise_table(frame: pd.DataFrame, nuisance: str) -> TextTable:
    """One row per cell and metric: documents, flip rate, per-document drift (mean ± sd), aggregate drift."""
    headers = ["Model", "Task", "Setting", "Metric", "n", "flip rate", "drift mean", "drift sd", "Δ aggregate"]
    rows = [[str(row.model), str(row.task), "" if is_missing(row.setting) else str(row.setting), str(row.metric),
             fmt_count(row.n), _rate(row.flip_rate), _signed(row.drift_mean), _plain(row.drift_sd),
             _signed(row.aggregate_drift)] for row in frame.itertuples(index=False)]
    caption = ("flip rate: documents whose 0/1 score changed; drift: re-run minus source per document "
               "(n/a: corpus-level metric or not 0/1)")
    return TextTable(title=f"Noise under {nuisance}", headers=headers, rows=rows,
                     numeric=frozenset(range(4, 9)), caption=caption, optional=((0,), (2,)))



def _rate(value: Any) -> str:
    return "n/a" if is_missing(value) else f"{float(value):.1%}"


def _signed(value: Any) -> str:
    return "n/a" if is_missing(value) else f"{float(value):+.3g}"


def _plain(value: Any) -> str:
    return "n/a" if is_missing(value) else f"{float(value):.4g}"
