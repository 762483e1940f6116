"""`evalkit gate` for GitHub: `--format github` workflow commands, the markdown report's comment marker."""

from __future__ import annotations

from pathlib import Path

import pytest


def test_gate_format_github_prints_an_error_per_failing_row_and_the_verdict_last(store: Path, evalkit_cli) -> None:
    r = evalkit_cli("gate", "--baseline", "base", "--candidate", "drop", "--format", "github", "--store", store)
    assert r.exit_code == 1
    lines = r.stdout.splitlines()
    errors = [line for line in lines if line.startswith("::error")]
    assert len(errors) == 1 and errors[0].startswith("::error title=FAIL%3A tiny-model / sst2 / zero-shot / acc::")
    assert lines[-1].startswith("::notice title=evalkit gate%3A NO-GO::evalkit gate: drop against baseline base: 1 FAIL")
    assert all(line.startswith("::") for line in lines)  # nothing else on stdout the runner could misread


def test_compare_format_github_warns_for_a_significant_drop(store: Path, evalkit_cli) -> None:
    r = evalkit_cli("compare", "base", "drop", "--format", "github", "--store", store)
    assert r.exit_code == 0
    assert r.stdout.splitlines() == [
        "::warning title=worse%3A tiny-model / sst2 / zero-shot / acc (drop against base)::"
        "B - A = -0.150 [-0.200, -0.099], p adj <0.001; 0.750 -> 0.600.",
        "::notice title=evalkit compare%3A base vs drop::base vs drop: 2 compared rows, 1 significantly worse, 0 better."]


def test_the_gate_markdown_report_starts_with_the_default_comment_marker(store: Path, evalkit_cli) -> None:
    r = evalkit_cli("gate", "--baseline", "base", "--candidate", "drop", "--format", "markdown", "--store", store)
    assert r.stdout.splitlines()[0] == "<!-- evalkit-gate: default -->"
    r = evalkit_cli("compare", "base", "drop", "--format", "markdown", "--store", store)
    assert r.stdout.startswith("## ")  # only a gate's report is a comment that updates itself




def test_comment_id_names_the_marker(store: Path, evalkit_cli) -> None:
    r = evalkit_cli("gate", "--baseline", "base", "--candidate", "drop", "--format", "markdown",
                    "--comment-id", "nightly-gpu", "--store", store)
    assert r.exit_code == 1 and r.stdout.splitlines()[0] == "<!-- evalkit-gate: nightly-gpu -->"


@pytest.mark.parametrize("bad", ["x-->", "two\nlines", "", "-leading", "x" * 101])
def test_a_comment_id_that_could_break_the_marker_is_exit_2(store: Path, evalkit_cli, bad: str) -> None:
    r = evalkit_cli("gate", "--baseline", "base", "--candidate", "drop", "--comment-id", bad, "--store", store)
    assert r.exit_code == 2 and "is not a comment id" in r.stderr
