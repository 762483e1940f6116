"""Paired comparison of matched cells, metric by metric, with p-values adjusted across all rows."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from evalkit.compare.corpus import aligned_items, paired_corpus_bootstrap
from evalkit.compare.comparability import check_runs, enforce, metric_directions, missing_metrics
from evalkit.compare.flips import flip_rows
from evalkit.compare.matching import CellPair, cell_name, pair_run_cells, pair_settings
from evalkit.compare.result import NO_ITEM_SCORES, FLIP_COLUMNS, ROW_COLUMNS, CompareOptions, Comparison
from evalkit.compare.scores import is_corpus_level, item_scores
from evalkit.compare.sources import RunSide
from evalkit.errors import IncomparableRunsError, InputError, did_you_mean
from evalkit.metric_semantics import MetricSemantics, semantics
from evalkit.stats import adjust_pvalues, is_binary, minimum_detectable_difference, paired_compare



def compare_runs(sides: list[RunSide], options: CompareOptions) -> Comparison:
    """Compare every later run against the first; refuse incomparable runs unless allowed."""
    check_metric_names(sides, options.metrics)
    reference, warnings, notes, pairs = sides[0], [], [], []
    not_compared: list[str] = []
    for other in sides[1:]:
        found, only_ref, only_other = pair_run_cells(reference, other)
        problems = check_runs(reference, other, found)
        warnings += enforce(problems, (reference.label, other.label), allow=options.allow_incomparable)
        pairs += [p for p in found if not p.aligned.empty]
        notes += [f"{c} is only in {reference.label}" for c in only_ref]
        notes += [f"{c} is only in {other.label}" for c in only_other]
        not_compared += [f"{c} has no counterpart in {other.label}" for c in only_ref]
        not_compared += [f"{cell_name(p.cell_a)} has no documents in common with {other.label}"
                         for p in found if p.aligned.empty]
    not_compared += [m for p in pairs for m in missing_metrics(p, options.metrics)]
    warnings += [f"{s.label} is an incomplete run (status '{s.run.get('status')}')"
                 for s in sides if s.run.get("status") != "complete"]
    warnings += same_run_warnings(sides)
    rows, flips, row_pairs = _rows_for_pairs(pairs, options)
    if rows.empty:
        labels = ", ".join(s.label for s in sides)
        raise IncomparableRunsError(f"Runs {labels} have no (task, setting, metric) with documents in common.",
                                    hint="Check the run references and --metric; see `evalkit results show RUN`.")
    notes += _unmatched_document_notes(pairs)
    notes += _identical_score_notes(pairs, options)
    return Comparison(rows=rows, flips=flips, labels=[s.label for s in sides], kind="runs",
                      correction=options.correction, alpha=options.alpha, confidence=options.confidence,
                      warnings=warnings, notes=notes, not_compared=not_compared, row_pairs=row_pairs)


def same_run_warnings(sides: list[RunSide]) -> list[str]:
    """One run read twice (a store run and its own export, say: the same reference twice is refused at
    opening) compares the run with itself: warn for every such pair, not only those with the reference."""
    return [f"{later.label} is the same run as {earlier.label} ({later.run_id}), read from another source: "
            "differences come only from edits to one of them"
            for i, earlier in enumerate(sides) for later in sides[i + 1:] if later.run_id == earlier.run_id]


def check_metric_names(sides: list[RunSide], wanted: tuple[str, ...]) -> None:
    """InputError for a --metric that none of the runs reports (a typo would otherwise read as
    'no metric in common'), naming the metrics they do report."""
    reported = sorted({str(m) for s in sides for m in s.metrics.metric})
    unknown = [m for m in wanted if m not in reported]
    if unknown:
        labels = ", ".join(s.label for s in sides)
        raise InputError(f"--metric {unknown[0]!r} is not reported by {labels}; they report: "
                         f"{', '.join(reported) or 'no metrics'}." + did_you_mean(unknown[0], reported),
                         hint="Pass --metric with one of those names, or leave it out to compare every metric.")


def compare_settings(side: RunSide, options: CompareOptions) -> Comparison | None:
    """Within one run, compare each (model, task)'s other settings with its reference setting."""
    check_metric_names([side], options.metrics)
    pairs = [p for p in pair_settings(side) if not p.aligned.empty]
    rows, flips, row_pairs = _rows_for_pairs(pairs, options)
    if rows.empty:
        return None
    labels = list(dict.fromkeys([p.label_a for p in pairs] + [p.label_b for p in pairs]))
    return Comparison(rows=rows, flips=flips, labels=labels, kind="settings", correction=options.correction,
                      alpha=options.alpha, confidence=options.confidence,
                      notes=_unmatched_document_notes(pairs), row_pairs=row_pairs)


