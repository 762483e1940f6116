"""One cell's evaluation: lm-eval builds the requests and scores them, the backend computes,
and the result becomes typed per-document records plus metrics with 95% intervals."""

from __future__ import annotations

import copy
import logging
import math
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

from evalkit.errors import RunFailedError, TaskError
from evalkit.plan.prompts import PromptOptions
from evalkit.stats import mean_interval
from evalkit.stats.intervals import clustered_mean_interval
from evalkit.store import MetricRecord, SampleRecord
from evalkit.tasks.clusters import document_cluster, task_cluster_field
from evalkit.tasks.loading import LoadedTask

log = logging.getLogger(__name__)


# Per-document score of language-modelling (loglikelihood_rolling) tasks. Their metrics
# (word_perplexity, byte_perplexity, bits_per_byte) are corpus-level ratios with no per-document
# value; over the same documents, the difference of summed log-likelihoods is exactly the
# change of the corpus log-perplexity, so this is what paired comparisons test.
DOC_LOGLIKELIHOOD = "loglikelihood"


@dataclass
class CellOutcome:
    """What evaluating a cell produced, before it is stored."""

    samples: list[SampleRecord]
    metrics: list[MetricRecord]


def evaluate_task(lm: Any, loaded: LoadedTask, *, num_fewshot: int, limit: int | None,
                  seed: int, prompt: PromptOptions | None = None) -> CellOutcome:
    """Run lm-eval's evaluator for one task with per-sample logging, then summarise. `seed` is the
    few-shot sampler's; `prompt` the chat template, system instruction, multi-turn and generation
    options, passed to lm-eval's evaluate as lm_eval.simple_evaluate passes them."""
    from lm_eval.evaluator import evaluate

    task = loaded.task
    prompt = prompt or PromptOptions()
    check_fewshot_source(loaded, num_fewshot, f"few-shot:{num_fewshot}")
    # The LoadedTask is shared by a run's cells: set every per-cell state lm-eval keeps on it.
    task.set_config(key="num_fewshot", value=num_fewshot)
    task.set_fewshot_seed(seed=seed)
    with generation_overrides(task, prompt.generation_kwargs):
        results = evaluate(lm=lm, task_dict={"tasks": {loaded.name: task}, "groups": {}},
                           limit=limit, log_samples=True, bootstrap_iters=1000,
                           system_instruction=prompt.system_instruction,
                           apply_chat_template=prompt.chat_template,
                           fewshot_as_multiturn=prompt.fewshot_as_multiturn)
    raw = results["samples"][loaded.name]
    _check_finite(raw, loaded.name)
    samples = _merge_filters(raw, task)
    keys = list(dict.fromkeys(metric_key(m, s["filter"]) for s in raw for m in s["metrics"]))
    metrics = _metrics(keys, samples, task, results["results"][loaded.name])
    if not metrics:
        raise TaskError(f"Task '{loaded.name}' ({loaded.source}) computed no metrics: no document reported any "
                        "metric its metric_list names.",
                        hint="Check the names in metric_list against what its process_results returns "
                             "(run `evalkit tasks validate PATH`).")
    if task.OUTPUT_TYPE == "loglikelihood_rolling":
        metrics.append(_mean_metric(DOC_LOGLIKELIHOOD, [s.scores[DOC_LOGLIKELIHOOD] for s in samples], True,
                                    _clusters(samples)))
    return CellOutcome(samples, metrics)


@contextmanager
def generation_overrides(task: Any, gen_kwargs: dict[str, Any]) -> Iterator[None]:
    """--gen-kwargs update a generation task's generation_kwargs for one cell (merged over the YAML's,
    as lm_eval.simple_evaluate's `set_config(..., update=True)` does); the task's own are restored after."""
    if not gen_kwargs or task.get_config("output_type") != "generate_until":
        yield
        return
    original = copy.deepcopy(task.config.generation_kwargs)
    task.set_config(key="generation_kwargs", value={**(original or {}), **copy.deepcopy(gen_kwargs)})
    try:
        yield
    finally:
        task.set_config(key="generation_kwargs", value=original)


