"""Report content as plain text tables (headers + string cells). Rich, markdown and HTML lay
these out; they never compute or format numbers themselves, so every format agrees."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from evalkit.compare.result import Comparison, GateOutcome
from evalkit.report.formatting import (NOT_ESTIMABLE, correction_name, fmt_count, fmt_delta, fmt_estimate,
                                       fmt_given, fmt_mde, fmt_p, fmt_signed, fmt_value, is_missing, tail_text)

REGRESSION = "REGRESSION"


@dataclass(frozen=True)
class TextTable:
    """A titled table of text cells; `numeric` lists the columns to right-align.

    On a terminal (evalkit.report.rich_fit) numeric columns and those in `whole` (decisions, step
    labels) are never wrapped or cut; `optional` lists the groups of columns a narrow terminal may
    leave out, the first group first (a note then names them)."""

    title: str
    headers: list[str]
    rows: list[list[str]]
    numeric: frozenset[int] = field(default_factory=frozenset)
    caption: str | None = None
    whole: frozenset[int] = field(default_factory=frozenset)
    optional: tuple[tuple[int, ...], ...] = ()


def results_table(frame: pd.DataFrame) -> TextTable | None:
    """Models (x setting, x run when several) down, task / metric across: value ± CI half-width.

    n goes in the column header when every cell of the column has the same n, else in the cell.
    """
    if frame is None or frame.empty:
        return None
    frame = frame.assign(setting=frame.setting.fillna(""))
    keys = (["run"] if "run" in frame and frame.run.nunique() > 1 else []) + ["model", "setting"]
    frame = _distinct_models(frame, keys)
    columns = list(dict.fromkeys(zip(frame.task, frame.metric)))
    common_n = {col: _common_n(frame[(frame.task == col[0]) & (frame.metric == col[1])].n) for col in columns}
    cells = {(tuple(r[k] for k in keys), (r["task"], r["metric"])):
             fmt_estimate(r["value"], r["ci_low"], r["ci_high"], None if common_n[(r["task"], r["metric"])] else r["n"])
             for r in frame.to_dict("records")}
    rows = []
    for key in dict.fromkeys(tuple(r) for r in frame[keys].itertuples(index=False, name=None)):
        rows.append([str(k) for k in key] + [cells.get((key, col), "") for col in columns])
    headers = [k.capitalize() for k in keys] + [
        f"{task} {metric}" + (f" (n={common_n[(task, metric)]})" if common_n[(task, metric)] else "")
        for task, metric in columns]
    return TextTable(title="Results (value ± half-width of the 95% CI; n documents)", headers=headers, rows=rows,
                     numeric=frozenset(range(len(keys), len(headers))),
                     optional=tuple((i,) for i in reversed(range(len(keys) + 1, len(headers)))))


def _distinct_models(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """A store written before labels were unique per run may hold two models of one label: tell them
    apart by their fingerprints rather than let one overwrite the other's cells."""
    if "model_fingerprint" not in frame or not frame.duplicated(keys + ["task", "metric"]).any():
        return frame
    shared = frame.groupby([k for k in keys if k != "setting"]).model_fingerprint.transform("nunique") > 1
    marked = frame.model.where(~shared, frame.model + " (" + frame.model_fingerprint.astype(str).str[:8] + ")")
    return frame.assign(model=marked)


def _common_n(values: pd.Series) -> int | None:
    """The n shared by every value of a column, or None when they differ or are unknown."""
    distinct = set(values.dropna().astype(int))
    return distinct.pop() if len(distinct) == 1 and values.notna().all() else None


def comparison_tables(comparison: Comparison) -> list[TextTable]:
    """One long table per (A, B) pair, or a wide table per reference with several B sides."""
    tables = []
    rows = comparison.rows
    for a in dict.fromkeys(rows.a):
        group = rows[rows.a == a]
        others = list(dict.fromkeys(group.b))
        table = _long_table(comparison, group, a, others[0]) if len(others) == 1 else \
            _wide_table(comparison, group, a, others)
        tables.append(table)
    return tables


def _key_columns(rows: pd.DataFrame) -> list[tuple[str, str]]:
    """Identifying columns, leaving out a setting column that is empty (settings comparisons)."""
    keys = [("model", "Model"), ("task", "Task"), ("setting", "Setting"), ("metric", "Metric")]
    return [(c, h) for c, h in keys if not rows[c].map(is_missing).all()]