def _rows_for_pairs(pairs: list[CellPair], options: CompareOptions
                    ) -> tuple[pd.DataFrame, pd.DataFrame, tuple[CellPair, ...]]:
    """All metric rows of all pairs, adjusted together; the flipped documents; each row's cell pair."""
    rows: list[dict[str, Any]] = []
    flips: list[dict[str, Any]] = []
    row_pairs: list[CellPair] = []
    for pair in pairs:
        for metric, higher_is_better in metric_directions(pair, options.metrics):
            row, values = _metric_row(pair, metric, higher_is_better, options)
            rows.append(row)
            row_pairs.append(pair)
            if values is not None and options.flips > 0 and row["method"] == "mcnemar-exact":
                flips += flip_rows(pair, metric, higher_is_better, values, options.flips)
    frame = pd.DataFrame(rows, columns=ROW_COLUMNS)
    return _adjust(frame, options), pd.DataFrame(flips, columns=FLIP_COLUMNS), tuple(row_pairs)


def _metric_row(pair: CellPair, metric: str, higher_is_better: bool,
                options: CompareOptions) -> tuple[dict[str, Any], tuple[np.ndarray, np.ndarray] | None]:
    """One comparison row: paired statistics for a per-document metric, aggregates for a corpus-level one."""
    row: dict[str, Any] = {"a": pair.label_a, "b": pair.label_b, "model": pair.model,
                           "model_a": pair.cell_a.model, "model_b": pair.cell_b.model, "task": pair.task,
                           "setting": pair.setting, "metric": metric, "higher_is_better": higher_is_better,
                           "unmatched_a": pair.unmatched_a, "unmatched_b": pair.unmatched_b}
    meaning = semantics(metric, higher_is_better, not is_corpus_level(pair, metric))
    values = None if meaning.paired_test == "corpus" else item_scores(pair, metric)
    if values is None:
        row.update(_corpus_row(pair, metric, meaning, options))
        return row, None
    result = paired_compare(values[0], values[1], confidence=options.confidence, n_boot=options.n_boot,
                            seed=options.seed, n_perm=options.n_perm)
    row.update(value_a=result.mean_a, value_b=result.mean_b, delta=result.delta, ci_low=result.low,
               ci_high=result.high, p_value=result.p_value, n=result.n, improved=result.improved,
               worsened=result.worsened, method=result.method,
               mde=_mde(values, result.n, options))
    return row, values


def _corpus_row(pair: CellPair, metric: str, meaning: MetricSemantics, options: CompareOptions) -> dict[str, Any]:
    """A corpus-level metric: the paired bootstrap over documents when its items are stored and its
    aggregation known, else the stored aggregates alone (no interval, no p-value: not tested)."""
    items = aligned_items(pair, metric)
    boot = None if items is None else paired_corpus_bootstrap(*items, meaning, n_boot=options.n_boot,
                                                              seed=options.seed)
    value_a = _aggregate(pair.a, pair.cell_a, metric)
    value_b = _aggregate(pair.b, pair.cell_b, metric)
    if boot is None or not (_agrees(boot.value_a, value_a) and _agrees(boot.value_b, value_b)):
        return dict(value_a=value_a, value_b=value_b, delta=value_b - value_a, ci_low=math.nan, ci_high=math.nan,
                    p_value=math.nan, mde=math.nan, n=len(pair.aligned), improved=None, worsened=None,
                    method=NO_ITEM_SCORES)
    tail = (1.0 - options.confidence) / 2.0
    low, high = (float(q) for q in np.quantile(boot.deltas, [tail, 1.0 - tail]))
    below, above = int(np.sum(boot.deltas <= 0.0)), int(np.sum(boot.deltas >= 0.0))
    p_value = min(1.0, 2.0 * min(below + 1, above + 1) / (boot.deltas.size + 1))
    return dict(value_a=boot.value_a, value_b=boot.value_b, delta=boot.value_b - boot.value_a, ci_low=low,
                ci_high=high, p_value=p_value, mde=math.nan, n=len(pair.aligned), improved=None, worsened=None,
                method=boot.method)


