"""`evalkit gate` exit codes: 0 GO, 1 NO-GO, 2 bad input, 3 INCONCLUSIVE."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evalkit.store.schema import open_for_writing
from tests.compare.synthetic import CellSpec, add_run, binary


def test_a_real_drop_fails_with_exit_1_listing_rows_and_flips(store: Path, evalkit_cli) -> None:
    r = evalkit_cli("gate", "--baseline", "base", "--candidate", "drop", "--store", store)
    assert r.exit_code == 1
    assert "Gate NO-GO: a required row failed (2 required rows: 0 PASS, 1 FAIL, 1 INCONCLUSIVE" in r.stdout
    assert "FAIL: tiny-model / sst2 / zero-shot / acc: 0.750 → 0.600; the drop lies in" in r.stdout
    assert "Flipped documents" in r.stdout and "<script>document.title='pwned'</script>" in r.stdout
    assert r.stderr.startswith("Error: Gate NO-GO: 1 required row(s) dropped beyond their tolerance: "
                               "sst2 / zero-shot / acc.")


def test_a_noise_level_drop_is_inconclusive_with_exit_3_and_passes_a_wider_tolerance(store: Path,
                                                                                     evalkit_cli) -> None:
    r = evalkit_cli("gate", "--baseline", "base", "--candidate", "noise", "--store", store)
    assert r.exit_code == 3, r.output
    assert "Gate INCONCLUSIVE" in r.stdout and "INCONCLUSIVE: tiny-model / sst2 / zero-shot / acc" in r.stdout
    assert "documents at this spread would decide it" in r.stdout
    assert r.stderr.startswith("Error: Gate INCONCLUSIVE: 2 required row(s) could be neither passed nor failed")
    for mapping, code in (("pass", 0), ("fail", 1)):
        assert evalkit_cli("gate", "--baseline", "base", "--candidate", "noise", "--store", store,
                           "--inconclusive", mapping).exit_code == code
    r = evalkit_cli("gate", "--baseline", "base", "--candidate", "noise", "--store", store, "--max-drop", "0.1")
    assert r.exit_code == 0 and "Gate GO: every required row passed" in r.stdout


def test_candidate_defaults_to_latest(store: Path, evalkit_cli) -> None:
    r = evalkit_cli("gate", "--baseline", "base", "--store", store)  # latest = newconfig
    assert r.exit_code == 2 and "not comparable" in r.stderr


def test_an_incomparable_baseline_gives_exit_2_with_the_override(store: Path, evalkit_cli) -> None:
    r = evalkit_cli("gate", "--baseline", "base", "--candidate", "newconfig", "--store", store)
    assert r.exit_code == 2 and r.stdout == ""
    assert "task config hash differs" in r.stderr and "--allow-incomparable" in r.stderr
    r = evalkit_cli("gate", "--baseline", "base", "--candidate", "newconfig", "--allow-incomparable",
                    "--store", store, "--max-drop", "0.1")
    assert r.exit_code == 0 and "Warning: base and newconfig are not comparable" in r.stdout


def test_a_malformed_baseline_file_gives_exit_2(store: Path, tmp_path: Path, evalkit_cli) -> None:
    bad = tmp_path / "baseline.json"
    bad.write_text('{"format": "evalkit-results", "version": 1, "run": {"run_id"', encoding="utf-8")
    r = evalkit_cli("gate", "--baseline", str(bad), "--candidate", "drop", "--store", store)
    assert r.exit_code == 2 and f"Baseline file '{bad}' is not valid JSON" in r.stderr


def test_a_missing_baseline_file_gives_exit_2(store: Path, tmp_path: Path, evalkit_cli) -> None:
    r = evalkit_cli("gate", "--baseline", str(tmp_path / "nope.json"), "--store", store)
    assert r.exit_code == 2 and "does not exist" in r.stderr


def test_an_unknown_ref_gives_exit_2(store: Path, evalkit_cli) -> None:
    r = evalkit_cli("gate", "--baseline", "bsae", "--candidate", "drop", "--store", store)
    assert r.exit_code == 2 and "Unknown run 'bsae'. Did you mean: base?" in r.stderr


def test_a_missing_store_gives_exit_2(tmp_path: Path, evalkit_cli) -> None:
    r = evalkit_cli("gate", "--baseline", "base", "--store", str(tmp_path / "absent.db"))
    assert r.exit_code == 2 and "does not exist" in r.stderr


@pytest.mark.parametrize("fmt", ["json", "parquet", "csv"])
def test_gate_against_an_exported_baseline_without_the_baseline_in_the_store(store: Path, tmp_path: Path,
                                                                             evalkit_cli, fmt: str) -> None:
    path = tmp_path / "ci" / f"baseline.{fmt}"
    result = evalkit_cli("results", "export", "base", "--format", fmt, "-o", path, "--store", store)
    assert result.exit_code == 0, result.output
    assert f"Wrote {path}" in result.stderr
    assert evalkit_cli("gate", "--baseline", str(path), "--candidate", "noise", "--store", store).exit_code == 3
    assert evalkit_cli("gate", "--baseline", str(path), "--candidate", "drop", "--store", store).exit_code == 1


def test_gate_appends_markdown_to_the_github_step_summary(store: Path, tmp_path: Path, evalkit_cli,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    r = evalkit_cli("gate", "--baseline", "base", "--candidate", "drop", "--store", store)
    text = summary.read_text(encoding="utf-8")
    assert r.exit_code == 1
    assert text.startswith("# earlier step\n<!-- evalkit-gate: default -->\n\n## evalkit gate: drop against baseline base")
    assert "**❌ Gate NO-GO" in text and "&lt;script&gt;" in text


def test_gate_writes_junit_and_json_files(store: Path, tmp_path: Path, evalkit_cli) -> None:
    junit, report = tmp_path / "out" / "gate.xml", tmp_path / "gate.json"
    r = evalkit_cli("gate", "--baseline", "base", "--candidate", "drop", "-o", str(junit),
                    "--store", store)
    assert r.exit_code == 1 and "Gate NO-GO" in r.stdout  # the terminal still shows the table
    assert 'failures="1"' in junit.read_text(encoding="utf-8")
    r = evalkit_cli("gate", "--baseline", "base", "--candidate", "noise", "--format", "json",
                    "--store", store)
    assert r.exit_code == 3 and json.loads(r.stdout)["gate"]["verdict"] == "INCONCLUSIVE"
    assert [row["verdict"] for row in json.loads(r.stdout)["comparisons"][0]["rows"]] == ["INCONCLUSIVE"] * 2
    assert not report.exists()


def test_max_drop_and_alpha_options_change_the_verdict(store: Path, evalkit_cli) -> None:
    args = ["gate", "--baseline", "base", "--candidate", "drop", "--store", str(store)]
    assert evalkit_cli(*args, "--max-drop", "0.2").exit_code == 0
    assert evalkit_cli(*args, "--alpha", "1e-12").exit_code == 3  # nothing is established at that level
    assert evalkit_cli(*args, "--max-drop", "-1").exit_code == 2  # usage error


def test_gate_between_two_exported_files_needs_no_database(store: Path, tmp_path: Path, evalkit_cli) -> None:
    for ref in ("base", "drop"):
        _export(evalkit_cli, store, ref, tmp_path / f"{ref}.json")
    r = evalkit_cli("gate", "--baseline", str(tmp_path / "base.json"), "--candidate",
                    str(tmp_path / "drop.json"), "--store", str(tmp_path / "no-such.db"))
    assert r.exit_code == 1 and "base (base.json)" in r.stdout and not (tmp_path / "no-such.db").exists()


# --- issue 9: the gate never passes on input it could not fully read --------------------------------


def _export(evalkit_cli, store: Path, ref: str, path: Path) -> Path:
    result = evalkit_cli("results", "export", ref, "-o", path, "--store", store)
    assert result.exit_code == 0, result.output
    return path


def _edit_first_sst2_sample(path: Path, doc_index: int, value: object) -> None:
    """Set the acc score of the doc_index-th sst2 document of a JSON export to `value` (NaN written as NaN)."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    sst2 = next(c["cell_id"] for c in doc["cells"] if c["task"] == "sst2")
    sample = [s for s in doc["samples"] if s["cell_id"] == sst2][doc_index]
    sample["scores"]["acc"] = value
    path.write_text(json.dumps(doc), encoding="utf-8")