def check_documents(loaded: LoadedTask, limit: int | None) -> None:
    """Input errors in the documents to be evaluated are found before any compute: an empty
    evaluation split, or a prompt, target or choice list lm-eval would score silently as wrong
    (evalkit.tasks.document_checks); duplicate choices are logged as a warning."""
    from evalkit.tasks.document_checks import document_problem, duplicate_choices

    task = loaded.task
    docs = task.eval_docs
    if len(docs) == 0:
        raise TaskError(f"Task '{loaded.name}' ({loaded.source}): the evaluation split has no documents.",
                        hint="Check the data file of the validation/test split.")
    ties = []
    for i, doc in enumerate(docs):
        if limit is not None and i >= limit:
            break
        problem = document_problem(task, doc)
        if problem:
            raise TaskError(f"Task '{loaded.name}' ({loaded.source}), document {i}: {problem}.",
                            hint="Fix the data or the task's templates/hooks (`evalkit tasks validate PATH` "
                                 "lists every document with a problem).")
        if (note := duplicate_choices(task, doc)):
            ties.append(f"document {i}: {note}")
    if ties:
        log.warning("Task '%s': %d document(s) offer the same choice twice (first: %s).", loaded.name, len(ties), ties[0])


def check_fewshot_source(loaded: LoadedTask, k: int, setting: str) -> None:
    """K few-shot examples need a source split with at least K documents (K + 1 when the
    source is the evaluation split itself: lm-eval leaves the evaluated document out)."""
    from evalkit.errors import TaskError

    if k == 0:
        return
    task = loaded.task
    docs = task.fewshot_docs() if _has_fewshot_source(task) else None
    if docs is None:
        raise TaskError(f"Task '{loaded.name}' ({loaded.source}): setting {setting} needs {k} few-shot examples, "
                        "but the task has no training, validation or fewshot split to draw them from.",
                        hint="Declare training_split or fewshot_split in its YAML, or use zero-shot.")
    fewshot_split = getattr(getattr(task, "fewshot_cfg", None), "split", None)
    needed = k + 1 if fewshot_split is not None and fewshot_split == task.config.test_split else k
    if len(docs) < needed:
        raise TaskError(f"Task '{loaded.name}' ({loaded.source}): setting {setting} asks for {k} few-shot "
                        f"examples, but its few-shot source has only {len(docs)} documents"
                        + (" (one of them is the evaluated document)." if needed > k else "."),
                        hint=f"Use at most {max(0, len(docs) - (needed - k))} few-shot examples "
                        "(-k / --setting few-shot:K).")


def _check_finite(raw: list[dict[str, Any]], task_name: str) -> None:
    """NaN or infinite loglikelihoods make accuracy meaningless: fail loudly, naming documents."""
    bad = sorted({int(s["doc_id"]) for s in raw for r in s["resps"] for v in _floats(r) if not math.isfinite(v)})
    if bad:
        shown = ", ".join(map(str, bad[:10])) + (" ..." if len(bad) > 10 else "")
        raise RunFailedError(f"Task '{task_name}': the model returned NaN or infinite log-likelihoods for "
                             f"{len(bad)} of {len(raw)} documents (doc ids {shown}); no metric was computed.",
                             hint="Check the weights and the dtype (float16 overflows easily; try --dtype float32).")


def _floats(value: Any) -> list[float]:
    if isinstance(value, bool):
        return []
    if isinstance(value, float):
        return [value]
    if isinstance(value, (list, tuple)):
        return [f for v in value for f in _floats(v)]
    return []


def _has_fewshot_source(task: Any) -> bool:
    return bool(task.has_training_docs() or task.has_validation_docs()
                or getattr(task.config, "fewshot_split", None)
                or _fewshot_samples(getattr(task.config, "fewshot_config", None)))


def _fewshot_samples(config: Any) -> Any:
    """A fixed list of few-shot samples, from a `fewshot_config` lm-eval keeps as a dict or an object."""
    if isinstance(config, dict):
        return config.get("samples")
    return getattr(config, "samples", None)


def metric_key(metric: str, filter_name: str) -> str:
    """A metric's key in evalkit's records (lm-eval's name, with ",FILTER" unless the filter is "none")."""
    return metric if filter_name == "none" else f"{metric},{filter_name}"


def _merge_filters(raw: list[dict[str, Any]], task: Any) -> list[SampleRecord]:
    """lm-eval logs one sample per (document, filter); evalkit keeps one record per document."""
    by_doc: dict[int, list[dict[str, Any]]] = {}
    for sample in raw:
        by_doc.setdefault(int(sample["doc_id"]), []).append(sample)
    field = task_cluster_field(task)
    return [_sample_record(doc_id, group, task, field) for doc_id, group in sorted(by_doc.items())]