def _agrees(recomputed: float, stored: float) -> bool:
    """A corpus metric recomputed from the stored items matches the stored aggregate (or none is stored)?
    When not (edited values, another metric definition) the items cannot stand for it: not tested."""
    return math.isnan(stored) or math.isclose(recomputed, stored, rel_tol=1e-6, abs_tol=1e-9)


def _mde(values: tuple[np.ndarray, np.ndarray], n: int, options: CompareOptions) -> float:
    """Minimum detectable difference at n: observed discordance for 0/1 scores, sd of differences otherwise.

    NaN (rendered "n/e", not estimable) when that spread is zero or n < 2.
    """
    a, b = values
    if is_binary(a) and is_binary(b):
        return minimum_detectable_difference(n, alpha=options.alpha, power=options.power,
                                             discordance=float(np.mean(a != b)))
    std = float(np.std(b - a, ddof=1)) if n > 1 else 0.0
    return minimum_detectable_difference(n, alpha=options.alpha, power=options.power, std_diff=std)


def _aggregate(side: RunSide, cell: pd.Series, metric: str) -> float:
    """A stored aggregate metric value; InputError when it is there but not a number."""
    found = side.metrics[(side.metrics.cell_id == cell.cell_id) & (side.metrics.metric == metric)].value
    if not len(found) or found.iloc[0] is None:
        return math.nan
    try:
        return float(found.iloc[0])
    except (TypeError, ValueError) as exc:
        raise InputError(f"{side.where}: metric '{metric}' of {cell.model} / {cell.task} / {cell.setting} "
                         f"has the aggregate value {found.iloc[0]!r}, not a number.",
                         hint="Export the baseline again with `evalkit results export RUN -o FILE`.") from exc


def _adjust(frame: pd.DataFrame, options: CompareOptions) -> pd.DataFrame:
    """Adjusted p-values across every tested row; significance and direction of change."""
    tested = frame.p_value.notna()
    frame["p_adjusted"] = math.nan
    if tested.any():
        frame.loc[tested, "p_adjusted"] = adjust_pvalues(frame.loc[tested, "p_value"].tolist(), options.correction)
    frame["significant"] = frame.p_adjusted < options.alpha
    gain = np.where(frame.higher_is_better.astype(bool), frame.delta, -frame.delta) if len(frame) else []
    frame["change"] = np.where(~frame.significant, "", np.where(np.asarray(gain) > 0, "better", "worse"))
    return frame


def _unmatched_document_notes(pairs: list[CellPair]) -> list[str]:
    """Notes for cells whose documents only partly matched (the comparison uses the inner join)."""
    return [f"{p.model} / {p.task} / {p.setting or p.label_b}: compared {len(p.aligned)} matched documents; "
            f"{p.unmatched_a} only in {p.label_a}, {p.unmatched_b} only in {p.label_b}"
            for p in pairs if p.unmatched_a or p.unmatched_b]


def _identical_score_notes(pairs: list[CellPair], options: CompareOptions) -> list[str]:
    """A note for each cell pair whose per-document scores are all equal (an lm-eval import against
    evalkit's own run of the same task: the proof that switching changed nothing)."""
    notes = []
    for pair in pairs:
        scored = [(m, item_scores(pair, m)) for m, _ in metric_directions(pair, options.metrics)]
        scored = [(m, v) for m, v in scored if v is not None]
        if scored and all(np.array_equal(a, b) for _, (a, b) in scored):
            notes.append(f"{pair.model} / {pair.task} / {pair.setting or pair.label_b}: {pair.label_a} and "
                         f"{pair.label_b} have identical per-document scores on {len(pair.aligned)} documents "
                         f"({', '.join(m for m, _ in scored)})")
    return notes
