"""`--format github`: GitHub Actions workflow commands for a gate, escaped as GitHub's toolkit escapes them."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from evalkit.compare.result import ROW_COLUMNS, Comparison, GateOutcome
from evalkit.report import ReportDocument, render
from evalkit.report.github import escape_data, escape_property, workflow_command
from evalkit.report.markdown import render_markdown

ODD_TASK = "50%: a,b\nc\r"  # every character GitHub's escaping touches
_ROWS = [  # (task, verdict, tier, drop, drop_low, drop_high, reason)
    ("sst2", "FAIL", "required", 0.15, 0.08, 0.22, "Dropped beyond the tolerance, significantly."),
    ("rte", "FAIL", "advisory", 0.05, 0.02, 0.08, "Dropped beyond the tolerance, significantly."),
    (ODD_TASK, "INCONCLUSIVE", "required", 0.02, -0.01, 0.05, "The interval spans 100% of it:\nunsure."),
    ("cb", "PASS", "required", 0.0, -0.02, 0.009, "Within the tolerance."),
    ("copa", "NOT GATED", "required", float("nan"), float("nan"), float("nan"), "A corpus-level metric."),
]


def _rows() -> pd.DataFrame:
    """Comparison rows with every column a comparison has, and the gate's."""
    blank = dict.fromkeys(ROW_COLUMNS) | dict(model_a="tiny", model_b="tiny", n=200, method="mcnemar", mde=0.05)
    records = [blank | dict(a="base", b="cand", model="tiny", task=task, setting="zero-shot", metric="acc",
                    higher_is_better=True, value_a=0.8, value_b=0.8 - drop if drop == drop else 0.8,
                    delta=-drop, ci_low=-drop_high, ci_high=-drop_low, p_value=0.01, p_adjusted=0.02,
                    change="worse", verdict=verdict, tier=tier, tolerance=0.01, drop=drop,
                    drop_low=drop_low, drop_high=drop_high, reason=reason)
               for task, verdict, tier, drop, drop_low, drop_high, reason in _ROWS]
    return pd.DataFrame.from_records(records)


def _gate_doc(verdict: str = "NO-GO", missing: tuple[str, ...] = (), warnings: tuple[str, ...] = ()) -> ReportDocument:
    comparison = Comparison(rows=_rows(), flips=pd.DataFrame(), labels=["base", "cand"], kind="runs",
                            correction="holm", alpha=0.05, confidence=0.95, warnings=list(warnings))
    rows = comparison.rows
    failing = rows[(rows.verdict == "FAIL") & (rows.tier == "required")].reset_index(drop=True)
    outcome = GateOutcome(comparison=comparison, max_drop=0.01, verdict=verdict, failing=failing,
                          missing=list(missing))
    return ReportDocument(title="evalkit gate: cand against baseline base", gate=outcome)


def test_escaping_matches_the_toolkit() -> None:
    assert escape_data("100%\r\n: ,") == "100%25%0D%0A: ,"
    assert escape_property("100%\r\n: ,") == "100%25%0D%0A%3A %2C"
    assert escape_property("%3A") == "%253A"  # '%' first: an escape already in the text stays text


def test_workflow_command_leaves_out_empty_properties() -> None:
    assert workflow_command("error", "m", title="t", file="") == "::error title=t::m"
    assert workflow_command("notice", "a:b") == "::notice::a:b"


def test_gate_lines_are_exact() -> None:
    lines = render(_gate_doc(), "github").splitlines()
    assert lines == [
        "::error title=FAIL%3A tiny / sst2 / zero-shot / acc::Dropped beyond the tolerance, significantly. "
        "Baseline 0.800, candidate 0.650; drop 0.150 [0.080, 0.220], tolerance 0.01.",
        "::warning title=FAIL (advisory)%3A tiny / rte / zero-shot / acc::Dropped beyond the tolerance, "
        "significantly. Baseline 0.800, candidate 0.750; drop 0.050 [0.020, 0.080], tolerance 0.01.",
        "::warning title=INCONCLUSIVE%3A tiny / 50%25%3A a%2Cb%0Ac%0D / zero-shot / acc::The interval spans "
        "100%25 of it:%0Aunsure. Baseline 0.800, candidate 0.780; drop 0.020 [-0.010, 0.050], tolerance 0.01.",
        "::notice title=evalkit gate%3A NO-GO::evalkit gate: cand against baseline base: "
        "2 FAIL, 1 INCONCLUSIVE, 1 PASS, 1 NOT GATED.",
    ]


def test_every_message_percent_is_escaped() -> None:
    """No line holds a bare '%' (the runner would decode '%0A' in a task name as a newline)."""
    for line in render(_gate_doc(), "github").splitlines():
        assert "\n" not in line and "\r" not in line
        assert all(line[i + 1:i + 3] in ("25", "0A", "0D", "3A", "2C") for i, c in enumerate(line) if c == "%")


def test_one_error_per_required_failure_and_per_missing_result() -> None:
    doc = _gate_doc(missing=("tiny / boolq / zero-shot (no cell in the candidate)",),
                    warnings=("missing: tiny / boolq / zero-shot (no cell in the candidate)", "versions differ"))
    lines = render(doc, "github").splitlines()
    errors = [line for line in lines if line.startswith("::error ")]
    assert errors[0].startswith("::error title=FAIL%3A tiny / sst2")
    assert errors[1] == ("::error title=missing result::Missing from the candidate: tiny / boolq / zero-shot "
                         "(no cell in the candidate)")
    assert len(errors) == 2
    assert "::warning title=evalkit::versions differ" in lines  # the missing result is not repeated as a warning
    assert lines[-1].endswith("2 FAIL, 1 INCONCLUSIVE, 1 PASS, 1 NOT GATED, 1 missing.")


@pytest.mark.parametrize("verdict", ["GO", "INCONCLUSIVE"])
def test_the_suite_verdict_is_the_last_line_a_notice(verdict: str) -> None:
    assert render(_gate_doc(verdict), "github").splitlines()[-1].startswith(
        f"::notice title=evalkit gate%3A {verdict}::")


def test_a_comparison_without_a_gate_warns_for_each_change_for_the_worse() -> None:
    rows = _rows().assign(change=["worse", "", "better", "", ""])
    comparison = Comparison(rows=rows, flips=pd.DataFrame(), labels=["base", "cand"], kind="runs",
                            correction="holm", alpha=0.05, confidence=0.95)
    lines = render(ReportDocument(title="evalkit compare", comparisons=(comparison,)), "github").splitlines()
    assert lines == ["::warning title=worse%3A tiny / sst2 / zero-shot / acc (cand against base)::"
                     "B - A = -0.150 [-0.220, -0.080], p adj 0.020; 0.800 -> 0.650.",
                     "::notice title=evalkit compare::base vs cand: 5 compared rows, 1 significantly worse, 1 better."]


def test_the_markdown_report_of_a_gate_starts_with_its_comment_marker() -> None:
    doc = replace(_gate_doc(), comment_id="nightly-gpu")
    assert render_markdown(doc).splitlines()[0] == "<!-- evalkit-gate: nightly-gpu -->"
    assert render_markdown(replace(doc, gate=None)).startswith("## ")  # only a gate's report is such a comment
