"""Markdown rendering for pull-request comments and $GITHUB_STEP_SUMMARY. Every piece of text that
came from a task, a model or a user is escaped so it cannot break the table or inject HTML."""

from __future__ import annotations

import html
import re

from evalkit.report.document import ReportDocument
from evalkit.report.tables import TextTable, comparison_tables, flips_table, gate_lines, results_table

# Markdown punctuation that could start emphasis, code, links or strikethrough, or end a table cell.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")
# A gate comment's id: text that can neither end the HTML comment (-->) nor the marker's line.
COMMENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def comment_marker(comment_id: str) -> str:
    """The first line of a gate's markdown report: a CI step finds its earlier comment by it and updates it."""
    return f"<!-- evalkit-gate: {comment_id} -->"


def md_escape(text: str) -> str:
    """Inline-safe text: HTML escaped, markdown punctuation backslash-escaped, newlines as <br>."""
    escaped = html.escape(str(text), quote=True)
    escaped = _MD_SPECIAL.sub(r"\\\1", escaped)
    return escaped.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def md_table(table: TextTable, level: int = 3) -> str:
    """A GitHub-flavoured markdown table with a heading and an optional caption paragraph."""
    align = ["---:" if i in table.numeric else ":---" for i in range(len(table.headers))]
    lines = [f"{'#' * level} {md_escape(table.title)}", "",
             "| " + " | ".join(md_escape(h) for h in table.headers) + " |",
             "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in table.rows]
    if table.caption:
        lines += ["", f"_{md_escape(table.caption)}_"]
    return "\n".join(lines)


def _md_cell(value: str) -> str:
    """Escaped cell text; regressions in bold so they stand out in a PR comment."""
    text = md_escape(value)
    return f"**{text}**" if value in ("REGRESSION", "worse", "FAIL", "INCONCLUSIVE") else text


def render_markdown(doc: ReportDocument) -> str:
    """The whole document as markdown text (ends with a newline)."""
    blocks = [f"## {md_escape(doc.title)}"]
    if doc.gate is not None:
        blocks.insert(0, comment_marker(doc.comment_id))
    blocks += [f"> **Warning:** {md_escape(w)}" for w in doc.all_warnings]
    if doc.gate is not None:
        lines = gate_lines(doc.gate)
        mark = {"GO": "✅", "NO-GO": "❌"}.get(doc.gate.verdict, "⚠️")
        blocks.append(f"**{mark} {md_escape(lines[0])}**")
        if len(lines) > 1:
            blocks.append("\n".join(f"- {md_escape(line)}" for line in lines[1:]))
    results = results_table(doc.results) if doc.results is not None else None
    if results is not None:
        blocks.append(md_table(results))
    for comparison in doc.all_comparisons:
        blocks += [md_table(t) for t in comparison_tables(comparison)]
        if comparison.notes:
            blocks.append("\n".join(f"- Note: {md_escape(n)}" for n in comparison.notes))
        flips = flips_table(comparison.flips)
        if flips is not None:
            blocks.append(md_table(flips))
    if doc.studies:
        from evalkit.report.study_render import render_study

        blocks += [render_study(s.frame, s.view, "markdown", title=s.title).rstrip("\n") for s in doc.studies]
    return "\n\n".join(blocks) + "\n"
