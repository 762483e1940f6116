"""Load the HTML report in a real browser (headless Chromium, Debian package `chromium`)."""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from evalkit.report import ReportDocument, render

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)

pytestmark = [pytest.mark.browser, pytest.mark.skipif(CHROMIUM is None,
                                                           reason="headless Chromium not installed: apt-get install -y chromium")]


def _dump_dom(page: Path, profile: Path) -> subprocess.CompletedProcess[str]:
    command = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
               "--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri()]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)


def test_html_report_loads_with_figures_and_no_injected_script(gate_doc: ReportDocument,
                                                              three_runs_doc: ReportDocument,
                                                              tmp_path: Path) -> None:
    assert gate_doc.gate is not None and three_runs_doc.results is not None
    doc = ReportDocument(title="evalkit browser check", results=three_runs_doc.results, gate=gate_doc.gate)
    page = tmp_path / "report.html"
    page.write_text(render(doc, "html"), encoding="utf-8")

    result = _dump_dom(page, tmp_path / "profile")

    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    # The payload sets document.title when it runs; the title must be the report's own.
    assert re.search(r"<title>(.*?)</title>", dom).group(1) == "evalkit browser check"
    assert "<script" not in dom.lower()
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in dom
    assert "Uncaught" not in result.stderr
    images = re.findall(r'<img src="data:image/png;base64,([^"]+)"', dom)
    assert len(images) == 3  # the gate's verdicts (forest), acc by task, differences against base
    for data in images:
        import matplotlib.image

        pixels = matplotlib.image.imread(io.BytesIO(base64.b64decode(data)), format="png")
        assert pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert '<p class="fail" id="gate-verdict">' in dom
    assert dom.count("<table>") == 3  # results, comparison, flipped documents
