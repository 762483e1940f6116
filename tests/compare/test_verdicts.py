"""The three-way gate: rows PASS / FAIL / INCONCLUSIVE against their tolerance, the suite GO / NO-GO /
INCONCLUSIVE, perplexity judged as perplexity, corpus metrics gated, clusters, policies."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from evalkit.compare import CompareOptions, RunOpener, compare_runs, decide_gate, open_runs
from evalkit.compare.policy import load_policy
from evalkit.errors import InputError
from evalkit.store.schema import open_for_writing
from evalkit.stats.margins import _restricted_better, binary_margin_test, mean_margin_test
from tests.compare.synthetic import CellSpec, add_run, binary


def _store(path: Path, cells_a: list[CellSpec], cells_b: list[CellSpec]) -> Path:
    conn = open_for_writing(path)
    add_run(conn, "a", cells_a, name="a", created_at="2025-01-01")
    add_run(conn, "b", cells_b, name="b", created_at="2025-01-02")
    conn.close()
    return path


def _gate(path: Path, policy: Any = 0.01, **options: Any):  # type: ignore[no-untyped-def]
    with RunOpener(path) as opener:
        sides = open_runs(opener, ["a", "b"])
        return decide_gate(compare_runs(sides, CompareOptions(**options)), policy)


def test_a_ten_point_drop_on_fifty_documents_is_no_go(tmp_path: Path) -> None:
    """Round three's gate printed PASSED here (McNemar p = 0.062 is not significant)."""
    store = _store(tmp_path / "s.db", [CellSpec("t", {"acc": [1] * 50})], [CellSpec("t", {"acc": [1] * 45 + [0] * 5})])
    outcome = _gate(store)
    row = outcome.comparison.rows.iloc[0]
    assert outcome.verdict == "NO-GO" and row.verdict == "FAIL"
    assert row.drop_low > 0.01 and "a drop beyond the tolerance 0.01 is established" in row.reason


def test_a_large_task_with_no_change_passes_and_a_small_one_is_inconclusive(tmp_path: Path) -> None:
    big = _store(tmp_path / "big.db", [CellSpec("t", {"acc": binary(2000, 1500)})],
                 [CellSpec("t", {"acc": binary(2000, 1500)})])
    assert _gate(big, 0.02).verdict == "GO"
    small = _store(tmp_path / "small.db", [CellSpec("t", {"acc": binary(40, 30)})],
                   [CellSpec("t", {"acc": binary(40, 30)})])
    outcome = _gate(small, 0.02)
    assert outcome.verdict == "INCONCLUSIVE" and outcome.comparison.rows.iloc[0].verdict == "INCONCLUSIVE"


def test_perplexity_is_judged_as_perplexity_not_as_its_log_likelihoods(tmp_path: Path) -> None:
    """lm-eval stores each document's log-likelihood under `perplexity`; the metric is exp(-mean), lower better."""
    rng = np.random.default_rng(0)
    broken = list(-17.0 + rng.normal(0, 1, 200))
    good = list(-3.0 + rng.normal(0, 1, 200))
    lower = {"perplexity": False}

    def cells(lls: list[float]) -> list[CellSpec]:
        return [CellSpec("lambada", {"perplexity": lls}, higher_is_better=lower,
                         aggregates={"perplexity": math.exp(-float(np.mean(lls)))})]
    improved = _store(tmp_path / "up.db", cells(broken), cells(good))
    outcome = _gate(improved, 0.5)
    row = outcome.comparison.rows.iloc[0]
    assert row.value_a == pytest.approx(math.exp(-np.mean(broken))) and row.value_b == pytest.approx(math.exp(-np.mean(good)))
    assert outcome.verdict == "GO" and row["drop"] < 0
    regressed = _store(tmp_path / "down.db", cells(good), cells(broken))
    assert _gate(regressed, 0.5).verdict == "NO-GO"


def test_a_bleu_drop_from_30_to_12_fails_the_gate(tmp_path: Path) -> None:
    from lm_eval.api.metrics import bleu

    refs = [f"the quick brown fox number {i} jumps over the lazy dog today" for i in range(80)]
    good = [(r, r if i % 3 else r.replace("lazy", "sleepy")) for i, r in enumerate(refs)]
    bad = [(r, " ".join(r.split()[:4]) + " something else entirely") for r in refs]
    spec = lambda items: [CellSpec("wmt", {"bleu": [list(x) for x in items]}, aggregates={"bleu": bleu(items)})]  # noqa: E731
    outcome = _gate(_store(tmp_path / "s.db", spec(good), spec(bad)), 1.0)
    row = outcome.comparison.rows.iloc[0]
    assert row.method.startswith("paired-bootstrap") and row.value_a == pytest.approx(bleu(good))
    assert outcome.verdict == "NO-GO" and row.verdict == "FAIL"