@pytest.mark.parametrize(("value", "described"), [(None, "null"), (float("nan"), "NaN"),
                                                  ("1", "the text '1'"), (float("inf"), "inf (not finite)")])
def test_an_unreadable_baseline_score_gives_exit_2_naming_file_task_metric_and_document(
        store: Path, tmp_path: Path, evalkit_cli, value: object, described: str) -> None:
    baseline = _export(evalkit_cli, store, "base", tmp_path / "base.json")
    _edit_first_sst2_sample(baseline, 130, value)
    r = evalkit_cli("gate", "--baseline", baseline, "--candidate", "drop", "--store", store)
    assert r.exit_code == 2 and r.stdout == ""  # was exit 0: the sst2 row became "no per-item scores"
    assert f"Results file '{baseline}': metric 'acc' of tiny-model / sst2 / zero-shot" in r.stderr
    assert f"doc_id 130: the score is {described}" in r.stderr and "Traceback" not in r.stderr
    assert evalkit_cli("compare", baseline, "drop", "--store", store).exit_code == 2


def test_an_unreadable_score_in_a_csv_baseline_gives_exit_2(store: Path, tmp_path: Path, evalkit_cli) -> None:
    baseline = _export(evalkit_cli, store, "base", tmp_path / "base.csv")
    samples = tmp_path / "base.samples.csv"
    text = samples.read_text(encoding="utf-8")
    assert text.count('"{""acc"": 1.0}"') > 0
    samples.write_text(text.replace('"{""acc"": 1.0}"', '"{""acc"": null}"', 1), encoding="utf-8")
    r = evalkit_cli("gate", "--baseline", baseline, "--candidate", "drop", "--store", store)
    assert r.exit_code == 2 and f"Results file '{baseline}'" in r.stderr and "the score is null" in r.stderr


