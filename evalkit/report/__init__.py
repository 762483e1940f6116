"""Pure renderers: a ReportDocument (DataFrames plus context) in, a rich renderable or text out.

Formats: rich (terminal), markdown (PR comments, $GITHUB_STEP_SUMMARY), json, junit (XML), html,
github (GitHub Actions workflow commands: annotations).
The HTML renderer alone imports jinja2 and matplotlib, and only when called.
"""

from __future__ import annotations

from typing import Any

from evalkit.report.document import ReportDocument

FORMATS = ("rich", "markdown", "json", "junit", "html", "github")

__all__ = ["FORMATS", "ReportDocument", "render"]


def render(doc: ReportDocument, fmt: str) -> Any:
    """Render `doc` in `fmt`: a rich renderable for 'rich', a string for every other format."""
    if fmt == "rich":
        from evalkit.report.rich_render import render_rich

        return render_rich(doc)
    if fmt == "markdown":
        from evalkit.report.markdown import render_markdown

        return render_markdown(doc)
    if fmt == "json":
        from evalkit.report.json_render import render_json

        return render_json(doc)
    if fmt == "junit":
        from evalkit.report.junit import render_junit

        return render_junit(doc)
    if fmt == "html":
        from evalkit.report.html import render_html

        return render_html(doc)
    if fmt == "github":
        from evalkit.report.github import render_github

        return render_github(doc)
    raise ValueError(f"unknown report format {fmt!r}; choose one of: {', '.join(FORMATS)}")