def _result(row: pd.Series) -> str:
    """A gate's row verdict (PASS / FAIL / INCONCLUSIVE / NOT GATED); without a gate 'better' / 'worse'
    when significant, else ''."""
    if "verdict" in row.index and isinstance(row.verdict, str):
        return row.verdict
    if bool(row.get("regression", False)):
        return REGRESSION
    return str(row.change or "")


def _long_table(comparison: Comparison, rows: pd.DataFrame, a: str, b: str) -> TextTable:
    keys, fixed = _split_constant(rows, _key_columns(rows))
    level = f"{comparison.confidence:.0%}"
    headers = [h for _, h in keys] + ["A", "B", f"Δ [{level} CI]", "p", "p adj", "MDE", "n", "Result"]
    body = [[_text(row[c]) for c, _ in keys]
            + [fmt_value(row.value_a), fmt_value(row.value_b), fmt_delta(row.delta, row.ci_low, row.ci_high),
               fmt_p(row.p_value), fmt_p(row.p_adjusted), fmt_mde(row.mde, not is_missing(row.p_value)),
               fmt_count(row.n), _result(row)]
            for _, row in rows.iterrows()]
    k = len(keys)  # A, B, Δ, p, p adj, MDE, n, Result follow the keys
    return TextTable(title=f"A = {a}, B = {b}{fixed}", headers=headers, rows=body,
                     numeric=frozenset(range(k, len(headers) - 1)), caption=method_note(comparison),
                     whole=frozenset({k + 7}), optional=((k + 5,), (k + 3,), (k + 6,), (k,), (k + 1,)))


def _split_constant(rows: pd.DataFrame, keys: list[tuple[str, str]]) -> tuple[list[tuple[str, str]], str]:
    """Move model / setting columns that hold one value for the whole table into the title."""
    kept, fixed = [], []
    for column, header in keys:
        if column in ("model", "model_a", "setting") and rows[column].nunique(dropna=False) == 1:
            fixed.append(f"{header.lower()} {_text(rows[column].iloc[0])}")
        else:
            kept.append((column, header))
    return kept, (f" ({', '.join(fixed)})" if fixed else "")


def _wide_table(comparison: Comparison, rows: pd.DataFrame, a: str, others: list[str]) -> TextTable:
    keys = [(c, h) for c, h in _key_columns(rows) if c != "model"]
    keys = [("model_a", "Model")] + keys if "model" in dict(_key_columns(rows)) else keys
    ident = [c for c, _ in keys]
    keys, fixed = _split_constant(rows, keys)
    headers = [h for _, h in keys] + [a]
    for other in others:
        headers += [other, f"Δ vs {a}", "p adj"]
    body = []
    for key, group in rows.groupby(ident, sort=False, dropna=False):
        first = group.iloc[0]
        line = [_text(first[c]) for c, _ in keys] + [fmt_value(first.value_a)]
        for other in others:
            match = group[group.b == other]
            if match.empty:
                line += ["", "", ""]
                continue
            row = match.iloc[0]
            mark = _result(row)
            line += [fmt_value(row.value_b), fmt_delta(row.delta, row.ci_low, row.ci_high),
                     fmt_p(row.p_adjusted) + (f" ({mark})" if mark else "")]
        body.append(line)
    k = len(keys)  # the reference's value, then (value, Δ, p adj) for each other side: a side goes whole,
    later = tuple((k + 1 + 3 * j, k + 2 + 3 * j, k + 3 + 3 * j) for j in reversed(range(1, len(others))))
    return TextTable(title=f"Reference = {a}{fixed}", headers=headers, rows=body,  # (its name heads its Δ)
                     numeric=frozenset(range(k, len(headers))), caption=method_note(comparison),
                     optional=((k,),) + later)


def method_note(comparison: Comparison) -> str:
    """How the numbers were computed, in a few sentences a reader can check."""
    tested = int(comparison.rows.p_value.notna().sum())
    return (f"Δ = B − A (B minus the reference A) on matched documents: McNemar exact test with Newcombe "
            f"interval for 0/1 metrics; paired t-test and its interval for other per-document metrics; paired "
            f"bootstrap over documents for corpus-level metrics (BLEU, F1, perplexity...). p adj: {correction_name(comparison.correction)}"
            f" across {tested} compared rows; significant at α = {fmt_given(comparison.alpha)}. MDE: smallest difference "
            f"detectable with 80% power at that n ({NOT_ESTIMABLE}: not estimable, no discordant documents or no "
            f"variance).")