def test_a_null_score_in_a_stored_candidate_gives_exit_2_naming_the_run(store: Path, evalkit_cli) -> None:
    conn = open_for_writing(store)
    scores = binary(200, 120)
    scores[5] = None
    add_run(conn, "44444444-holes", [CellSpec("sst2", {"acc": scores}, aggregates={"acc": 0.6}),
                                     CellSpec("rte", {"acc": binary(100, 60)})],
            name="holes", created_at="2025-01-05T00:00:00+00:00")
    conn.close()
    r = evalkit_cli("gate", "--baseline", "base", "--candidate", "holes", "--store", store)
    assert r.exit_code == 2
    assert f"Run 'holes' in store '{store}': metric 'acc' of tiny-model / sst2 / zero-shot" in r.stderr
    assert "doc_id 5: the score is null" in r.stderr


def test_a_baseline_with_a_flipped_higher_is_better_gives_exit_2(store: Path, tmp_path: Path, evalkit_cli) -> None:
    baseline = _export(evalkit_cli, store, "base", tmp_path / "base.json")
    doc = json.loads(baseline.read_text(encoding="utf-8"))
    for metric in doc["metrics"]:
        metric["higher_is_better"] = False
    baseline.write_text(json.dumps(doc), encoding="utf-8")
    for extra in ((), ("--allow-incomparable",)):
        r = evalkit_cli("gate", "--baseline", baseline, "--candidate", "drop", "--store", store, *extra)
        assert r.exit_code == 2, r.output  # was exit 0: the drop counted as a gain
        assert "Metric 'acc' of tiny-model / sst2 / zero-shot has higher_is_better=False in base (base.json) " \
               "but higher_is_better=True in drop" in r.stderr
    assert evalkit_cli("compare", baseline, "drop", "--store", store).exit_code == 2


def test_a_higher_is_better_that_is_not_a_boolean_gives_exit_2(store: Path, tmp_path: Path, evalkit_cli) -> None:
    baseline = _export(evalkit_cli, store, "base", tmp_path / "base.json")
    doc = json.loads(baseline.read_text(encoding="utf-8"))
    doc["metrics"][0]["higher_is_better"] = "false"  # bool('false') is True
    baseline.write_text(json.dumps(doc), encoding="utf-8")
    r = evalkit_cli("gate", "--baseline", baseline, "--candidate", "drop", "--store", store)
    assert r.exit_code == 2 and "higher_is_better = 'false', not true or false" in r.stderr


@pytest.mark.parametrize("option", [("--max-drop", "nan"), ("--max-drop", "inf"), ("--max-drop", "-0.5"),
                                    ("--alpha", "nan"), ("--alpha", "inf")])
def test_non_finite_or_negative_levels_are_usage_errors(store: Path, evalkit_cli, option: tuple[str, str]) -> None:
    r = evalkit_cli("gate", "--baseline", "base", "--candidate", "drop", "--store", store, *option)
    assert r.exit_code == 2 and option[0] in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("status", ["failed", "running"])
