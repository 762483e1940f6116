"""Are two runs comparable item by item? Checked before any statistic is computed.

Checked: evalkit and lm-eval versions (run level); per matched cell the task config hash, the
few-shot k, the prompts (every matched document must have the same prompt hash) and the precision
the decisions were computed at (dtype; fast-exact counts as float32) and the lm-eval prompt
options (chat template, system instruction, multi-turn, generation arguments, few-shot seed); per task
present in both runs, at least one setting in common; per matched cell, documents in common.
These can be overridden with --allow-incomparable. A cell rescored from the other (`evalkit rescore`)
may differ in task config hash: that is what the comparison measures. A metric whose direction (higher_is_better)
differs between two matched cells cannot: it decides what counts as a drop.
"""

from __future__ import annotations

import json

import pandas as pd

from evalkit.compare.matching import CellPair
from evalkit.compare.prompt_options import prompt_mismatches
from evalkit.compare.sources import RunSide
from evalkit.errors import IncomparableRunsError, InputError

# Fraction of matched documents whose prompt hash must agree for two cells to count as the same prompts.
MIN_PROMPT_AGREEMENT = 1.0
OVERRIDE_HINT = ("Fix the runs so they match, or pass --allow-incomparable to compare anyway "
                 "(the report then carries a warning).")


def version_mismatches(a: RunSide, b: RunSide) -> list[str]:
    """Differences in the evalkit and lm-eval versions that produced the two runs."""
    out = []
    for column, name in (("evalkit_version", "evalkit"), ("lm_eval_version", "lm-eval")):
        if a.run.get(column) != b.run.get(column):
            out.append(f"{name} version differs: {a.label} used {a.run.get(column)}, "
                       f"{b.label} used {b.run.get(column)}")
    return out


def setting_mismatches(a: RunSide, b: RunSide, pairs: list[CellPair]) -> list[str]:
    """Tasks that both runs evaluated but under no common setting."""
    paired_tasks = {p.task for p in pairs}
    out = []
    for task in dict.fromkeys(a.cells.task):
        if task in set(b.cells.task) and task not in paired_tasks:
            settings_a = ", ".join(dict.fromkeys(a.cells[a.cells.task == task].setting))
            settings_b = ", ".join(dict.fromkeys(b.cells[b.cells.task == task].setting))
            out.append(f"{task}: setting differs ({a.label}: {settings_a}; {b.label}: {settings_b})")
    return out


def cell_mismatches(pair: CellPair) -> list[str]:
    """Differences between two matched cells that make item-by-item comparison unsound."""
    where = f"{pair.model} / {pair.task} / {pair.setting}"
    ca, cb = pair.cell_a, pair.cell_b
    out = []
    if ca.task_config_hash != cb.task_config_hash and not rescore_pair(ca, cb):
        out.append(f"{where}: task config hash differs ({str(ca.task_config_hash)[:12]} vs "
                   f"{str(cb.task_config_hash)[:12]})")
    if _fewshot(pair.a, ca) != _fewshot(pair.b, cb):
        out.append(f"{where}: few-shot k differs ({ca.num_fewshot} vs {cb.num_fewshot})")
    if pair.aligned.empty:
        out.append(f"{where}: no documents in common (doc hashes differ)")
    else:
        same = float((pair.aligned.prompt_hash_a == pair.aligned.prompt_hash_b).mean())
        if same < MIN_PROMPT_AGREEMENT:
            out.append(f"{where}: prompts differ on {1 - same:.0%} of {len(pair.aligned)} matched documents")
    pa, pb = decision_precision(ca), decision_precision(cb)
    if pa is not None and pb is not None and pa != pb:
        out.append(f"{where}: decisions computed at different precision ({pa} vs {pb})")
    out += prompt_mismatches(pair)
    return out


def rescore_pair(ca: pd.Series, cb: pd.Series) -> bool:
    """One cell is `evalkit rescore` of the other (details rescore_of_cell): the same stored outputs under
    a changed task configuration, which is the difference such a comparison measures."""
    def source_of(cell: pd.Series) -> str | None:
        text = cell.get("details_json") if hasattr(cell, "get") else None
        try:
            details = json.loads(text) if isinstance(text, str) else {}
        except ValueError:
            return None
        return details.get("rescore_of_cell") if isinstance(details, dict) else None

    return source_of(cb) == str(ca.cell_id) or source_of(ca) == str(cb.cell_id)


