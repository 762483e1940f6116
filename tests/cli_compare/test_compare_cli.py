from __future__ import annotations

import json
from pathlib import Path

import pytest


def test_compare_two_runs_shows_the_paired_table(store: Path, evalkit_cli) -> None:
    r = evalkit_cli("compare", "base", "drop", "--store", store)
    assert r.exit_code == 0
    assert "A = base, B = drop (model tiny-model, setting zero-shot)" in r.stdout
    assert "-0.150  <0.001  <0.001  0.077  200  worse" in r.stdout
    assert "[-0.200, -0.099]" in r.stdout  # the interval sits under its estimate
    assert "Flipped documents" not in r.stdout


def test_compare_three_runs_gives_a_wide_table_against_the_first(store: Path, evalkit_cli) -> None:
    r = evalkit_cli("compare", "base", "noise", "latest~1", "--store", store)
    assert r.exit_code == 0
    assert "evalkit compare: base vs noise vs drop" in r.stdout
    header = next(line for line in r.stdout.splitlines() if line.startswith("Task"))
    assert header.split() == ["Task", "Metric", "base", "noise", "Δ", "vs", "base", "p", "adj",
                              "drop", "Δ", "vs", "base", "p", "adj"]
    assert "<0.001 (worse)" in r.stdout


def test_compare_flips_lists_n_each_way(store: Path, evalkit_cli) -> None:
    r = evalkit_cli("compare", "base", "drop", "--flips", "2", "--format", "json", "--store", store)
    flips = json.loads(r.stdout)["comparisons"][0]["flips"]
    assert r.exit_code == 0
    assert [(f["task"], f["direction"], f["doc_id"]) for f in flips] == [
        ("sst2", "right → wrong", 120), ("sst2", "right → wrong", 121), ("rte", "wrong → right", 60)]
    assert flips[0]["prompt"] == "Question 120 of sst2?" and flips[0]["target"] == "answer 120"


def test_compare_options_reach_the_statistics(store: Path, evalkit_cli) -> None:
    r = evalkit_cli("compare", "base", "drop", "--correction", "bh", "--alpha", "0.01", "--metric", "acc",
                    "--format", "json", "--store", store)
    comparison = json.loads(r.stdout)["comparisons"][0]
    assert r.exit_code == 0 and (comparison["correction"], comparison["alpha"]) == ("bh", 0.01)


def test_compare_refuses_incomparable_runs_unless_allowed(store: Path, evalkit_cli) -> None:
    r = evalkit_cli("compare", "base", "newconfig", "--store", store)
    assert r.exit_code == 2 and "prompts differ" in r.stderr
    r = evalkit_cli("compare", "base", "newconfig", "--allow-incomparable", "--format", "markdown",
                    "--store", store)
    assert r.exit_code == 0 and "> **Warning:** base and newconfig are not comparable" in r.stdout


def test_compare_needs_two_refs(store: Path, evalkit_cli) -> None:
    r = evalkit_cli("compare", "base", "--store", store)
    assert r.exit_code == 2 and "at least two" in r.stderr


@pytest.mark.parametrize(("suffix", "marker"), [(".md", "## evalkit compare"), (".xml", "<testsuites"),
                                                (".html", "<!DOCTYPE html>"), (".json", '"format": "evalkit-report"')])
def test_output_format_follows_the_file_suffix(store: Path, tmp_path: Path, evalkit_cli, suffix: str,
                                               marker: str) -> None:
    path = tmp_path / f"cmp{suffix}"
    r = evalkit_cli("compare", "base", "noise", "-o", str(path), "--store", store)
    assert r.exit_code == 0 and f"Wrote {path}" in r.stderr
    assert marker in path.read_text(encoding="utf-8")


def test_an_mde_that_cannot_be_estimated_reads_n_e_in_every_format(store: Path, tmp_path: Path, evalkit_cli) -> None:
    """rte is identical in base and noise: no discordant document, so no MDE (was shown as 0.000)."""
    args = ("compare", "base", "noise", "--store", store)
    rich = evalkit_cli(*args).stdout
    rte = next(line for line in rich.splitlines() if line.startswith("rte"))
    assert rte.split()[-2:] == ["n/e", "100"] and "n/e: not estimable" in " ".join(rich.split())
    rows = json.loads(evalkit_cli(*args, "--format", "json").stdout)["comparisons"][0]["rows"]
    assert [r["mde"] for r in rows if r["task"] == "rte"] == [None]
    assert "| 1.000 | 1.000 | n/e | 100 |" in evalkit_cli(*args, "--format", "markdown").stdout
    junit = evalkit_cli(*args, "--format", "junit").stdout
    assert "MDE n/e, n 100, mcnemar-exact" in junit
    html = tmp_path / "cmp.html"
    assert evalkit_cli(*args, "-o", html).exit_code == 0
    assert ">n/e<" in html.read_text(encoding="utf-8")


def test_a_run_compared_with_itself_is_refused(store: Path, evalkit_cli) -> None:
    """Every Δ would be 0 and every p 1: a table that says nothing, and usually a reference that
    resolved to a run nobody meant; refused (exit 2) rather than shown."""
    r = evalkit_cli("compare", "base", "noise", "base", "--store", store)
    assert r.exit_code == 2 and r.stdout == ""
    assert "'base' and 'base' name the same run (00000000-base): a run compared with itself shows no difference." \
           in r.stderr


def test_an_export_compared_with_its_stored_run_warns(store: Path, tmp_path: Path, evalkit_cli) -> None:
    exported = tmp_path / "base.json"
    assert evalkit_cli("results", "export", "base", "-o", exported, "--store", store).exit_code == 0
    r = evalkit_cli("compare", exported, "base", "--store", store)
    assert r.exit_code == 0, r.output  # a round-trip check is a fair question, but the answer is flagged
    assert "Warning: base is the same run as base (base.json) (00000000-base), read from another source" in r.stdout


def test_a_name_whose_only_run_is_incomplete_says_so_and_gives_its_id(store: Path, evalkit_cli) -> None:
    from evalkit.store.schema import open_for_writing
    from tests.compare.synthetic import CellSpec, add_run, binary

    conn = open_for_writing(store)
    add_run(conn, "55555555-partial", [CellSpec("sst2", {"acc": binary(200, 150)})], name="partial",
            created_at="2025-01-06T00:00:00+00:00", status="failed")
    conn.close()
    r = evalkit_cli("compare", "base", "partial", "--store", store)
    assert r.exit_code == 2
    assert "Run 'partial' exists but is not complete: its newest run 55555555-partial has status 'failed'" in r.stderr
    assert "Did you mean: partial?" not in r.stderr  # was "Unknown run 'partial'. Did you mean: partial?"
    assert evalkit_cli("compare", "base", "55555555-partial", "--store", store).exit_code == 0
