"""Terminal rendering: a ReportDocument as rich renderables. Returns objects; never prints.

All text goes in as `Text`, never as markup, so a model output like '[bold]' shows literally."""

from __future__ import annotations

import re

from rich.console import Group, RenderableType
from rich.text import Text

from evalkit.report.document import ReportDocument
from evalkit.report.rich_fit import BREAK, Column, FittedTable
from evalkit.report.tables import TextTable, comparison_tables, flips_table, gate_lines, results_table


def rich_table(table: TextTable, styles: list[list[str]] | None = None) -> FittedTable:
    """The terminal layout of a TextTable (numbers and decisions never cut, optional columns left out
    to fit); `styles` colours cells, else verdicts are coloured."""
    columns = tuple(Column(header, whole=index in table.numeric or index in table.whole,
                           justify="right" if index in table.numeric else "left")
                    for index, header in enumerate(table.headers))
    rows = tuple(tuple((_stacked(value) if columns[c].whole else value,  # text (a model's output) as it is
                        styles[r][c] if styles else _verdict_style(value))
                       for c, value in enumerate(row)) for r, row in enumerate(table.rows))
    return FittedTable(title=table.title, columns=columns, rows=rows, optional=table.optional,
                       caption=table.caption)


_INTERVAL = re.compile(r"^(\S+) (\[\S+ \S+\])(.*)$")
_ESTIMATE_N = re.compile(r"^(\S+ ± \S+) (\(n=\d+\))$")
_SHIP = re.compile(r"^(step \S+) (\(.*\))$")


def _stacked(value: str) -> str:
    """An interval goes under its estimate (marks stay beside the estimate), so tables stay narrow;
    '(n=40)' and a ship step's reason may go under their figure when the column is narrow."""
    value = _INTERVAL.sub(r"\1\3\n\2", value)
    value = _ESTIMATE_N.sub(lambda m: m[1] + BREAK + m[2], value)
    return _SHIP.sub(lambda m: m[1] + BREAK + m[2], value)


def _verdict_style(value: str) -> str:
    """Regression verdicts in red, improvements in green, everything else plain."""
    return {"REGRESSION": "bold red", "worse": "bold red", "better": "green"}.get(value, "")


def render_rich(doc: ReportDocument) -> RenderableType:
    """Title, warnings, gate verdict, results table, comparison tables, notes, flipped documents, studies."""
    parts: list[RenderableType] = [Text(doc.title, style="bold")]
    parts += [Text(f"Warning: {w}", style="yellow") for w in doc.all_warnings]
    if doc.gate is not None:
        lines = gate_lines(doc.gate)
        style = {"GO": "green", "NO-GO": "red"}.get(doc.gate.verdict, "yellow")
        parts.append(Text(lines[0], style=f"bold {style}"))
        parts += [Text(f"  {line}", style=_line_style(line)) for line in lines[1:]]
    results = results_table(doc.results) if doc.results is not None else None
    if results is not None:
        parts.append(rich_table(results))
    for comparison in doc.all_comparisons:
        parts += [rich_table(t) for t in comparison_tables(comparison)]
        parts += [Text(f"Note: {n}", style="dim") for n in comparison.notes]
        flips = flips_table(comparison.flips)
        if flips is not None:
            parts.append(rich_table(flips))
    if doc.studies:
        from evalkit.report.study_render import render_study

        parts += [render_study(s.frame, s.view, "rich", title=s.title) for s in doc.studies]
    return Group(*parts)


def _line_style(line: str) -> str:
    """A gate line's colour from its verdict word."""
    for word, style in (("FAIL", "red"), ("missing", "red"), ("INCONCLUSIVE", "yellow"), ("PASS", "green")):
        if line.startswith(word):
            return style
    return ""
