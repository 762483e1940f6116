"""Are two runs comparable item by item? Checked before any statistic is computed.

Checked: evalkit and lm-eval versions (run level); per matched cell the task config hash, the
few-shot k and the prompts (every matched document must have the same prompt hash); per task
present in both runs, at least one setting in common; per matched cell, documents in common.
"""

from __future__ import annotations

from evalkit.compare.matching import CellPair
from evalkit.compare.sources import RunSide
from evalkit.errors import IncomparableRunsError

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
    if ca.task_config_hash != cb.task_config_hash:
        out.append(f"{where}: task config hash differs ({ca.task_config_hash[:12]} vs {cb.task_config_hash[:12]})")
    if int(ca.num_fewshot) != int(cb.num_fewshot):
        out.append(f"{where}: few-shot k differs ({ca.num_fewshot} vs {cb.num_fewshot})")
    if pair.aligned.empty:
        out.append(f"{where}: no documents in common (doc hashes differ)")
    else:
        same = float((pair.aligned.prompt_hash_a == pair.aligned.prompt_hash_b).mean())
        if same < MIN_PROMPT_AGREEMENT:
            out.append(f"{where}: prompts differ on {1 - same:.0%} of {len(pair.aligned)} matched documents")
    return out


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
