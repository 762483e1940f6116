"""`metric_list` names checked against lm-eval's registries before lm-eval sees them.

lm-eval looks a metric name it does not know up with Hugging Face `evaluate.load(name)`, which
imports a metric script from any path on disk, or downloads one: code from outside the task's
root, and on a typo a run that computes nothing. So a `metric:` must be a metric lm-eval registers,
a `!function` hook (confined to the root like every hook), or, when the task has its own
`process_results`, any name (the keys that function returns); `hf_evaluate: true` is refused for
the same reason. An `aggregation:` must be a registered aggregation or a hook.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evalkit.errors import TaskError, did_you_mean
from evalkit.tasks.yaml_source import FunctionRef

_HINT = ("Use a metric lm-eval registers (acc, acc_norm, exact_match, f1, mcc, perplexity, bleu, ...), "
         "or compute your own in a `!function` hook inside the task's folder (metric: !function "
         "utils.my_metric, or process_results).")


def registered_metrics() -> list[str]:
    import lm_eval.api.metrics  # noqa: F401  (fills the registry)
    from lm_eval.api.registry import metric_registry

    return sorted(metric_registry.keys())


def registered_aggregations() -> list[str]:
    import lm_eval.api.metrics  # noqa: F401
    from lm_eval.api.registry import aggregation_registry

    return sorted(aggregation_registry.keys())


def check_metric_names(config: dict[str, Any], yaml_path: Path | None) -> None:
    """TaskError (exit 2) naming file and key for a metric or aggregation lm-eval would look up elsewhere."""
    items = config.get("metric_list")
    if not isinstance(items, list):
        return
    own_results = config.get("process_results") is not None
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            continue  # config_types reports the shape
        key = f"metric_list[{i}]"
        if item.get("hf_evaluate") is True:
            _fail(yaml_path, f"{key}.hf_evaluate", "asks for a Hugging Face `evaluate` metric, which evalkit does not "
                  "load (evaluate.load imports metric code from outside the task's folder or the Hub)")
        name = item.get("metric")
        if isinstance(name, str) and not own_results and name not in registered_metrics():
            _fail(yaml_path, f"{key}.metric", f"names '{name}', which is not a metric lm-eval registers",
                  did_you_mean(name, registered_metrics()))
        aggregation = item.get("aggregation")
        if aggregation is not None and not isinstance(aggregation, FunctionRef):
            if not isinstance(aggregation, str) or aggregation not in registered_aggregations():
                _fail(yaml_path, f"{key}.aggregation", f"names {aggregation!r}, which is not an aggregation lm-eval "
                      f"registers (one of: {', '.join(registered_aggregations())})")
        if aggregation == "mean" and isinstance(name, str) and not own_results:
            _check_mean_of(name, yaml_path, f"{key}.aggregation")


def corpus_aggregation(metric: str) -> str | None:
    """The aggregation lm-eval registers for `metric` when it is not a per-document mean (bleu, chrf,
    ter, f1, mcc, perplexities: computed over the whole corpus); None for a mean or an unknown metric."""
    from lm_eval.api.registry import get_metric_aggregation

    try:
        aggregation = get_metric_aggregation(metric)
    except (KeyError, ValueError):
        return None
    name = getattr(aggregation, "__name__", "mean")
    return None if name == "mean" else name


def _check_mean_of(metric: str, yaml_path: Path | None, key: str) -> None:
    """A corpus-level metric has no per-document number to average: lm-eval fails (or misreports)
    only after the model has answered every request."""
    corpus = corpus_aggregation(metric)
    if corpus is not None:
        raise TaskError(f"Task file '{yaml_path}', key '{key}' is 'mean', but '{metric}' is a corpus-level metric "
                        f"(lm-eval computes it over all documents with '{corpus}'); it has no per-document "
                        "score to average.",
                        hint=f"Remove `aggregation:` (lm-eval then uses the metric's own) or use a per-document "
                             "metric such as exact_match or acc.")


def _fail(yaml_path: Path | None, key: str, problem: str, suggestion: str = "") -> None:
    raise TaskError(f"Task file '{yaml_path}', key '{key}' {problem}.{suggestion}", hint=_HINT)
