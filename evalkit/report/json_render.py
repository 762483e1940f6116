"""JSON rendering: the document's DataFrames as records, NaN as null, for scripts and dashboards."""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd

from evalkit.compare.result import Comparison
from evalkit.report.document import ReportDocument

REPORT_FORMAT = "evalkit-report"
REPORT_VERSION = 1


def records(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
    """DataFrame rows as JSON-safe dicts (numpy scalars unwrapped, NaN -> None)."""
    if frame is None:
        return []
    return [{k: _plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _plain(value: Any) -> Any:
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _comparison(comparison: Comparison) -> dict[str, Any]:
    return {"kind": comparison.kind, "labels": comparison.labels, "correction": comparison.correction,
            "alpha": comparison.alpha, "confidence": comparison.confidence, "warnings": comparison.warnings,
            "notes": comparison.notes, "rows": records(comparison.rows), "flips": records(comparison.flips)}


def render_json(doc: ReportDocument) -> str:
    """The whole document as an indented JSON object (ends with a newline)."""
    out: dict[str, Any] = {"format": REPORT_FORMAT, "version": REPORT_VERSION, "title": doc.title,
                           "warnings": doc.all_warnings}
    if doc.results is not None:
        out["results"] = records(doc.results)
    if doc.gate is not None:
        out["gate"] = {"verdict": doc.gate.verdict, "passed": doc.gate.passed, "max_drop": doc.gate.max_drop,
                       "policy": doc.gate.policy_source, "alpha": doc.gate.alpha,
                       "failing": records(doc.gate.failing), "inconclusive": records(doc.gate.inconclusive),
                       "missing": doc.gate.missing}
    out["comparisons"] = [_comparison(c) for c in doc.all_comparisons]
    if doc.studies:
        from evalkit.report.study_render import study_payload

        out["studies"] = [study_payload(s.frame, s.view, s.title) for s in doc.studies]
    return json.dumps(out, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
