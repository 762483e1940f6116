"""The study views (evalkit.studies) as plain text tables, so rich, markdown and HTML show the same
figures: trajectories (a summary row per trajectory with a sparkline, and a table of steps per
trajectory) and the transfer matrix (rows = fine-tuned on, columns = evaluated task)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from evalkit.report.formatting import (correction_name, fmt_count, fmt_delta, fmt_estimate, fmt_given, fmt_p,
                                       fmt_signed, fmt_value, is_missing)
from evalkit.report.tables import TextTable

SPARKS = "▁▂▃▄▅▆▇█"
BEST_MARK = "★"
SIGNIFICANT_MARK = "*"
TRAJECTORY_KEYS = ["series", "task", "setting", "metric"]


@dataclass(frozen=True)
class ToneTable:
    """A TextTable with a tone per cell: 'good' / 'bad' (significant), 'good-weak' / 'bad-weak', or ''."""

    table: TextTable
    tones: list[list[str]]


def sparkline(values: list[float]) -> str:
    """One block character per value, scaled between the smallest and largest; a gap for a missing value."""
    known = [v for v in values if not is_missing(v)]
    if not known:
        return " " * len(values)
    low, high = min(known), max(known)
    span = high - low
    def block(v: float) -> str:
        if is_missing(v):
            return " "
        return SPARKS[3] if span == 0 else SPARKS[min(len(SPARKS) - 1, int((v - low) / span * len(SPARKS)))]
    return "".join(block(v) for v in values)


def _p_mark(p_adjusted: object, alpha: float) -> str:
    """The adjusted p with '*' when it is below alpha."""
    text = fmt_p(p_adjusted)
    return text + SIGNIFICANT_MARK if not is_missing(p_adjusted) and float(p_adjusted) < alpha else text


def _step(value: object) -> str:
    return "" if is_missing(value) else str(int(value))


def _trajectories(frame: pd.DataFrame) -> list[pd.DataFrame]:
    return [group for _, group in frame.groupby(TRAJECTORY_KEYS, sort=False)]


def _ship_text(last: pd.Series) -> str:
    """Which step to ship and why: the best when it significantly beats the last, else the last."""
    if is_missing(last.best_step):
        return ""
    if bool(last.best_beats_last):
        return f"step {_step(last.best_step)} (best beats last)"
    if last.best_step == last.step:
        return f"step {_step(last.step)} (last is best)"
    return f"step {_step(last.step)} (best not significantly better)"


def trajectory_summary_table(frame: pd.DataFrame) -> TextTable:
    """One row per trajectory: steps, sparkline, first / best / last value, best − last, ship."""
    alpha = float(frame.attrs.get("alpha", 0.05))
    headers = ["Series", "Task", "Setting", "Metric", "Steps", "Trend", "First", "Best (step)", "Last",
               "Last − best [CI]", "p adj", "Ship"]
    rows = []
    for group in _trajectories(frame):
        first, last = group.iloc[0], group.iloc[-1]
        best = group[group.is_best]
        best_text = f"{fmt_value(best.value.iloc[0])} ({_step(best.step.iloc[0])})" if len(best) else "n/a"
        steps = f"{_step(first.step)}–{_step(last.step)} ({len(group)})"
        rows.append([str(first.series), str(first.task), str(first.setting), _metric_name(first), steps,
                     sparkline(list(group.value)), fmt_value(first.value), best_text, fmt_value(last.value),
                     fmt_delta(last.vs_best_delta, last.vs_best_ci_low, last.vs_best_ci_high),
                     _p_mark(last.vs_best_p_adjusted, alpha), _ship_text(last)])
    return TextTable(title="Trajectories (value at every step; ★ = best step)", headers=headers, rows=rows,
                     numeric=frozenset({6, 7, 8, 9, 10}), caption=trajectory_note(frame), whole=frozenset({4, 5, 11}),
                     optional=((5,), (6,), (4,), (2,), (0,), (9, 10)))


def _metric_name(row: pd.Series) -> str:
    return f"{row.metric} ({'higher' if bool(row.higher_is_better) else 'lower'} is better)"


def trajectory_step_table(group: pd.DataFrame, alpha: float) -> TextTable:
    """The steps of one trajectory: value ± CI, and Δ against the previous, first and best step."""
    first = group.iloc[0]
    lm = group.bits_per_byte.notna().any()
    headers = ["Step", "Epoch", "Tokens", "Value ± CI (n)"] + (["Bits/byte"] if lm else []) + \
        ["Δ prev [CI]", "p adj", "Δ first [CI]", "p adj", "Δ best [CI]", "p adj", "Best"]
    rows = []
    for row in group.itertuples(index=False):
        line = [_step(row.step), fmt_value(row.epoch, 2), fmt_count(row.tokens_seen),
                fmt_estimate(row.value, row.ci_low, row.ci_high, row.n)] + ([fmt_value(row.bits_per_byte)] if lm else [])
        for ref in ("vs_prev", "vs_first", "vs_best"):
            line += [fmt_delta(*(getattr(row, f"{ref}_{f}") for f in ("delta", "ci_low", "ci_high")))
                     if not is_missing(getattr(row, f"{ref}_step")) else "",
                     _p_mark(getattr(row, f"{ref}_p_adjusted"), alpha)
                     if not is_missing(getattr(row, f"{ref}_step")) else ""]
        rows.append(line + [BEST_MARK if bool(row.is_best) else ""])
    title = f"{first.task} · {_metric_name(first)} · series {first.series} ({first.setting})"
    deltas = len(headers) - 7  # Δ prev, p adj, Δ first, p adj, Δ best, p adj, Best close the table
    return TextTable(title=title, headers=headers, rows=rows, numeric=frozenset(range(0, len(headers) - 1)),
                     whole=frozenset({len(headers) - 1}),
                     optional=((1,), (2,), (deltas + 2, deltas + 3), (deltas, deltas + 1)) + (((4,),) if lm else ()))


def trajectory_tables(frame: pd.DataFrame) -> list[TextTable]:
    """The summary table, then one table of steps per trajectory."""
    alpha = float(frame.attrs.get("alpha", 0.05))
    return [trajectory_summary_table(frame)] + [trajectory_step_table(g, alpha) for g in _trajectories(frame)]


def trajectory_note(frame: pd.DataFrame) -> str:
    """How the trajectory numbers were computed."""
    a = frame.attrs
    return (f"Δ = this step − the reference step on documents matched by hash: McNemar exact test with Newcombe "
            f"interval for 0/1 metrics, sign-flip permutation test with bootstrap interval otherwise; LM tasks "
            f"are compared on per-document log-likelihood (nats). p adj: "
            f"{correction_name(str(a.get('correction', 'holm')))} across {a.get('tests', 0)} tests in this view; "
            f"{SIGNIFICANT_MARK} = significant at α = {fmt_given(a.get('alpha', 0.05))}. The best step is chosen "
            "from the same data it is tested on. Ship: the best step when it is significantly better than the "
            "last, else the last.")


def transfer_matrix(frame: pd.DataFrame, model: str) -> ToneTable:
    """Rows = fine-tuned on, columns = evaluated task (metric): Δ vs zero-shot [CI] with significance."""
    part = frame[frame.model == model]
    alpha = float(frame.attrs.get("alpha", 0.05))
    columns = list(dict.fromkeys(part.task))
    metric_of = {t: part[part.task == t].iloc[0] for t in columns}
    headers = ["Fine-tuned on"] + [f"{t} ({metric_of[t].metric})" for t in columns]
    rows = [["zero-shot (base)"] + [fmt_value(metric_of[t].base_value) for t in columns]]
    tones = [[""] * len(headers)]
    for source in dict.fromkeys(part.trained_on):
        line, tone = [str(source)], [""]
        for task in columns:
            entry = part[(part.trained_on == source) & (part.task == task)]
            if entry.empty:
                line.append("")
                tone.append("")
                continue
            line.append(_matrix_cell(entry.iloc[0], alpha))
            tone.append(_tone(entry.iloc[0]))
        rows.append(line)
        tones.append(tone)
    title = f"Transfer / forgetting matrix, model {model} (Δ vs zero-shot on the evaluated task)"
    table = TextTable(title=title, headers=headers, rows=rows, numeric=frozenset(range(1, len(headers))),
                      caption=transfer_note(frame), optional=tuple((i,) for i in reversed(range(2, len(headers)))))
    return ToneTable(table=table, tones=tones)


def _matrix_cell(row: pd.Series, alpha: float) -> str:
    """Δ [CI] with '*' when significant; a corpus-level metric shows the difference of its aggregates, untested."""
    if is_missing(row.delta) and not (is_missing(row.value) or is_missing(row.base_value)):
        return f"{fmt_signed(row.value - row.base_value)} ({row.method})"
    text = fmt_delta(row.delta, row.ci_low, row.ci_high)
    if not is_missing(row.p_adjusted) and float(row.p_adjusted) < alpha:
        text += " " + SIGNIFICANT_MARK
    return text + (" (diag)" if bool(row.diagonal) else "")


def _tone(row: pd.Series) -> str:
    """'good'/'bad' when significant, '-weak' variants by the sign of the gain otherwise."""
    if is_missing(row.gain) or row.gain == 0:
        return ""
    side = "good" if row.gain > 0 else "bad"
    return side if bool(row.significant) else f"{side}-weak"


def language_model_table(frame: pd.DataFrame) -> TextTable | None:
    """Bits per byte of each LM task, zero-shot and after each fine-tuning (lower is better)."""
    lm = frame[frame.bits_per_byte.notna() | frame.base_bits_per_byte.notna()]
    if lm.empty:
        return None
    headers = ["Model", "Task", "Fine-tuned on", "Bits/byte zero-shot", "Bits/byte fine-tuned", "Δ bits/byte",
               "Δ log-likelihood/doc [CI]", "p adj"]
    alpha = float(frame.attrs.get("alpha", 0.05))
    rows = [[str(r.model), str(r.task), str(r.trained_on), fmt_value(r.base_bits_per_byte), fmt_value(r.bits_per_byte),
             fmt_signed(r.bits_per_byte - r.base_bits_per_byte), fmt_delta(r.delta, r.ci_low, r.ci_high),
             _p_mark(r.p_adjusted, alpha)] for r in lm.itertuples(index=False)]
    return TextTable(title="Language modelling (bits per byte: lower is better)", headers=headers, rows=rows,
                     numeric=frozenset(range(3, len(headers))), optional=((3,), (4,), (0,)))


def transfer_note(frame: pd.DataFrame) -> str:
    """How the matrix numbers were computed."""
    a = frame.attrs
    return (f"Δ = fine-tuned − zero-shot of the same model on the evaluated task's documents (matched by hash). "
            f"Off the diagonal a significant gain is transfer, a significant loss forgetting (colour: green "
            f"better, red worse, also for lower-is-better metrics). p adj: "
            f"{correction_name(str(a.get('correction', 'holm')))} across {a.get('tests', 0)} matrix cells; "
            f"{SIGNIFICANT_MARK} = significant at α = {fmt_given(a.get('alpha', 0.05))}.")


def transfer_tables(frame: pd.DataFrame) -> list[ToneTable | TextTable]:
    """A matrix per model, then the language-modelling table when the matrix has an LM task."""
    tables: list[ToneTable | TextTable] = [transfer_matrix(frame, m) for m in dict.fromkeys(frame.model)]
    lm = language_model_table(frame)
    return tables + ([lm] if lm is not None else [])


def plain(table: ToneTable | TextTable) -> TextTable:
    """The TextTable inside a ToneTable (or the table itself)."""
    return table.table if isinstance(table, ToneTable) else table

