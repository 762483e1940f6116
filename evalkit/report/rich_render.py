"""Terminal rendering: a ReportDocument as rich renderables. Returns objects; never prints.

All text goes in as `Text`, never as markup, so a model output like '[bold]' shows literally."""

from __future__ import annotations

import re
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from evalkit.report.document import ReportDocument
from evalkit.report.tables import TextTable, comparison_tables, flips_table, gate_lines, results_table


def rich_table(table: TextTable) -> Table:
    """A rich Table from a TextTable, numeric columns right-aligned."""
    out = Table(title=Text(table.title, style="bold"), caption=Text(table.caption) if table.caption else None,
                caption_justify="left", header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False,
                show_edge=False, collapse_padding=True)
    for index, header in enumerate(table.headers):
        cells = [_stacked(row[index]) for row in table.rows]
        out.add_column(Text(header), **_column_layout(index in table.numeric, header, cells))
    for row in table.rows:
        out.add_row(*(_cell(value) for value in row))
    return out


def _column_layout(numeric: bool, header: str, cells: list[str]) -> dict[str, Any]:
    """Text keeps a readable minimum width; a number is never broken; a stacked interval keeps its lines."""
    if not numeric:
        return {"justify": "left", "overflow": "fold",
                "min_width": min(max([len(c) for c in cells] + [len(header)]), _MIN_TEXT_WIDTH)}
    lines = [line for cell in cells for line in cell.split("\n")]
    if not any(" " in line for line in lines):
        return {"justify": "right", "no_wrap": True}
    if any(_INTERVAL.match(line.replace("\n", " ")) for line in cells):
        return {"justify": "right", "min_width": max(len(line) for line in lines)}
    return {"justify": "right"}


_MIN_TEXT_WIDTH = 10  # text columns keep this much width before numbers are wrapped
_INTERVAL = re.compile(r"^(\S+) (\[\S+ \S+\])$")


def _stacked(value: str) -> str:
    """An interval goes under its estimate, so comparison tables stay narrow."""
    return _INTERVAL.sub(r"\1\n\2", value)


def _cell(value: str) -> Text:
    """Regression verdicts in red, improvements in green, everything else plain."""
    value = _stacked(value)
    if value == "REGRESSION" or value == "worse":
        return Text(value, style="bold red")
    if value == "better":
        return Text(value, style="green")
    return Text(value)


def render_rich(doc: ReportDocument) -> RenderableType:
    """Title, warnings, gate verdict, results table, comparison tables, notes, flipped documents, studies."""
    parts: list[RenderableType] = [Text(doc.title, style="bold")]
    parts += [Text(f"Warning: {w}", style="yellow") for w in doc.all_warnings]
    if doc.gate is not None:
        lines = gate_lines(doc.gate)
        parts.append(Text(lines[0], style="bold green" if doc.gate.passed else "bold red"))
        parts += [Text(f"  {line}", style="red") for line in lines[1:]]
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
