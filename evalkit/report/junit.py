"""JUnit XML rendering for CI test reports: one test case per (model, task, setting, metric).

A comparison row fails when it is a gate regression, or (without a gate) a significant change
for the worse; a row without a test (a corpus-level metric) is skipped. Plain results (no comparison) give passing cases that carry the value."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pandas as pd

from evalkit.compare.result import Comparison
from evalkit.report.document import ReportDocument
from evalkit.report.formatting import fmt_delta, fmt_estimate, fmt_mde, fmt_p, fmt_value, is_missing, tail_text
from evalkit.report.tables import REGRESSION

NOT_TESTED = "not tested (no per-document scores; compared on aggregates only, never gated)"
# Characters XML 1.0 cannot hold at all, even escaped; model output may contain them.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """Text with the characters XML 1.0 forbids replaced by U+FFFD."""
    return _XML_INVALID.sub("\ufffd", text)


def _case_name(row: pd.Series | dict) -> str:
    parts = [row.get("model"), row.get("task"), row.get("setting"), row.get("metric")]
    return xml_safe(" / ".join(str(p) for p in parts if not is_missing(p)))


def _results_suite(frame: pd.DataFrame) -> ET.Element:
    suite = ET.Element("testsuite", name="evalkit results")
    for row in frame.to_dict("records"):
        case = ET.SubElement(suite, "testcase", classname=xml_safe(f"evalkit.{row.get('run', 'run')}"),
                             name=_case_name(row))
        ET.SubElement(case, "system-out").text = fmt_estimate(row["value"], row["ci_low"], row["ci_high"], row["n"])
    return suite


def _failed(row: pd.Series) -> bool:
    if "verdict" in row.index:
        return row.verdict == "FAIL"
    if "regression" in row.index:
        return bool(row["regression"])
    return row.change == "worse"


def _flip_text(comparison: Comparison, row: pd.Series) -> str:
    keys = ["a", "b", "model", "task", "setting", "metric"]
    flips = comparison.flips
    lines = []
    for flip in flips.to_dict("records"):
        if all(flip[k] == row[k] or (is_missing(flip[k]) and is_missing(row[k])) for k in keys):
            lines.append(f"[{flip['direction']}] doc {flip['doc_id']}: prompt={tail_text(flip['prompt'], 120)!r} "
                         f"target={tail_text(flip['target'], 80)!r} A={tail_text(flip['prediction_a'], 80)!r} "
                         f"B={tail_text(flip['prediction_b'], 80)!r}")
    return xml_safe("\n".join(lines))


def _comparison_suite(comparison: Comparison) -> ET.Element:
    suite = ET.Element("testsuite", name=xml_safe(f"evalkit compare: {' vs '.join(comparison.labels)}"))
    for _, row in comparison.rows.iterrows():
        case = ET.SubElement(suite, "testcase", classname=xml_safe(f"evalkit.{row.a}.vs.{row.b}"),
                             name=_case_name(row))
        summary = (f"{fmt_value(row.value_a)} -> {fmt_value(row.value_b)}, delta "
                   f"{fmt_delta(row.delta, row.ci_low, row.ci_high)}, p adj {fmt_p(row.p_adjusted)}, "
                   f"MDE {fmt_mde(row.mde, not is_missing(row.p_value))}, n {row.n}, {row.method}")
        if "verdict" in row.index:
            summary += f"; {row.verdict}: {row.reason}"
        if _failed(row):
            kind = ("FAIL" if "verdict" in row.index else REGRESSION if "regression" in row.index
                    else "significant change for the worse")
            failure = ET.SubElement(case, "failure", message=xml_safe(f"{kind}: {summary}"), type=kind)
            failure.text = _flip_text(comparison, row) or xml_safe(summary)
        elif "verdict" in row.index and row.verdict == "INCONCLUSIVE":  # neither passed nor failed: an error
            ET.SubElement(case, "error", message=xml_safe(f"INCONCLUSIVE: {summary}"), type="INCONCLUSIVE")
        elif is_missing(row.p_value):  # a CI dashboard shows skipped cases; it never shows warnings
            ET.SubElement(case, "skipped", message=f"{NOT_TESTED}: {summary}")
        else:
            ET.SubElement(case, "system-out").text = summary
    return suite


def _add_missing_cases(suite: ET.Element, missing: list[str]) -> None:
    """One failing case per baseline result the candidate lacks (the gate fails for it)."""
    for reason in missing:
        case = ET.SubElement(suite, "testcase", classname="evalkit.gate.missing", name=xml_safe(reason))
        ET.SubElement(case, "failure", message=xml_safe(f"missing from the candidate: {reason}"), type="missing")


def render_junit(doc: ReportDocument) -> str:
    """A <testsuites> document; counts of tests and failures are filled in per suite."""
    root = ET.Element("testsuites", name=xml_safe(doc.title))
    suites = [_results_suite(doc.results)] if doc.results is not None and not doc.results.empty else []
    suites += [_comparison_suite(c) for c in doc.all_comparisons]
    if doc.gate is not None and doc.gate.missing and suites:
        _add_missing_cases(suites[-1], doc.gate.missing)
    for suite in suites:
        cases = suite.findall("testcase")
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
        suite.set("errors", str(sum(1 for c in cases if c.find("error") is not None)))
        suite.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))
        root.append(suite)
    root.set("tests", str(sum(int(s.get("tests", 0)) for s in suites)))
    root.set("failures", str(sum(int(s.get("failures", 0)) for s in suites)))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