def flips_table(flips: pd.DataFrame) -> TextTable | None:
    """Flipped documents with prompt (its end), target and both predictions; the cluster and the decision
    margin (gold minus best other choice log-likelihood, A → B) when known, most decisive flips first."""
    if flips is None or flips.empty:
        return None
    clusters = "cluster" in flips and not flips.cluster.map(is_missing).all()
    margins = "margin_a" in flips and not flips.margin_a.map(is_missing).all()
    headers = ["Task", "Metric", "Flip", "Doc"] + (["Cluster"] if clusters else []) + (
        ["Margin A → B"] if margins else []) + ["Prompt", "Target", "Prediction A", "Prediction B"]
    body = []
    for r in flips.itertuples(index=False):
        line = [_text(r.task) + (f" / {r.setting}" if not is_missing(r.setting) else f" ({r.a} → {r.b})"),
                _text(r.metric), _text(r.direction), fmt_count(r.doc_id)]
        line += [_text(r.cluster)] if clusters else []
        line += [_margin_change(r.margin_a, r.margin_b)] if margins else []
        body.append(line + [tail_text(r.prompt), tail_text(r.target), tail_text(r.prediction_a),
                            tail_text(r.prediction_b)])
    k = 4 + clusters + margins  # the prompt column
    numeric = frozenset({3} | ({4 + clusters} if margins else set()))
    return TextTable(title="Flipped documents", headers=headers, rows=body, numeric=numeric,
                     whole=frozenset({2}), optional=((k,), (k + 1,)))


def _margin_change(a: object, b: object) -> str:
    return "" if is_missing(a) or is_missing(b) else f"{fmt_signed(a)} → {fmt_signed(b)}"


def gate_lines(gate: GateOutcome) -> list[str]:
    """The suite's verdict and how it was reached, what is missing, then every gated row's verdict and reason."""
    c = gate.comparison
    rows = c.rows
    required = rows[(rows.tier == "required") & (rows.verdict != "NOT GATED")]
    counts = ", ".join(f"{int((required.verdict == v).sum())} {v}" for v in ("PASS", "FAIL", "INCONCLUSIVE"))
    head = {"GO": "Gate GO: every required row passed",
            "NO-GO": "Gate NO-GO: " + ("a required row failed" if (required.verdict == "FAIL").any()
                                       else "a required result is missing"),
            "INCONCLUSIVE": "Gate INCONCLUSIVE: no required row failed, but not every one could be shown within "
                            "its tolerance"}[gate.verdict]
    lines = [f"{head} ({len(required)} required rows: {counts}; policy: {gate.policy_source}, default tolerance "
             f"{fmt_given(gate.max_drop)})."]
    lines.append(f"Each row: PASS when the upper {1 - gate.alpha:.0%} bound of the drop is within its tolerance "
                 f"(GO needs all required rows: an intersection-union test, so a true drop beyond tolerance is "
                 f"passed with probability at most {fmt_given(gate.alpha)}); FAIL when the drop beyond the tolerance is "
                 f"established after {correction_name(c.correction)} adjustment across the tier's rows (a model "
                 f"whose every drop is within tolerance is failed with probability at most {fmt_given(gate.alpha)}); "
                 "INCONCLUSIVE otherwise.")
    lines += [f"missing: {reason}" for reason in gate.missing]
    for _, row in rows[rows.verdict != "NOT GATED"].iterrows():
        where = " / ".join(str(v) for v in (row.model, row.task, row.setting, row.metric) if not is_missing(v))
        tier = "" if row.tier == "required" else f" ({row.tier})"
        lines.append(f"{row.verdict}{tier}: {where}: {fmt_value(row.value_a)} → {fmt_value(row.value_b)}; "
                     f"{row.reason}{noise_note(row)}" + (f"; {row.design}" if isinstance(row.get("design"), str) else "")
                     + ".")
    return lines


def _text(value: object) -> str:
    return "" if is_missing(value) else str(value)


def noise_note(row: Any) -> str:
    """'; noise 0.004 (drop / noise 2.5)' for a gate row with a calibrated noise, else ''."""
    noise = row.get("noise") if hasattr(row, "get") else None
    if is_missing(noise):
        return ""
    drop = row.get("drop")
    ratio = "" if is_missing(drop) or float(noise) == 0 else f" (drop / noise {float(drop) / float(noise):.1f})"
    return f"; calibrated noise {fmt_value(noise, 4)}{ratio}"