def decision_precision(cell: pd.Series) -> str | None:
    """The dtype a cell's per-document decisions equal: its dtype, float32 for --precision fast-exact
    (bf16 values, float32 decisions); None when its details are not stored (an exported file)."""
    text = cell.get("details_json") if hasattr(cell, "get") else None
    try:
        details = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return None
    if not isinstance(details, dict):
        return None
    precision = details.get("precision")
    if isinstance(precision, dict) and precision.get("precision") == "fast-exact":
        return "float32"
    dtype = details.get("dtype")
    return str(dtype).removeprefix("torch.") if dtype else None  # lm-eval imports record "torch.float32"


def _fewshot(side: RunSide, cell: pd.Series) -> int:
    """The cell's few-shot k as an integer; InputError naming the run when it is not one."""
    value = cell.num_fewshot
    try:
        k = int(value)
    except (TypeError, ValueError, OverflowError):
        k = -1
    if k < 0 or k != value:
        raise InputError(f"{side.where}: cell {cell.model} / {cell.task} / {cell.setting} "
                         f"has few-shot k {value!r}, not a non-negative integer.",
                         hint="Export or re-run it with this evalkit; the results file may have been edited.")
    return k


def metric_directions(pair: CellPair, wanted: tuple[str, ...]) -> list[tuple[str, bool]]:
    """(metric, higher_is_better) for the metrics both cells report, in A's order, restricted to `wanted`.

    IncomparableRunsError (never overridable) when the two cells disagree on a metric's direction.
    """
    ma = pair.a.metrics[pair.a.metrics.cell_id == pair.cell_a.cell_id]
    mb = pair.b.metrics[pair.b.metrics.cell_id == pair.cell_b.cell_id]
    direction_b = dict(zip(mb.metric, mb.higher_is_better))
    out = []
    for metric, higher in zip(ma.metric, ma.higher_is_better):
        if metric not in direction_b or (wanted and metric not in wanted):
            continue
        if bool(higher) != bool(direction_b[metric]):
            raise IncomparableRunsError(
                f"Metric '{metric}' of {pair.model} / {pair.task} / {pair.setting or pair.label_b} has "
                f"higher_is_better={bool(higher)} in {pair.label_a} but higher_is_better="
                f"{bool(direction_b[metric])} in {pair.label_b}; a drop in one is a gain in the other.",
                hint="One side was edited or computed with another metric definition: export the baseline "
                     "again (`evalkit results export RUN -o FILE`). --allow-incomparable does not override this.")
        out.append((metric, bool(higher)))
    return out


def missing_metrics(pair: CellPair, wanted: tuple[str, ...]) -> list[str]:
    """Metrics cell A reports (restricted to `wanted`) that the matched cell B does not: never compared."""
    ma = pair.a.metrics[pair.a.metrics.cell_id == pair.cell_a.cell_id].metric
    in_b = set(pair.b.metrics[pair.b.metrics.cell_id == pair.cell_b.cell_id].metric)
    where = f"{pair.model} / {pair.task} / {pair.setting or pair.label_b}"
    return [f"{where} / {m} is not reported by {pair.label_b}" for m in ma
            if m not in in_b and (not wanted or m in wanted)]


def check_runs(a: RunSide, b: RunSide, pairs: list[CellPair]) -> list[str]:
    """Every reason runs `a` and `b` are not comparable; empty when they are."""
    problems = version_mismatches(a, b) + setting_mismatches(a, b, pairs)
    for pair in pairs:
        problems += cell_mismatches(pair)
    return problems


def enforce(problems: list[str], labels: tuple[str, str], *, allow: bool) -> list[str]:
    """Raise IncomparableRunsError for problems unless allowed; allowed ones come back as warnings."""
    if not problems:
        return []
    head = f"{labels[0]} and {labels[1]} are not comparable"
    if not allow:
        listed = "\n".join(f"  - {p}" for p in problems)
        raise IncomparableRunsError(f"{head}:\n{listed}", hint=OVERRIDE_HINT)
    return [f"{head} (compared anyway, --allow-incomparable): {p}" for p in problems]
