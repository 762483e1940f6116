"""What a rescore changes: the options (filter chain, metric), checked at the door, and the task entry
with them in place."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from evalkit.errors import InputError

# Metrics scored from log-likelihoods: the only ones a cell without generated text can be rescored with.
LOGLIKELIHOOD_METRICS = frozenset({"acc", "acc_norm", "acc_mutual_info", "acc_bytes", "brier_score", "likelihood",
                                   "mcc", "f1", "perplexity", "word_perplexity", "byte_perplexity", "bits_per_byte"})


@dataclass(frozen=True)
class RescoreOptions:
    tasks: tuple[str, ...] = ()  # task names or YAML paths; none: every cell, its task found by name
    filters: tuple[str, ...] = ()  # a chain: regex=PATTERN, take-first, lowercase, remove-whitespace, strip-think
    metric: str | None = None
    name: str | None = None


def filter_chain(specs: tuple[str, ...]) -> list[dict[str, Any]] | None:
    """lm-eval filter_list steps of `--filter` specs (InputError, exit 2, for an unknown one)."""
    if not specs:
        return None
    steps = []
    for spec in specs:
        kind, _, value = spec.partition("=")
        if kind == "regex" and value:
            steps.append({"function": "regex", "regex_pattern": value})
        elif kind in ("take-first", "lowercase", "remove-whitespace") and not value:
            steps.append({"function": kind.replace("-", "_")})
        elif kind == "strip-think" and not value:
            from evalkit.rescore.filters import STRIP_THINK, register

            register()
            steps.append({"function": STRIP_THINK})
        else:
            raise InputError(f"Unknown filter '{spec}'.",
                             hint="Use regex=PATTERN (its first group is kept), take-first, lowercase, "
                                  "remove-whitespace or strip-think (drops <think>...</think>), in the order "
                                  "they apply.")
    return [{"name": "rescore", "filter": steps}]


def check_metric(metric: str | None) -> None:
    if metric is None:
        return
    from lm_eval.api.registry import METRIC_REGISTRY

    if metric not in METRIC_REGISTRY:
        raise InputError(f"Unknown metric '{metric}': lm-eval's metric registry has no such name.",
                         hint=f"Pick one of: {', '.join(sorted(METRIC_REGISTRY))}.")


def overridden(entry: Any, options: RescoreOptions) -> Any:
    """The task entry with the named filter chain and metric in place of its own."""
    config = dict(entry.config)
    chain = filter_chain(options.filters)
    if chain is not None:
        config["filter_list"] = chain
    if options.metric is not None:
        config["metric_list"] = [{"metric": options.metric}]
    return dataclasses.replace(entry, config=config)


def changes(entry: Any, new_hash: str, cell: Any, options: RescoreOptions) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if new_hash != cell.task_config_hash:
        out["task_config_hash"] = [cell.task_config_hash, new_hash]
    if options.filters:
        out["filters"] = list(options.filters)
    if options.metric:
        out["metric"] = options.metric
    return out