def _sample_record(doc_id: int, group: list[dict[str, Any]], task: Any, cluster_field: str | None) -> SampleRecord:
    first = group[0]
    scores: dict[str, float] = {}
    if task.OUTPUT_TYPE == "loglikelihood_rolling":
        scores[DOC_LOGLIKELIHOOD] = _rolling_loglikelihood(first)
    for sample in group:
        for metric in sample["metrics"]:
            if not isinstance(sample[metric], (list, tuple)):  # corpus-level metrics log tuples
                scores[metric_key(metric, sample["filter"])] = _as_float(sample[metric])
    prompt = first["arguments"][0][0] if first["arguments"] else ""
    return SampleRecord(
        doc_id=doc_id, doc_hash=first["doc_hash"], prompt_hash=first["prompt_hash"],
        prompt=str(prompt), target=_target_text(first, task), prediction=_prediction(first, task),
        scores=scores, outputs=_outputs(first),
        cluster=document_cluster(first["doc"], cluster_field, f"Task '{task.config.task}', document {doc_id}"))


def _rolling_loglikelihood(sample: dict[str, Any]) -> float:
    """The document's summed log-likelihood (nats) that lm-eval's perplexity metrics are built from."""
    value = sample["filtered_resps"]
    while isinstance(value, (list, tuple)):
        value = value[0]
    return _as_float(value)


def _target_text(sample: dict[str, Any], task: Any) -> str:
    target = sample["target"]
    if task.OUTPUT_TYPE == "multiple_choice":
        choices = task.doc_to_choice(sample["doc"])
        if isinstance(target, int) and 0 <= target < len(choices):
            return str(choices[target])
    return str(target)


def _prediction(sample: dict[str, Any], task: Any) -> str:
    filtered = sample["filtered_resps"]
    if task.OUTPUT_TYPE == "multiple_choice":
        lls = [float(r[0]) for r in filtered]
        choices = task.doc_to_choice(sample["doc"])
        best = max(range(len(lls)), key=lambda i: lls[i]) if lls else -1
        return str(choices[best]) if 0 <= best < len(choices) else ""
    value = filtered[0] if isinstance(filtered, list) and filtered else filtered
    if isinstance(value, (list, tuple)):
        value = value[0]
    return str(value)


def _outputs(sample: dict[str, Any]) -> Any:
    """The raw model outputs: loglikelihoods (with greedy flags) or generated text."""
    def plain(x: Any) -> Any:
        if isinstance(x, (list, tuple)):
            return [plain(v) for v in x]
        return x if isinstance(x, (str, int, float, bool)) or x is None else str(x)

    return plain(sample["resps"])


def _as_float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _metrics(keys: list[str], samples: list[SampleRecord], task: Any,
             aggregate: dict[str, Any]) -> list[MetricRecord]:
    """Mean metrics get intervals from their per-document values; others use lm-eval's value
    and bootstrap standard error."""
    from lm_eval.api.metrics import mean

    aggregations = task.aggregation()
    higher = task.higher_is_better()
    records: list[MetricRecord] = []
    for key in keys:
        metric = key.split(",")[0]
        hib = bool(higher.get(metric, True))
        if aggregations.get(metric) is mean and all(key in s.scores for s in samples):
            records.append(_mean_metric(key, [s.scores[key] for s in samples], hib, _clusters(samples)))
        else:
            records.append(_aggregate_metric(key, aggregate, len(samples), hib))
    return records


def _clusters(samples: list[SampleRecord]) -> list[str] | None:
    """The documents' clusters when the task names a cluster field (every sample then has one)."""
    clusters = [s.cluster for s in samples]
    return clusters if samples and all(c is not None for c in clusters) else None


def _mean_metric(key: str, values: list[float], higher_is_better: bool,
                 clusters: list[str] | None = None) -> MetricRecord:
    """The mean with its interval: cluster-robust when the documents come in clusters (the single run's
    interval must not treat several questions on one passage as independent)."""
    bad = sum(1 for v in values if not math.isfinite(v))
    if bad:
        raise RunFailedError(f"Metric '{key}' has {bad} non-finite per-document values (NaN or infinite) "
                             f"out of {len(values)}; the model produced invalid scores.",
                             hint="Check the model's dtype (try --dtype float32) and its weights.")
    interval = mean_interval(values) if clusters is None else clustered_mean_interval(values, clusters)
    return MetricRecord(key, interval.estimate, interval.stderr, interval.low, interval.high,
                        interval.n, higher_is_better)


def _aggregate_metric(key: str, aggregate: dict[str, Any], n: int, higher_is_better: bool) -> MetricRecord:
    metric, _, filter_name = key.partition(",")
    full = f"{metric},{filter_name or 'none'}"
    value = _as_float(aggregate.get(full))
    stderr = _as_float(aggregate.get(f"{metric}_stderr,{filter_name or 'none'}"))
    if not math.isfinite(stderr):
        return MetricRecord(key, value, None, None, None, n, higher_is_better)
    return MetricRecord(key, value, stderr, value - 1.96 * stderr, value + 1.96 * stderr, n, higher_is_better)
