from __future__ import annotations

import json
from pathlib import Path

from evalkit.cli.results_export import default_export_path
from evalkit.store.schema import open_for_writing
from tests.compare.synthetic import CellSpec, add_run, binary


def test_report_of_one_run_shows_results(store: Path, evalkit_cli) -> None:
    result = evalkit_cli("report", "base", "--store", store)
    assert result.exit_code == 0
    assert "sst2 acc (n=200)" in result.stdout and "0.750 ± 0.060" in result.stdout and "A = " not in result.stdout


def test_report_of_one_run_with_settings_compares_them(tmp_path: Path, evalkit_cli) -> None:
    conn = open_for_writing(tmp_path / "s.db")
    add_run(conn, "r", [CellSpec("rte", {"acc": binary(100, 50)}),
                        CellSpec("rte", {"acc": binary(100, 80)}, setting="fine-tuned")], name="r")
    conn.close()
    result = evalkit_cli("report", "r", "--format", "markdown", "--store", tmp_path / "s.db")
    assert result.exit_code == 0
    assert "### A = zero-shot, B = fine-tuned (model tiny-model)" in result.stdout
    assert "| rte | acc | 0.500 | 0.800 |" in result.stdout and "better" in result.stdout


def test_report_html_file_for_several_runs(store: Path, tmp_path: Path, evalkit_cli) -> None:
    path = tmp_path / "reports" / "r.html"
    result = evalkit_cli("report", "base", "noise", "drop", "--format", "html", "-o", path, "--store", store)
    page = path.read_text(encoding="utf-8")
    assert result.exit_code == 0 and "Comparison: base vs noise vs drop" in page and page.count("data:image/png") == 2


def test_report_json_on_stdout(store: Path, evalkit_cli) -> None:
    result = evalkit_cli("report", "base", "drop", "--format", "json", "--store", store)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert len(doc["results"]) == 4 and doc["comparisons"][0]["labels"] == ["base", "drop"]


def test_report_reads_the_store_from_the_environment(store: Path, evalkit_cli, monkeypatch) -> None:
    monkeypatch.setenv("EVALKIT_STORE", str(store))
    result = evalkit_cli("report", "base", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["results"][0]["run"] == "base"


def test_export_defaults_to_json_under_reports(store: Path, tmp_path: Path, monkeypatch, evalkit_cli) -> None:
    monkeypatch.chdir(tmp_path)
    result = evalkit_cli("results", "export", "latest~1", "--store", store)
    assert result.exit_code == 0, result.output
    assert (result.stdout, result.stderr) == ("", "Wrote reports/drop.json\n")
    assert json.loads((tmp_path / "reports" / "drop.json").read_text())["run"]["name"] == "drop"
    assert default_export_path("my run/1", "csv") == Path("reports") / "my-run-1.csv"


def test_a_report_holding_a_run_and_its_own_export_warns_even_when_neither_is_the_reference(
        store: Path, tmp_path: Path, evalkit_cli) -> None:
    exported = tmp_path / "base.json"
    assert evalkit_cli("results", "export", "base", "-o", exported, "--store", store).exit_code == 0
    for refs in (("base", exported), ("noise", "base", exported)):  # the second was silent
        result = evalkit_cli("report", *refs, "--format", "markdown", "--store", store)
        assert result.exit_code == 0, result.output
        assert "base (base.json) is the same run as base (00000000-base), read from another source" in result.stdout
