from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET

import pandas as pd
import pytest

from evalkit.report import ReportDocument, render
from evalkit.report.formatting import fmt_delta, fmt_estimate, fmt_p, tail_text
from evalkit.report.tables import results_table


def test_formatting_of_numbers() -> None:
    assert fmt_delta(-0.15, -0.2001, -0.0994) == "-0.150 [-0.200, -0.099]"
    assert fmt_delta(0.1, math.nan, math.nan) == "+0.100"
    assert (fmt_p(0.0004), fmt_p(0.0312), fmt_p(None)) == ("<0.001", "0.031", "n/a")
    assert fmt_estimate(0.61, 0.578, 0.642, 872) == "0.610 ± 0.032 (n=872)"
    assert fmt_estimate(0.61, None, None, 5) == "0.610 (n=5)"
    assert tail_text("x" * 10 + "question?", limit=9) == "…question?"


def _results() -> pd.DataFrame:
    return pd.DataFrame({
        "model": ["m", "m", "m"], "task": ["rte", "rte", "sst2"], "setting": ["zero-shot", "fine-tuned", "zero-shot"],
        "metric": ["acc"] * 3, "value": [0.5, 0.8, 0.7], "stderr": [0.05, 0.04, 0.03],
        "ci_low": [0.4, 0.72, math.nan], "ci_high": [0.6, 0.88, math.nan], "n": [100, 100, 50],
        "higher_is_better": [True] * 3})


def test_results_table_puts_models_and_settings_down_and_tasks_across() -> None:
    table = results_table(_results())
    assert table is not None
    assert table.headers == ["Model", "Setting", "rte acc (n=100)", "sst2 acc (n=50)"]
    assert table.rows == [["m", "zero-shot", "0.500 ± 0.100", "0.700"],
                          ["m", "fine-tuned", "0.800 ± 0.080", ""]]


def test_results_table_keeps_n_in_the_cell_when_it_differs() -> None:
    table = results_table(_results().assign(n=[100, 90, 50]))
    assert table is not None
    assert table.headers[2] == "rte acc" and table.rows[1][2] == "0.800 ± 0.080 (n=90)"


def test_json_report_has_results_with_nan_as_null() -> None:
    doc = json.loads(render(ReportDocument(title="r", results=_results()), "json"))
    assert (doc["format"], doc["version"], doc["comparisons"]) == ("evalkit-report", 1, [])
    assert doc["results"][2]["ci_low"] is None and doc["results"][0]["n"] == 100


def test_junit_for_plain_results_has_one_passing_case_per_task_and_metric() -> None:
    root = ET.fromstring(render(ReportDocument(title="r", results=_results()), "junit"))
    cases = root.findall("testsuite/testcase")
    assert [c.get("name") for c in cases] == ["m / rte / zero-shot / acc", "m / rte / fine-tuned / acc",
                                              "m / sst2 / zero-shot / acc"]
    assert root.get("failures") == "0"


def test_junit_for_a_gate_fails_the_regressed_case_only(gate_doc: ReportDocument) -> None:
    root = ET.fromstring(render(gate_doc, "junit"))
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert set(cases) == {"tiny-model / sst2 / zero-shot / acc", "tiny-model / rte / zero-shot / acc"}
    failure = cases["tiny-model / sst2 / zero-shot / acc"].find("failure")
    assert failure is not None and "doc 120" in (failure.text or "")
    assert cases["tiny-model / rte / zero-shot / acc"].find("failure") is None


def test_junit_without_gate_fails_significant_worsening(three_runs_doc: ReportDocument) -> None:
    root = ET.fromstring(render(three_runs_doc, "junit"))
    failed = [c.get("classname") + ":" + c.get("name") for c in root.iter("testcase") if c.find("failure") is not None]
    assert failed == ["evalkit.base.vs.drop:tiny-model / sst2 / zero-shot / acc"]


def test_json_gate_report_lists_failing_rows_and_flips(gate_doc: ReportDocument) -> None:
    doc = json.loads(render(gate_doc, "json"))
    gate = doc["gate"]
    assert {k: gate[k] for k in ("verdict", "passed", "max_drop", "missing", "alpha")} == {
        "verdict": "NO-GO", "passed": False, "max_drop": 0.01, "missing": [], "alpha": 0.05}
    assert [r["task"] for r in gate["failing"]] == ["sst2"] and [r["task"] for r in gate["inconclusive"]] == ["rte"]
    rows = doc["comparisons"][0]["rows"]
    assert [r["regression"] for r in rows] == [True, False]
    assert [r["verdict"] for r in rows] == ["FAIL", "INCONCLUSIVE"]
    assert all(r["reason"] and r["drop_low"] <= r["drop"] <= r["drop_high"] for r in rows)
    assert rows[0]["p_value"] == pytest.approx(2 * 0.5**30)


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown report format"):
        render(ReportDocument(title="x"), "pdf")


def test_results_table_keeps_both_models_of_one_label_from_an_old_store() -> None:
    frame = pd.concat([_results().assign(model_fingerprint="aaaaaaaa11"),
                       _results().assign(model_fingerprint="bbbbbbbb22", value=[0.1, 0.2, 0.3])])
    table = results_table(frame)
    assert table is not None
    assert [row[:2] for row in table.rows] == [["m (aaaaaaaa)", "zero-shot"], ["m (aaaaaaaa)", "fine-tuned"],
                                               ["m (bbbbbbbb)", "zero-shot"], ["m (bbbbbbbb)", "fine-tuned"]]
    assert table.rows[2][2:] == ["0.100 ± 0.100", "0.300"]
