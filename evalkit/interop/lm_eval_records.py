"""lm-eval's logged samples and aggregates as evalkit records, the way evalkit's own evaluation
builds them (evalkit.engine.evaluation): one record per document (filters merged), per-metric scores that
are numbers only (corpus-level metrics log tuples and get no per-document value), the prompt,
the target as text, and the prediction (the best choice, or the filtered generation)."""

from __future__ import annotations

import math
from typing import Any

from evalkit.engine.evaluation import DOC_LOGLIKELIHOOD, metric_key
from evalkit.interop.lm_eval_files import LmEvalTaskOutput
from evalkit.interop.lm_eval_scores import first_number
from evalkit.stats import mean_interval
from evalkit.store import MetricRecord, SampleRecord
from evalkit.tasks.clusters import cluster_field, document_cluster

Z95 = 1.96
_NUMERIC_OUTPUTS = {"multiple_choice", "loglikelihood", "loglikelihood_rolling"}


def sample_records(task: LmEvalTaskOutput) -> list[SampleRecord]:
    """One SampleRecord per document, in doc_id order."""
    by_doc: dict[int, list[dict[str, Any]]] = {}
    for sample in task.samples:
        by_doc.setdefault(int(sample["doc_id"]), []).append(sample)
    return [_record(doc_id, group, task.config) for doc_id, group in sorted(by_doc.items())]


def _cluster(doc_id: int, sample: dict[str, Any], config: dict[str, Any]) -> str | None:
    """The document's cluster when the task's recorded config names `metadata.cluster` (checked on read)."""
    return document_cluster(sample.get("doc"), cluster_field(config.get("metadata")), f"document {doc_id}")


def metric_records(task: LmEvalTaskOutput, samples: list[SampleRecord]) -> list[MetricRecord]:
    """lm-eval's aggregates with their stderr (95% interval value ± 1.96·stderr); for
    language-modelling tasks also evalkit's per-document log-likelihood metric."""
    records: list[MetricRecord] = []
    for key, value in task.results.items():
        metric, sep, filter_name = str(key).partition(",")
        if not sep or metric.endswith("_stderr") or not _is_number(value):
            continue
        stderr = task.results.get(f"{metric}_stderr,{filter_name}")
        stderr = float(stderr) if _is_number(stderr) and math.isfinite(float(stderr)) else None
        value = float(value)
        low, high = (value - Z95 * stderr, value + Z95 * stderr) if stderr is not None else (None, None)
        records.append(MetricRecord(metric_key(metric, filter_name), value, stderr, low, high, len(samples),
                                    task.higher_is_better.get(metric, True)))
    if task.config.get("output_type") == "loglikelihood_rolling":
        interval = mean_interval([s.scores[DOC_LOGLIKELIHOOD] for s in samples])
        records.append(MetricRecord(DOC_LOGLIKELIHOOD, interval.estimate, interval.stderr, interval.low,
                                    interval.high, interval.n, True))
    return records


def _record(doc_id: int, group: list[dict[str, Any]], config: dict[str, Any]) -> SampleRecord:
    first = group[0]
    output_type = str(config.get("output_type", ""))
    scores: dict[str, float] = {}
    if output_type == "loglikelihood_rolling":
        scores[DOC_LOGLIKELIHOOD] = first_number(first["filtered_resps"])
    for sample in group:
        for metric in sample["metrics"]:
            if _is_number(sample[metric]):  # corpus-level metrics log lists: no per-document value
                scores[metric_key(metric, sample["filter"])] = float(sample[metric])
    arguments = _arguments(first["arguments"])
    choices = _choices(arguments, config) if output_type == "multiple_choice" else []
    return SampleRecord(
        doc_id=doc_id, doc_hash=str(first["doc_hash"]), prompt_hash=str(first["prompt_hash"]),
        prompt=str(arguments[0][0]) if arguments and arguments[0] else "",
        target=_target(first["target"], choices), prediction=_prediction(first["filtered_resps"], choices, output_type),
        scores=scores, outputs=_outputs(first["resps"], numeric=output_type in _NUMERIC_OUTPUTS),
        cluster=_cluster(doc_id, first, config))


def _arguments(value: Any) -> list[list[Any]]:
    """The request arguments: lm-eval's file spells them {"gen_args_0": {"arg_0": ctx, ...}}."""
    if isinstance(value, dict):
        return [list(args.values()) if isinstance(args, dict) else [args] for args in value.values()]
    if isinstance(value, list):
        return [list(a) if isinstance(a, (list, tuple)) else [a] for a in value]
    return []


def _choices(arguments: list[list[Any]], config: dict[str, Any]) -> list[str]:
    """The answer choices, from the continuations lm-eval scored (each is target_delimiter + choice)."""
    delimiter = str(config.get("target_delimiter", " "))
    continuations = [str(a[1]) for a in arguments if len(a) > 1]
    return [c[len(delimiter):] if delimiter and c.startswith(delimiter) else c for c in continuations]


def _target(target: Any, choices: list[str]) -> str:
    """A choice index (lm-eval writes str(index)) as the choice's text, as evalkit stores it."""
    text = str(target)
    if choices and text.isdigit() and int(text) < len(choices):
        return choices[int(text)]
    return text


def _prediction(filtered: Any, choices: list[str], output_type: str) -> str:
    if output_type == "multiple_choice":
        lls = [first_number(r) for r in filtered] if isinstance(filtered, list) else []
        best = _argmax(lls)
        return choices[best] if 0 <= best < len(choices) else ""
    value = filtered[0] if isinstance(filtered, list) and filtered else filtered
    if isinstance(value, (list, tuple)):
        value = value[0] if value else ""  # no response logged: no prediction
    return str(value)


def _argmax(values: list[float]) -> int:
    return max(range(len(values)), key=lambda i: values[i]) if values else -1


def _outputs(resps: Any, *, numeric: bool) -> Any:
    """The raw responses; lm-eval's file holds log-likelihoods and greedy flags as strings."""
    if isinstance(resps, list):
        return [_outputs(r, numeric=numeric) for r in resps]
    if numeric and isinstance(resps, str):
        if resps in ("True", "False"):
            return resps == "True"
        try:
            return float(resps)
        except ValueError:
            return resps
    return resps


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float))  # bool included: a 0/1 flag is a score
