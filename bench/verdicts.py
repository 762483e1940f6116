"""The gate's verdicts on simulated suites: evalkit's three-way rule against NVIDIA NeMo Evaluator's rule
(re-implemented from its documentation) and against evalkit's round-three rule, in one run.

    .venv/bin/python bench/verdicts.py [--sims 300] [--quick]

Each cell of the grid is a suite of R gated rows (1, 5, 20), n documents per row (50 ... 5,000), 0/1 or
continuous per-document scores, documents independent or in clusters of 5 (intra-cluster correlation
about 0.3), and every row's true drop a multiple m of the tolerance (0, 0.5, 1, 1.25, 2, 3). Printed per cell:
- false GO: the suite passed while its rows' true drop is beyond the tolerance (m > 1);
- false NO-GO: the suite failed while every true drop is within the tolerance (m <= 1);
- INCONCLUSIVE: neither.
The goal is both error rates at most alpha (0.05) in every cell (Monte-Carlo standard error about
sqrt(0.05 * 0.95 / sims); cells beyond alpha + 2 SE are flagged '!'), and fewer INCONCLUSIVE verdicts than
NeMo's rule at equal n where both are valid.

The rules:
- evalkit: per row Tango's score test (0/1, independent) or the t / cluster-robust t test of the drop
  against the tolerance; FAIL when p_fail, Holm-adjusted over the suite, is below alpha; PASS when p_pass
  is below alpha (intersection-union for GO); evalkit.compare.gate.classify and suite_verdict decide.
- NeMo (docs/tutorials/quality-gate): a two-sided 95% normal interval on the paired delta (Wald for 0/1,
  clustered by category when labels exist); BREACH when the whole interval lies beyond the allowed drop,
  PASS when all of it lies within, INSUFFICIENT_EVIDENCE otherwise; no correction across benchmarks.
- round three: a row regresses when its drop exceeds the tolerance AND the two-sided test (McNemar exact,
  the paired t for continuous scores as a stand-in for the sign-flip test) is significant after Holm;
  anything else passes (no INCONCLUSIVE).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats as st

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evalkit.compare.gate import classify, suite_verdict  # noqa: E402
from evalkit.stats import adjust_pvalues, mcnemar_exact  # noqa: E402
from evalkit.stats.margins import binary_margin_test, mean_margin_test  # noqa: E402

ALPHA = 0.05
CLUSTER = 5
BINARY_TOLERANCE, DISCORDANCE, CLUSTER_SD_BINARY = 0.02, 0.3, 0.08
CONTINUOUS_TOLERANCE = 0.1


@dataclass(frozen=True)
class Cell:
    rows: int
    n: int
    kind: str  # "0/1" or "cont"
    clustered: bool
    multiple: float  # true drop / tolerance


def simulate_row(rng: np.random.Generator, cell: Cell) -> tuple[np.ndarray, np.ndarray | None, float]:
    """Per-document drops (positive = worse), cluster labels or None, and the tolerance."""
    groups = np.repeat(np.arange(math.ceil(cell.n / CLUSTER)), CLUSTER)[:cell.n] if cell.clustered else None
    if cell.kind == "0/1":
        drop = cell.multiple * BINARY_TOLERANCE
        shift = np.full(cell.n, drop)
        if groups is not None:  # each cluster's drop varies around the row's (kept inside the discordance)
            shift = drop + rng.normal(0, CLUSTER_SD_BINARY, groups.max() + 1)[groups]
            shift = np.clip(shift, -DISCORDANCE + 1e-9, DISCORDANCE - 1e-9)
        u = rng.random(cell.n)
        worse, better = (DISCORDANCE + shift) / 2, (DISCORDANCE - shift) / 2
        drops = np.where(u < worse, 1.0, np.where(u < worse + better, -1.0, 0.0))
        return drops, groups, BINARY_TOLERANCE
    drop = cell.multiple * CONTINUOUS_TOLERANCE
    noise = rng.gamma(2.0, 0.5, cell.n) - 1.0  # skewed, mean 0, sd 0.71
    if groups is not None:
        noise = 0.77 * noise + rng.normal(0, 0.45, groups.max() + 1)[groups]  # ICC about 0.3
    return drop + noise, groups, CONTINUOUS_TOLERANCE


def evalkit_rule(rows: list[tuple[np.ndarray, np.ndarray | None, float]]) -> str:
    tests = []
    for drops, groups, tol in rows:
        if groups is None and set(np.unique(drops)) <= {-1.0, 0.0, 1.0}:
            tests.append(binary_margin_test(int(np.sum(drops > 0)), int(np.sum(drops < 0)), drops.size, tol,
                                            ALPHA, bounds=False))
        else:
            tests.append(mean_margin_test(drops, tol, ALPHA, groups))
    adjusted = adjust_pvalues([t.p_fail for t in tests], "holm")
    return suite_verdict([classify(a, t.p_pass, ALPHA) for a, t in zip(adjusted, tests)])


def nemo_rule(rows: list[tuple[np.ndarray, np.ndarray | None, float]]) -> str:
    verdicts = []
    z = float(st.norm.ppf(0.975))
    for drops, groups, tol in rows:
        n, mean = drops.size, float(drops.mean())
        if groups is None:
            se = float(np.std(drops, ddof=1)) / math.sqrt(n) if n > 1 else math.inf
        else:
            _, index = np.unique(groups, return_inverse=True)
            sums = np.bincount(index, weights=drops - mean)
            g = sums.size
            se = math.sqrt(g / (g - 1) * float(np.sum(sums ** 2))) / n
        low, high = mean - z * se, mean + z * se
        verdicts.append("FAIL" if low > tol else "PASS" if high <= tol else "INCONCLUSIVE")
    return suite_verdict(verdicts)


def round_three_rule(rows: list[tuple[np.ndarray, np.ndarray | None, float]]) -> str:
    p_values, drops_seen = [], []
    for drops, _, tol in rows:
        if set(np.unique(drops)) <= {-1.0, 0.0, 1.0}:
            p = mcnemar_exact(int(np.sum(drops < 0)), int(np.sum(drops > 0)))
        else:
            p = float(st.ttest_1samp(drops, 0.0).pvalue)
        p_values.append(p)
        drops_seen.append(float(drops.mean()) > tol)
    adjusted = adjust_pvalues(p_values, "holm")
    return "NO-GO" if any(d and a < ALPHA for d, a in zip(drops_seen, adjusted)) else "GO"


RULES = {"evalkit": evalkit_rule, "NeMo": nemo_rule, "round 3": round_three_rule}


def rates(cell: Cell, sims: int, seed: int) -> dict[str, tuple[float, float, float]]:
    """(false GO, false NO-GO, INCONCLUSIVE) rate of each rule in one cell."""
    rng = np.random.default_rng(seed)
    counts = {name: {"GO": 0, "NO-GO": 0, "INCONCLUSIVE": 0} for name in RULES}
    for _ in range(sims):
        suite = [simulate_row(rng, cell) for _ in range(cell.rows)]
        for name, rule in RULES.items():
            counts[name][rule(suite)] += 1
    out = {}
    for name, c in counts.items():
        false_go = c["GO"] / sims if cell.multiple > 1 else 0.0
        false_no_go = c["NO-GO"] / sims if cell.multiple <= 1 else 0.0
        out[name] = (false_go, false_no_go, c["INCONCLUSIVE"] / sims)
    return out


def grid(quick: bool) -> list[Cell]:
    rows = (1, 5) if quick else (1, 5, 20)
    sizes = (50, 500) if quick else (50, 500, 5000)
    multiples = (0.0, 1.0, 1.25, 3.0) if quick else (0.0, 0.5, 1.0, 1.25, 2.0, 3.0)
    return [Cell(r, n, kind, clustered, m) for kind in ("0/1", "cont") for clustered in (False, True)
            for r in rows for n in sizes for m in multiples]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sims", type=int, default=300, help="simulated suites per cell")
    parser.add_argument("--quick", action="store_true", help="a smaller grid")
    args = parser.parse_args()
    limit = ALPHA + 2 * math.sqrt(ALPHA * (1 - ALPHA) / args.sims)
    started = time.perf_counter()
    print(f"alpha {ALPHA}; {args.sims} suites per cell; '!' marks a rate above {limit:.3f} (alpha + 2 SE)")
    print(f"{'kind':4} {'clus':4} {'R':>2} {'n':>5} {'m':>4} | " + " | ".join(
        f"{name:^20}" for name in RULES))
    print(f"{'':23}| " + " | ".join(f"{'fGO':>6}{'fNOGO':>7}{'INC':>6} " for _ in RULES))
    results = []
    for i, cell in enumerate(grid(args.quick)):
        result = rates(cell, args.sims, seed=i)
        results.append((cell, result))
        cols = []
        for name, (fgo, fnogo, inc) in result.items():
            flag = lambda r: "!" if r > limit else " "  # noqa: E731
            cols.append(f"{fgo:6.3f}{flag(fgo)}{fnogo:6.3f}{flag(fnogo)}{inc:5.2f} ")
        print(f"{cell.kind:4} {'yes' if cell.clustered else 'no':4} {cell.rows:2d} {cell.n:5d} {cell.multiple:4.2f} | "
              + " | ".join(cols), flush=True)
    summary(results, limit)
    print(f"{time.perf_counter() - started:.0f} s")


def summary(results: list[tuple[Cell, dict[str, tuple[float, float, float]]]], limit: float) -> None:
    """Per (kind, clusters, rows): each rule's worst false GO / false NO-GO over n and m, mean INCONCLUSIVE;
    then evalkit against NeMo where NeMo's rule is valid for the whole configuration (R, n, kind, clusters)."""
    groups: dict[tuple[str, bool, int], list] = {}
    configs: dict[tuple[str, bool, int, int], list] = {}
    for cell, result in results:
        groups.setdefault((cell.kind, cell.clustered, cell.rows), []).append(result)
        configs.setdefault((cell.kind, cell.clustered, cell.rows, cell.n), []).append(result)
    print("\n| scores | clusters | rows | " + " | ".join(f"{n}: false GO / false NO-GO / INCONCLUSIVE" for n in RULES) + " |")
    print("| --- | --- | ---: | " + " | ".join("---" for _ in RULES) + " |")
    for (kind, clustered, rows), found in groups.items():
        cols = [f"{max(r[n][0] for r in found):.3f} / {max(r[n][1] for r in found):.3f} / "
                f"{np.mean([r[n][2] for r in found]):.2f}" for n in RULES]
        print(f"| {kind} | {'yes' if clustered else 'no'} | {rows} | " + " | ".join(cols) + " |")
    valid = [r for found in configs.values() if all(max(x["NeMo"][:2]) <= limit for x in found) for r in found]
    fewer = sum(r["evalkit"][2] < r["NeMo"][2] for r in valid)
    more = sum(r["evalkit"][2] > r["NeMo"][2] for r in valid)
    invalid = sum(1 for found in configs.values() if not all(max(x["NeMo"][:2]) <= limit for x in found))
    print(f"\nNeMo's rule has an error rate above {limit:.3f} in {invalid} of {len(configs)} configurations "
          f"(rows x n x scores x clusters). Where it is valid ({len(valid)} cells), INCONCLUSIVE: evalkit "
          f"{np.mean([r['evalkit'][2] for r in valid]):.3f}, NeMo {np.mean([r['NeMo'][2] for r in valid]):.3f}; "
          f"evalkit fewer in {fewer} cells, more in {more}.")
    worst = {n: (max(r[n][0] for _, res in results for r in [res]), max(r[n][1] for _, res in results for r in [res]))
             for n in RULES}
    print("worst false GO / false NO-GO over the grid: " + "; ".join(f"{n} {w[0]:.3f} / {w[1]:.3f}" for n, w in worst.items()))

if __name__ == "__main__":
    main()