def test_a_candidate_on_fewer_documents_is_missing_them(tmp_path: Path) -> None:
    store = _store(tmp_path / "s.db", [CellSpec("t", {"acc": binary(400, 300)})],
                   [CellSpec("t", {"acc": binary(20, 15)})])
    outcome = _gate(store, 0.2, allow_incomparable=True)
    assert outcome.verdict == "NO-GO"
    assert outcome.missing == ["tiny-model / t / zero-shot: 380 of the baseline's 400 documents are not in the candidate"]


def test_a_drop_equal_to_the_tolerance_up_to_rounding_is_not_beyond_it() -> None:
    drops = np.array([0.1 - 0.09] * 10 + [0.02 - 0.01] * 10) + np.repeat([0.001, -0.001], 10)
    assert drops.mean() != 0.01 and abs(drops.mean() - 0.01) < 1e-15
    test = mean_margin_test(drops, 0.01)
    assert test.p_fail == 0.5 == test.p_pass


def test_tango_restricted_estimate_maximises_the_likelihood() -> None:
    from scipy.optimize import minimize_scalar

    for worse, better, n, d0 in [(5, 0, 50, 0.01), (10, 3, 100, -0.05), (2, 9, 40, 0.1), (30, 28, 500, 0.02)]:
        def nll(q: float) -> float:
            return -(worse * math.log(q + d0) + better * math.log(q) + (n - worse - better) * math.log(1 - 2 * q - d0))
        lo, hi = max(0.0, -d0) + 1e-9, (1 - d0) / 2 - 1e-9
        best = minimize_scalar(nll, bounds=(lo, hi), method="bounded", options={"xatol": 1e-12}).x
        assert _restricted_better(worse, better, n, d0) == pytest.approx(best, abs=1e-6)


def test_binary_bounds_invert_the_test() -> None:
    test = binary_margin_test(12, 4, 300, 0.01)
    assert binary_margin_test(12, 4, 300, test.low).p_fail == pytest.approx(0.05, abs=1e-6)
    assert binary_margin_test(12, 4, 300, test.high).p_pass == pytest.approx(0.05, abs=1e-6)


def test_cluster_robust_standard_error_matches_statsmodels() -> None:
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(1)
    groups = np.repeat(np.arange(30), 5)
    drops = rng.normal(0, 1, 30)[groups] * 0.5 + rng.normal(0, 1, groups.size)
    fit = sm.OLS(drops, np.ones(groups.size)).fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
    test = mean_margin_test(drops, 0.0, clusters=groups)
    assert test.clusters == 30 and test.design_effect and test.design_effect > 1.5
    two_sided = float(fit.t_test(np.eye(1)).pvalue)
    assert test.p_fail == pytest.approx(two_sided / 2 if fit.params[0] > 0 else 1 - two_sided / 2, rel=1e-9)
    half = float(fit.conf_int(alpha=0.10)[0][1] - fit.params[0])
    assert test.high - test.drop == pytest.approx(half, rel=1e-9)


