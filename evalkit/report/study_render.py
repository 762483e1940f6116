"""Pure renderers of the study views (evalkit.studies): a frame in, a rich renderable or text out.

Formats: rich (terminal), markdown, json (the frame's rows, NaN as null), html (the report page
template with a trajectory figure or a heat-map matrix). matplotlib and jinja2 load only for html.
"""

from __future__ import annotations

import json
from typing import Any, Callable

import pandas as pd
from rich.console import Group, RenderableType
from rich.text import Text

from evalkit.report.json_render import records
from evalkit.report.markdown import md_escape, md_table
from evalkit.report.rich_render import rich_table
from evalkit.report.study_tables import (TextTable, ToneTable, plain, trajectory_tables, transfer_tables)

STUDY_FORMATS = ("rich", "markdown", "json", "html")
VIEWS = ("trajectory", "transfer")
JSON_VERSION = 1
_RICH_TONES = {"good": "bold green", "bad": "bold red", "good-weak": "green", "bad-weak": "red"}
_HTML_TONES = {"good": "#7fd17f", "bad": "#f08080", "good-weak": "#e3f5e3", "bad-weak": "#fbe3e3"}


def render_study(frame: pd.DataFrame, view: str, fmt: str, *, title: str | None = None) -> Any:
    """Render a trajectory or transfer frame: a rich renderable for 'rich', a string otherwise."""
    if view not in VIEWS:
        raise ValueError(f"unknown study view {view!r}; choose one of: {', '.join(VIEWS)}")
    title = title or f"evalkit {view}: run {frame.attrs.get('run_id', '?')}"
    tables = study_tables(frame, view)
    if fmt == "rich":
        return Group(Text(title, style="bold"), *(_rich(t) for t in tables))
    if fmt == "markdown":
        return "\n\n".join([f"## {md_escape(title)}"] + [md_table(plain(t)) for t in tables]) + "\n"
    if fmt == "json":
        return study_json(frame, view, title)
    if fmt == "html":
        return study_html(frame, view, title, tables)
    raise ValueError(f"unknown study format {fmt!r}; choose one of: {', '.join(STUDY_FORMATS)}")


def _rich(table: ToneTable | TextTable) -> RenderableType:
    """A TextTable through the report's terminal layout; a ToneTable with its cells coloured."""
    if isinstance(table, TextTable):
        return rich_table(table)
    return rich_table(table.table, [[_RICH_TONES.get(tone, "") for tone in tones] for tones in table.tones])


def study_json(frame: pd.DataFrame, view: str, title: str) -> str:
    """The frame's rows with the view's settings, as indented JSON (NaN as null, ends with a newline)."""
    return json.dumps(study_payload(frame, view, title), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def study_payload(frame: pd.DataFrame, view: str, title: str) -> dict[str, Any]:
    """The view as JSON-safe data: its settings and the frame's rows (also a part of the report's JSON)."""
    a = frame.attrs
    return {"format": f"evalkit-{view}", "version": JSON_VERSION, "title": title, "run_id": a.get("run_id"),
            "correction": a.get("correction"), "alpha": a.get("alpha"), "confidence": a.get("confidence"),
            "tests": a.get("tests"), "rows": records(frame)}


HEATMAP_MACRO = """{% macro render_heatmap(table, tones) %}
<table class="heatmap">
<caption>{{ table.title }}{% if table.caption %}. {{ table.caption }}{% endif %}</caption>
<thead><tr>{% for header in table.headers %}<th scope="col">{{ header }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in table.rows %}{% set row_tones = tones[loop.index0] %}<tr>
{%- for cell in row %}{% set colour = tone_colour(row_tones[loop.index0]) %}
{%- if loop.first %}<th scope="row">{{ cell }}</th>{% else %}<td class="num"{% if colour %} style="background: {{ colour }}"{% endif %}>{{ cell }}</td>{% endif %}
{%- endfor -%}
</tr>
{% endfor %}</tbody>
</table>
{% endmacro %}"""


def study_html(frame: pd.DataFrame, view: str, title: str, tables: list[ToneTable | TextTable],
               *, figures: bool = True) -> str:
    """One self-contained HTML page: the report template, heat-map matrices, the trajectory figure."""
    from evalkit.report.html_template import REPORT_TEMPLATE

    env, render_table = html_environment()
    return env.from_string(REPORT_TEMPLATE).render(
        title=title, warnings=[], gate_lines=[], gate_passed=False,
        sections=[study_section(frame, view, tables, figures=figures)], render_table=render_table)


def study_section(frame: pd.DataFrame, view: str, tables: list[ToneTable | TextTable] | None = None, *,
                  figures: bool = True, heading: str | None = None) -> Any:
    """The view as one section of the HTML report (evalkit.report.html.Section), with its figure."""
    from evalkit.report.html import Section

    tables = tables if tables is not None else study_tables(frame, view)
    section = Section(heading or ("Trajectories" if view == "trajectory" else "Transfer / forgetting"),
                      tables=list(tables))
    if figures and view == "trajectory":
        from evalkit.report.study_figures import trajectory_figures

        section.figures = list(trajectory_figures(frame))
    return section


def study_tables(frame: pd.DataFrame, view: str) -> list[ToneTable | TextTable]:
    """The tables that show a view, the same in every format."""
    if view not in VIEWS:
        raise ValueError(f"unknown study view {view!r}; choose one of: {', '.join(VIEWS)}")
    return list(trajectory_tables(frame)) if view == "trajectory" else list(transfer_tables(frame))


def html_environment() -> tuple[Any, Callable[[Any], Any]]:
    """A jinja2 environment (autoescape on) and a table renderer for plain tables and heat maps alike."""
    from jinja2 import Environment

    from evalkit.report.html import _cell_class
    from evalkit.report.html_template import TABLE_MACRO

    env = Environment(autoescape=True)
    env.globals["cell_class"] = _cell_class
    env.globals["tone_colour"] = lambda tone: _HTML_TONES.get(tone, "")
    plain_macro = env.from_string(TABLE_MACRO).module.render_table  # type: ignore[attr-defined]
    heat_macro = env.from_string(HEATMAP_MACRO).module.render_heatmap  # type: ignore[attr-defined]
    return env, _table_renderer(plain_macro, heat_macro)


def _table_renderer(plain_macro: Callable[..., Any], heat_macro: Callable[..., Any]) -> Callable[[Any], Any]:
    def render(table: ToneTable | TextTable) -> Any:
        return heat_macro(table.table, table.tones) if isinstance(table, ToneTable) else plain_macro(table)
    return render
