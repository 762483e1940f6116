"""Self-contained HTML report: the same tables as the other formats plus matplotlib figures,
rendered through a jinja2 template with autoescape so task text and model output stay text."""

from __future__ import annotations

from dataclasses import dataclass, field

from evalkit.report.document import ReportDocument
from evalkit.report.html_template import REPORT_TEMPLATE
from evalkit.report.tables import REGRESSION, TextTable, comparison_tables, flips_table, gate_lines, results_table


@dataclass
class Section:
    """A heading with its tables, notes and figures."""

    heading: str
    tables: list[TextTable] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    figures: list[object] = field(default_factory=list)


def _cell_class(index: int, value: str, table: TextTable) -> str:
    if value in (REGRESSION, "worse", "FAIL"):
        return "bad"
    if value in ("better", "PASS"):
        return "good"
    if value == "INCONCLUSIVE":
        return "inconclusive"
    return "num" if index in table.numeric else "text"


def _sections(doc: ReportDocument, figures: bool) -> list[Section]:
    from evalkit.report import figures as plots

    sections = []
    if doc.gate is not None and figures:
        forest = plots.verdict_figure(doc.gate)
        if forest is not None:
            sections.append(Section("Verdicts", figures=[forest]))
    results = results_table(doc.results) if doc.results is not None else None
    if results is not None:
        section = Section("Results", tables=[results])
        if figures:
            section.figures = plots.results_figures(doc.results) + plots.settings_figures(doc.results)
        sections.append(section)
    for comparison in doc.all_comparisons:
        heading = "Comparison of settings" if comparison.kind == "settings" else \
            "Comparison: " + " vs ".join(comparison.labels)
        section = Section(heading, tables=comparison_tables(comparison), notes=list(comparison.notes))
        flips = flips_table(comparison.flips)
        if flips is not None:
            section.tables.append(flips)
        delta = plots.delta_figure(comparison) if figures else None
        section.figures = [delta] if delta is not None else []
        sections.append(section)
    return sections


def render_html(doc: ReportDocument, *, figures: bool = True) -> str:
    """The whole document as one HTML page (figures embedded as PNG data URIs)."""
    from evalkit.report.study_render import html_environment, study_section

    env, render_table = html_environment()
    studies = [study_section(s.frame, s.view, figures=figures, heading=s.title) for s in doc.studies]
    template = env.from_string(REPORT_TEMPLATE)
    return template.render(
        title=doc.title,
        warnings=doc.all_warnings,
        gate_lines=gate_lines(doc.gate) if doc.gate is not None else [],
        gate_passed=bool(doc.gate and doc.gate.passed),
        gate_class={"GO": "pass", "NO-GO": "fail"}.get(doc.gate.verdict, "inconclusive") if doc.gate else "",
        sections=_sections(doc, figures) + studies,
        render_table=render_table,
    )