def test_clustered_documents_widen_the_interval(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    groups = np.repeat(np.arange(20), 10)
    drops = rng.normal(0, 1, 20)[groups] + rng.normal(0, 0.3, groups.size)
    plain, clustered = mean_margin_test(drops, 0.0), mean_margin_test(drops, 0.0, clusters=groups)
    assert clustered.high - clustered.low > 2 * (plain.high - plain.low)


def test_policy_overrides_tiers_and_required_tasks(tmp_path: Path) -> None:
    store = _store(tmp_path / "s.db", [CellSpec("t", {"acc": [1] * 50}), CellSpec("u", {"acc": binary(3000, 2000)})],
                   [CellSpec("t", {"acc": [1] * 45 + [0] * 5}), CellSpec("u", {"acc": binary(3000, 2000)})])
    policy = tmp_path / "policy.yaml"
    policy.write_text("defaults: {tolerance: 0.02}\nrules:\n  - {task: t, tier: advisory}\n")
    outcome = _gate(store, load_policy(policy))
    rows = outcome.comparison.rows.set_index("task")
    assert rows.loc["t", "verdict"] == "FAIL" and rows.loc["t", "tier"] == "advisory"
    assert outcome.verdict == "GO"  # the only required row passes
    policy.write_text("defaults: {tolerance: 0.02}\nrules:\n  - {task: t, tier: advisory}\nrequired_tasks: [v]\n")
    assert _gate(store, load_policy(policy)).verdict == "NO-GO"


@pytest.mark.parametrize(("text", "message"), [
    ("defaults: {tolerance: -1}\n", "line 1: 'tolerance' must be a finite number >= 0"),
    ("defaults:\n  tolerance: 0.01\n  tier: mandatory\n", "line 3: 'tier' must be one of required, advisory"),
    ("rules:\n  - {task: t, toleranse: 0.1}\n", "line 2: unknown key 'toleranse' in rule 1"),
    ("rules: 3\n", "line 1: 'rules' must be a list"),
    ("defaults: {tolerance: 0.1}\ndefaults: {tolerance: 0.2}\n", "line 2: the key 'defaults' appears twice"),
])
def test_policy_errors_name_the_line_and_key(tmp_path: Path, text: str, message: str) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text(text)
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_policy(policy)


def test_the_gate_is_a_function_of_two_runs_and_a_policy(tmp_path: Path) -> None:
    import evalkit
    from evalkit.compare.api import verdict_table

    store = _store(tmp_path / "s.db", [CellSpec("t", {"acc": [1] * 50})], [CellSpec("t", {"acc": [1] * 45 + [0] * 5})])
    outcome = evalkit.gate("a", "b", store=store, max_drop=0.01)
    table = verdict_table(outcome)
    assert outcome.verdict == "NO-GO" and list(table.verdict) == ["FAIL"]
    assert {"drop_low", "drop_high", "tolerance", "reason", "tier"} <= set(table.columns)
    with pytest.raises(InputError, match="Unknown run"):
        evalkit.gate("nope", "b", store=store)


def test_flips_carry_cluster_and_decision_margins_most_decisive_first(tmp_path: Path) -> None:
    from dataclasses import replace

    from evalkit.report.tables import flips_table

    def cell(correct: list[int], lls: list[list[float]]) -> Any:
        record = CellSpec("t", {"acc": correct}).record(0)
        samples = [replace(s, outputs=[[ll, False] for ll in lls[i]], cluster=f"passage {i // 2}")
                   for i, s in enumerate(record.samples)]
        return replace(record, samples=samples)
    # gold is choice 0; A right on all three; B loses doc 0 narrowly and doc 2 by a wide margin
    lls_a = [[-1.0, -2.0], [-1.0, -3.0], [-1.0, -4.0]]
    lls_b = [[-2.1, -2.0], [-1.0, -3.0], [-5.0, -1.0]]
    conn = open_for_writing(tmp_path / "s.db")
    add_run(conn, "a", [cell([1, 1, 1], lls_a)], name="a", created_at="1")
    add_run(conn, "b", [cell([0, 1, 0], lls_b)], name="b", created_at="2")
    conn.close()
    with RunOpener(tmp_path / "s.db") as opener:
        comparison = compare_runs(open_runs(opener, ["a", "b"]), CompareOptions(flips=5))
    flips = comparison.flips
    assert list(flips.doc_id) == [2, 0]  # margin 3 -> -4 first, then 1 -> -0.1
    assert list(flips.margin_a) == pytest.approx([3.0, 1.0]) and list(flips.margin_b) == pytest.approx([-4.0, -0.1])
    assert list(flips.cluster) == ["passage 1", "passage 0"]
    table = flips_table(flips)
    assert table is not None and "Cluster" in table.headers and "Margin A → B" in table.headers
    assert table.rows[0][4:6] == ["passage 1", "+3.000 → -4.000"]


def test_a_policy_metric_no_row_reports_is_bad_input(tmp_path: Path) -> None:
    store = _store(tmp_path / "s.db", [CellSpec("t", {"acc": binary(100, 70)})], [CellSpec("t", {"acc": binary(100, 70)})])
    policy = tmp_path / "p.yaml"
    policy.write_text("metrics: [acc_nrom]\n")
    with pytest.raises(InputError, match="metric 'acc_nrom' under 'metrics' is not reported"):
        _gate(store, load_policy(policy))


def test_a_policy_that_is_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "policy.yaml"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="is a FIFO"):
        load_policy(fifo)


def test_the_gate_says_what_a_ci_subset_was_sized_for(tmp_path: Path) -> None:
    from dataclasses import replace

    design = {"source_task": "sst2", "target_drop": 0.05, "power": 0.8, "alpha": 0.05, "discordance": 0.2,
              "n": 420, "seed": 1, "tolerance": 0.0}
    record = CellSpec("t", {"acc": binary(100, 70)}).record(0)
    conn = open_for_writing(tmp_path / "s.db")
    add_run(conn, "a", [record], name="a", created_at="1")
    add_run(conn, "b", [replace(record, details={"subset": design})], name="b", created_at="2")
    conn.close()
    outcome = _gate(tmp_path / "s.db")
    assert outcome.comparison.rows.iloc[0].design == ("a CI subset of sst2 sized for 80% power to fail a drop of "
                                                      "0.05 at alpha 0.05 (420 documents)")
    from evalkit.report.tables import gate_lines
    assert any("a CI subset of sst2 sized for 80% power" in line for line in gate_lines(outcome))
