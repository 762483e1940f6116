from __future__ import annotations

import re

import pandas as pd

from evalkit.report import ReportDocument, render


def test_html_report_embeds_one_figure_per_metric_and_the_deltas(three_runs_doc: ReportDocument) -> None:
    page = render(three_runs_doc, "html")
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == 2  # acc by task; differences against base
    assert all(len(data) > 1000 for data in images)
    assert "acc by task (95% CI)" in page and "Differences against base" in page
    assert page.count("<table>") == 2


def test_html_settings_figure_appears_when_settings_differ(three_runs_doc: ReportDocument) -> None:
    results = three_runs_doc.results
    assert results is not None
    # 0.9 lies outside the copied interval: error bars must be clipped, not rejected by matplotlib
    tuned = results[results.run == "base"].assign(setting="fine-tuned", value=0.9)
    page = render(ReportDocument(title="t", results=pd.concat([results, tuned])), "html")
    assert "acc: settings compared" in page


def test_html_gate_verdict_is_marked(gate_doc: ReportDocument) -> None:
    page = render(gate_doc, "html")
    assert '<p class="fail" id="gate-verdict">Gate NO-GO' in page
    assert '<td class="bad">FAIL</td>' in page and '<td class="inconclusive">INCONCLUSIVE</td>' in page
    assert "forest plot of drops, bounds and tolerances" in page  # the verdicts figure
