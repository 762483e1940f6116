"""GitHub Actions workflow commands (`--format github`): the runner turns them into annotations.

For a gate: an error per failing row of the required tier, a warning per inconclusive row or
advisory failure, an error per baseline result the candidate lacks, then a notice with the suite
verdict. For a comparison without a gate: a warning per significant change for the worse, then a
notice. Text is escaped as GitHub's toolkit escapes it (@actions/core, src/command.ts), so a task
name holding a newline or '::' cannot end a command or start another."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pandas as pd

from evalkit.compare.result import Comparison, GateOutcome
from evalkit.report.document import ReportDocument
from evalkit.report.formatting import fmt_delta, fmt_given, fmt_p, fmt_value, is_missing

VERDICTS = ("FAIL", "INCONCLUSIVE", "PASS", "NOT GATED")  # the order the suite notice counts them in


def escape_data(text: str) -> str:
    """A command's message as escapeData writes it: '%', CR and LF percent-encoded."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A property value as escapeProperty writes it: escapeData's, and ':' and ',' too."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_command(command: str, message: str, **properties: str) -> str:
    """'::command key=value,key=value::message', as the toolkit's Command.toString (empty values left out)."""
    text = f"::{command}"
    if properties:
        text += " " + ",".join(f"{key}={escape_property(value)}" for key, value in properties.items() if value)
    return f"{text}::{escape_data(message)}"


def _where(row: Any) -> str:
    """'model / task / setting / metric', leaving out what is missing."""
    return " / ".join(str(v) for v in (row.model, row.task, row.setting, row.metric) if not is_missing(v))


def _row_command(row: Any) -> str | None:
    """error for a required failure, warning for an advisory failure or an inconclusive row, else none."""
    if row.verdict == "FAIL":
        return "error" if row.tier == "required" else "warning"
    return "warning" if row.verdict == "INCONCLUSIVE" else None


def _row_message(row: Any) -> str:
    """The row's reason, then the figures behind it (the interval is the gate's, on the drop)."""
    return (f"{str(row.reason).rstrip('.')}. Baseline {fmt_value(row.value_a)}, candidate {fmt_value(row.value_b)}; "
            f"drop {fmt_value(row.drop)} [{fmt_value(row.drop_low)}, {fmt_value(row.drop_high)}], "
            f"tolerance {fmt_given(row.tolerance)}.")


def _gate_annotations(gate: GateOutcome) -> list[str]:
    """An error or a warning per row that did not pass, an error per baseline result the candidate lacks."""
    comparison = gate.comparison
    lines = []
    for row in comparison.rows.itertuples(index=False):
        command = _row_command(row)
        if command is not None:
            label = row.verdict + (" (advisory)" if row.tier == "advisory" else "")
            lines.append(workflow_command(command, _row_message(row), title=f"{label}: {_where(row)}"))
    return lines + [workflow_command("error", f"Missing from the candidate: {reason}", title="missing result")
                    for reason in gate.missing]


def _gate_notice(title: str, gate: GateOutcome) -> str:
    """The suite verdict with how many rows got each row verdict."""
    counts = Counter(gate.comparison.rows.verdict)
    tally = [f"{counts[v]} {v}" for v in VERDICTS if counts[v]]
    tally += [f"{len(gate.missing)} missing"] if gate.missing else []
    return workflow_command("notice", f"{title}: {', '.join(tally) or 'no rows'}.", title=f"evalkit gate: {gate.verdict}")


def _comparison_lines(title: str, comparison: Comparison) -> list[str]:
    """A warning per significant change for the worse, then a notice counting the changes."""
    rows: pd.DataFrame = comparison.rows
    lines = [workflow_command("warning", f"B - A = {fmt_delta(r.delta, r.ci_low, r.ci_high)}, p adj "
                                         f"{fmt_p(r.p_adjusted)}; {fmt_value(r.value_a)} -> {fmt_value(r.value_b)}.",
                              title=f"worse: {_where(r)} ({r.b} against {r.a})")
             for r in rows[rows.change == "worse"].itertuples(index=False)]
    counts = Counter(rows.change)
    lines.append(workflow_command("notice", f"{' vs '.join(comparison.labels)}: {len(rows)} compared rows, "
                                            f"{counts['worse']} significantly worse, {counts['better']} better.",
                                  title=title))
    return lines


def render_github(doc: ReportDocument) -> str:
    """One workflow command per line, the gate's verdict last (the text ends with a newline)."""
    gate = doc.gate
    lines = _gate_annotations(gate) if gate is not None else []
    for comparison in doc.comparisons:
        lines += _comparison_lines(doc.title, comparison)
    shown = {f"missing: {reason}" for reason in (gate.missing if gate is not None else [])}  # errors above
    lines += [workflow_command("warning", w, title="evalkit") for w in doc.all_warnings if w not in shown]
    if gate is not None:
        lines.append(_gate_notice(doc.title, gate))
    elif not lines:
        count = 0 if doc.results is None else len(doc.results)
        lines.append(workflow_command("notice", f"{count} result rows.", title=doc.title))
    return "\n".join(lines) + "\n"