def test_a_run_that_is_not_complete_cannot_be_gated(store: Path, evalkit_cli, status: str) -> None:
    conn = open_for_writing(store)
    add_run(conn, "55555555-partial", [CellSpec("sst2", {"acc": binary(200, 150)}),
                                       CellSpec("rte", {"acc": binary(100, 60)})],
            name="partial", created_at="2025-01-06T00:00:00+00:00", status=status)
    conn.close()
    partial = "55555555-partial"  # a name means its latest *complete* run; the id reaches this one
    for args in (("--baseline", "base", "--candidate", partial), ("--baseline", partial, "--candidate", "noise")):
        r = evalkit_cli("gate", *args, "--store", store)
        assert r.exit_code == 2 and f"Run 'partial' in store '{store}' has status '{status}'" in r.stderr
    r = evalkit_cli("compare", "base", partial, "--store", store)  # compare keeps its warning
    assert r.exit_code == 0 and f"partial is an incomplete run (status '{status}')" in r.stdout


def _continuous_store(path: Path, a: list[float], b: list[float], *, corpus: bool = False) -> Path:
    conn = open_for_writing(path)
    for run_id, values in (("a", a), ("b", b)):
        scores: dict[str, list] = {"rouge": values}
        aggregates = {}
        if corpus:
            scores["bleu"] = [["ref", "pred"]] * len(values)
            aggregates["bleu"] = 0.3 if run_id == "a" else 0.1
        add_run(conn, run_id, [CellSpec("summ", scores, aggregates=aggregates)], name=run_id,
                created_at=f"2025-01-0{1 if run_id == 'a' else 2}")
    conn.close()
    return path


def test_a_three_document_continuous_drop_is_judged_by_the_one_sided_t_test(tmp_path: Path, evalkit_cli) -> None:
    store = _continuous_store(tmp_path / "s.db", [0.8, 0.6, 0.7], [0.6, 0.5, 0.4])
    r = evalkit_cli("gate", "--baseline", "a", "--candidate", "b", "--format", "json", "--store", store)
    # Round two failed it on a bootstrap p of 2 / 10001, round three passed it (sign-flip p = 0.25). The
    # drops 0.2, 0.1, 0.3 are beyond 0.01 by the one-sided paired t-test at alpha 0.05 (p = 0.041); the
    # two-sided comparison p is 0.074, and its interval agrees with it.
    assert r.exit_code == 1, r.output
    (row,) = json.loads(r.stdout)["comparisons"][0]["rows"]
    assert (row["method"], row["gate_method"], row["verdict"]) == ("paired-t", "paired-t", "FAIL")
    assert row["p_value"] == pytest.approx(0.0742, abs=1e-4) and row["ci_low"] < 0 < row["ci_high"]
    assert row["p_fail"] == pytest.approx(0.0407, abs=1e-4) and row["drop_low"] > 0.01


def test_a_corpus_level_metric_is_listed_as_not_gated(tmp_path: Path, evalkit_cli) -> None:
    store = _continuous_store(tmp_path / "s.db", [0.8, 0.6, 0.7, 0.5], [0.8, 0.6, 0.7, 0.5], corpus=True)
    r = evalkit_cli("gate", "--baseline", "a", "--candidate", "b", "--store", store, "--inconclusive", "pass")
    assert r.exit_code == 0
    assert "Warning: not gated: tiny-model / summ / zero-shot / bleu is compared on its stored aggregates" in r.stdout
    assert "(1 required rows: 0 PASS, 0 FAIL, 1 INCONCLUSIVE" in r.stdout


def test_scores_that_are_not_json_or_a_doc_id_that_is_not_an_integer_give_exit_2(store: Path, tmp_path: Path,
                                                                                   evalkit_cli) -> None:
    baseline = _export(evalkit_cli, store, "base", tmp_path / "base.csv")
    samples = tmp_path / "base.samples.csv"
    samples.write_text(samples.read_text(encoding="utf-8").replace('"{""acc"": 1.0}"', '"{""acc"": 1.0"', 1),
                       encoding="utf-8")
    r = evalkit_cli("gate", "--baseline", baseline, "--candidate", "drop", "--store", store)
    assert r.exit_code == 2 and "a document of tiny-model / sst2 / zero-shot cannot be read: doc_id 0 has " \
                                "scores that are not valid JSON" in r.stderr  # was a JSONDecodeError
    exported = _export(evalkit_cli, store, "base", tmp_path / "base.json")
    doc = json.loads(exported.read_text(encoding="utf-8"))
    doc["samples"][3]["doc_id"] = "three"
    exported.write_text(json.dumps(doc), encoding="utf-8")
    r = evalkit_cli("gate", "--baseline", exported, "--candidate", "drop", "--store", store)
    assert r.exit_code == 2 and "doc_id 'three' is not an integer" in r.stderr  # was a TypeError


