"""Task text and model output must stay text in every format: no broken tables, no injected markup."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from rich.console import Console

from evalkit.compare import CompareOptions, RunOpener, compare_runs, decide_gate, open_runs
from evalkit.report import ReportDocument, render
from evalkit.report.markdown import md_escape
from evalkit.store.schema import open_for_writing
from tests.compare.synthetic import SCRIPT_PAYLOAD, CellSpec, add_run

NASTY = [SCRIPT_PAYLOAD, "a | b | c", "use `rm -rf` now", "line one\nline two\r\nthree", "[bold red]loud[/]",
         "<img src=x onerror=alert(1)>", "ctrl \x00\x1b[31m end", "**bold** _it_ ~~s~~ [l](javascript:x)"]


@pytest.fixture
def nasty_doc(tmp_path: Path) -> ReportDocument:
    """A failing gate whose flipped documents carry hostile predictions and prompts."""
    conn = open_for_writing(tmp_path / "s.db")
    n = len(NASTY)
    add_run(conn, "a", [CellSpec("t|ask", {"acc": [1.0] * n + [1.0] * 40})], name="a", created_at="1")
    add_run(conn, "b", [CellSpec("t|ask", {"acc": [0.0] * n + [1.0] * 40},
                                 predictions=NASTY + ["ok"] * 40)], name="b", created_at="2")
    conn.close()
    with RunOpener(tmp_path / "s.db") as opener:
        comparison = compare_runs(open_runs(opener, ["a", "b"]), CompareOptions(flips=n))
    return ReportDocument(title="nasty <b>title</b>", gate=decide_gate(comparison, 0.01))


def test_md_escape_neutralises_table_code_html_and_newlines() -> None:
    assert md_escape("a|b") == "a\\|b"
    assert md_escape("`x`") == "\\`x\\`"
    assert md_escape("one\ntwo\r\nthree") == "one<br>two<br>three"
    assert md_escape("<script>") == "&lt;script&gt;"
    assert md_escape("[l](u) *b* _i_") == "\\[l\\](u) \\*b\\* \\_i\\_"


def test_markdown_tables_keep_their_shape_and_carry_no_raw_html(nasty_doc: ReportDocument) -> None:
    text = render(nasty_doc, "markdown")
    flips = text[text.index("### Flipped documents"):].splitlines()
    table = [line for line in flips if line.startswith("|")]
    unescaped_pipes = [line.replace("\\|", "").count("|") for line in table]
    assert len(table) == 2 + len(NASTY) and set(unescaped_pipes) == {9}
    assert "<script" not in text and "<img" not in text and "<b>" not in text
    assert "&lt;script&gt;" in text and "line one<br>line two<br>three" in text


def test_rich_shows_markup_literally(nasty_doc: ReportDocument) -> None:
    console = Console(file=io.StringIO(), width=400, color_system=None)
    console.print(render(nasty_doc, "rich"))
    out = console.file.getvalue()
    assert "[bold red]loud[/]" in out and "<script>document.title='pwned'</script>" in out


def test_html_escapes_every_payload(nasty_doc: ReportDocument) -> None:
    from evalkit.report.html import render_html

    page = render_html(nasty_doc, figures=False)
    assert "<script" not in page and "<img src=x" not in page and "<b>title</b>" not in page
    assert "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;" in page
    assert "nasty &lt;b&gt;title&lt;/b&gt;" in page


def test_junit_is_well_formed_even_with_control_characters(nasty_doc: ReportDocument) -> None:
    root = ET.fromstring(render(nasty_doc, "junit").encode())
    assert root.get("tests") == "1" and root.get("failures") == "1"
    failure = root.find("testsuite/testcase/failure")
    assert failure is not None and failure.get("type") == "FAIL"
    assert SCRIPT_PAYLOAD in (failure.text or "") and "\x00" not in (failure.text or "")


def test_json_keeps_the_exact_text(nasty_doc: ReportDocument) -> None:
    doc = json.loads(render(nasty_doc, "json"))
    predictions = [f["prediction_b"] for f in doc["comparisons"][0]["flips"]]
    assert predictions == NASTY
    assert doc["gate"]["passed"] is False and doc["gate"]["failing"][0]["task"] == "t|ask"
