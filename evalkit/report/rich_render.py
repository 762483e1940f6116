"""Terminal rendering: a ReportDocument as rich renderables. Returns objects; never prints.

All text goes in as `Text`, never as markup, so a model output like '[bold]' shows literally."""

from __future__ import annotations

import re

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
        numeric = index in table.numeric
        cells = [_INTERVAL.sub(r"\1\n\2", row[index]) for row in table.rows]
        longest = max([len(cell) for cell in cells] + [len(header)])
        wraps = any(" " in cell for cell in cells)
        lines = max([len(line) for cell in cells for line in cell.split("\n")] + [1])
        out.add_column(Text(header), justify="right" if numeric else "left", no_wrap=numeric and not wraps,
                       min_width=(lines if wraps else None) if numeric else min(longest, _MIN_TEXT_WIDTH))
    for row in table.rows:
        out.add_row(*(_cell(value) for value in row))
    return out


_MIN_TEXT_WIDTH = 10  # text columns keep this much width before numbers are wrapped
_INTERVAL = re.compile(r"^(\S+) (\[\S+ \S+\])$")


def _cell(value: str) -> Text:
    """Regression verdicts in red, improvements in green; an interval goes under its estimate."""
    value = _INTERVAL.sub(r"\1\n\2", value)
    if value == "REGRESSION" or value == "worse":
        return Text(value, style="bold red")
    if value == "better":
        return Text(value, style="green")
    return Text(value)


def render_rich(doc: ReportDocument) -> RenderableType:
    """Title, warnings, gate verdict, results table, comparison tables, notes, flipped documents."""
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
    return Group(*parts)