def test_a_failed_baseline_file_cannot_be_gated(store: Path, tmp_path: Path, evalkit_cli) -> None:
    baseline = _export(evalkit_cli, store, "base", tmp_path / "base.json")
    doc = json.loads(baseline.read_text(encoding="utf-8"))
    doc["run"]["status"] = "failed"
    baseline.write_text(json.dumps(doc), encoding="utf-8")
    r = evalkit_cli("gate", "--baseline", baseline, "--candidate", "noise", "--store", store)
    assert r.exit_code == 2 and f"Results file '{baseline}' (run 'base') has status 'failed'" in r.stderr


def test_a_not_gated_metric_is_a_skipped_junit_case(tmp_path: Path, evalkit_cli) -> None:
    store = _continuous_store(tmp_path / "s.db", [0.8, 0.6, 0.7, 0.5], [0.8, 0.6, 0.7, 0.5], corpus=True)
    r = evalkit_cli("gate", "--baseline", "a", "--candidate", "b", "--format", "junit", "--store", store)
    assert r.exit_code == 3
    assert 'skipped="1"' in r.stdout and '<skipped message="not tested (no per-document scores' in r.stdout
    assert 'errors="1"' in r.stdout and 'type="INCONCLUSIVE"' in r.stdout


def test_a_baseline_file_of_the_candidate_run_itself_is_refused(store: Path, tmp_path: Path, evalkit_cli) -> None:
    """CI exported the baseline from run X; the new run failed, so `latest` is X again: a gate of X
    against itself would pass every time. Refused, pointing at `latest`."""
    baseline = _export(evalkit_cli, store, "latest", tmp_path / "base.json")  # newconfig, the newest complete run
    r = evalkit_cli("gate", "--baseline", baseline, "--store", store)
    assert r.exit_code == 2, r.output
    assert "are the same run (33333333-newconfig): a gate of a run against itself always passes" in r.stderr
    assert "`latest` is the newest *complete* run" in r.stderr


def test_baseline_and_candidate_are_checked_as_run_references(store: Path, tmp_path: Path, evalkit_cli) -> None:
    (tmp_path / "ci").mkdir()
    for option in ("--baseline", "--candidate"):
        args = {"--baseline": "base", "--candidate": "drop", option: f"{tmp_path / 'ci'}/"}
        r = evalkit_cli("gate", *[x for pair in args.items() for x in pair], "--store", store)
        assert r.exit_code == 2
        assert f"Invalid value for '{option}': '{tmp_path / 'ci'}/' is a directory, not a run" in r.stderr


def test_a_candidate_that_stopped_running_a_baseline_task_fails_unless_allowed(tmp_path: Path, evalkit_cli) -> None:
    store = tmp_path / "s.db"
    conn = open_for_writing(store)
    add_run(conn, "a", [CellSpec("rte", {"acc": binary(40, 20)}), CellSpec("sst2", {"acc": binary(40, 36)})],
            name="base", created_at="1")
    add_run(conn, "b", [CellSpec("rte", {"acc": binary(40, 20)})], name="cand", created_at="2")
    conn.close()
    r = evalkit_cli("gate", "--baseline", "base", "--candidate", "cand", "--store", store)
    assert r.exit_code == 1, r.output
    assert "Gate NO-GO: a required result is missing" in r.stdout
    assert "missing: tiny-model / sst2 / zero-shot has no counterpart in cand" in r.stdout
    assert "--allow-missing" in r.stderr
    junit = evalkit_cli("gate", "--baseline", "base", "--candidate", "cand", "--store", store, "--format", "junit")
    assert junit.exit_code == 1 and 'type="missing"' in junit.stdout and 'failures="1"' in junit.stdout
    allowed = evalkit_cli("gate", "--baseline", "base", "--candidate", "cand", "--allow-missing", "--store", store,
                          "--max-drop", "0.3")
    assert allowed.exit_code == 0 and "Gate GO" in allowed.stdout
    assert "not gated: tiny-model / sst2 / zero-shot has no counterpart in cand" in allowed.stdout
