"""Pieces of the scoring benchmark: task loading, token counting, metrics, the markdown table."""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path
from typing import Any


def load_task(tasks_dir: Path, name: str, split: str, limit: int | None) -> tuple[Any, list, list]:
    """A built-in task evaluated on `split`, its first `limit` documents and their requests.

    Loaded the way `evalkit run` loads it (evalkit's registry and loader: safe YAML, key and split
    checks, data paths relative to the YAML); only the evaluated split is changed."""
    import dataclasses

    from evalkit.tasks.discovery import TaskRegistry, TaskSource
    from evalkit.tasks.loading import load_task as evalkit_load_task

    entry = TaskRegistry([TaskSource("bench", tasks_dir)]).resolve(name)
    if split != "test":
        config = {k: v for k, v in entry.config.items() if k != "test_split"}
        config[f"{split}_split"] = split  # evaluate on the requested split, as the benchmark does
        entry = dataclasses.replace(entry, config=config)
    task = evalkit_load_task(entry).task
    task.build_all_requests(limit=limit, rank=0, world_size=1)
    docs = list(task.eval_docs)[: limit or None]
    return task, docs, task.instances


def token_requests(lm: Any, instances: list) -> list:
    """The (strings, context tokens, continuation tokens) lm-eval's tokenisation produces."""
    captured: list = []
    original = lm._loglikelihood_tokens
    lm._loglikelihood_tokens = lambda reqs, **kw: captured.extend(reqs) or [(0.0, False)] * len(reqs)
    try:
        lm.loglikelihood(instances)
    finally:
        lm._loglikelihood_tokens = original
    return captured


def distinct_tokens(requests: list) -> int:
    """The issue's count of tokens needed: each distinct context once, plus every continuation
    token (what HFLM would compute if it shared each context among its answer choices)."""
    contexts: dict[tuple[int, ...], int] = {}
    for _, context, continuation in requests:
        contexts[tuple(context)] = contexts.get(tuple(context), len(context)) + len(continuation)
    return sum(contexts.values())


def trie_inputs(requests: list, max_length: int) -> int:
    """The least any exact method must feed the model: the prefix trie of all model inputs
    (shares prefixes across documents too, e.g. a common 'Question:')."""
    from evalkit.scoring.loglikelihood import causal_items
    from evalkit.scoring.packing import trie_size

    return trie_size(sorted(causal_items(requests, max_length), key=lambda it: it.seq))


class TokenCounter:
    """Counts tokens entering the decoder body (padding included), whoever calls it."""

    def __init__(self, model: Any) -> None:
        body = getattr(model, "base_model", model)
        self.tokens = 0
        self._handle = body.register_forward_pre_hook(self._hook, with_kwargs=True)

    def _hook(self, _module: Any, args: tuple, kwargs: dict) -> None:
        ids = kwargs.get("input_ids") if kwargs.get("input_ids") is not None else (args[0] if args else None)
        if ids is not None:
            self.tokens += int(ids.numel())

    def reset(self) -> None:
        self.tokens = 0

    def remove(self) -> None:
        self._handle.remove()


class ForwardProbe:
    """Times every forward batch of an EvalkitLM (its causal RowScorer: the backend's own batch shapes,
    vocabulary projection only at scored positions) and re-runs the fastest ones when asked. The
    best tokens/s seen (padded positions per second, as ScoringStats counts them) is the peak that
    the compute floor divides by: no batch of the backend ran faster, so the floor is not beaten."""

    def __init__(self, lm: Any, keep: int = 4) -> None:
        self.scorer = lm._causal.scorer
        self._score = self.scorer.score
        self.keep = keep
        self.best: list[tuple[float, list]] = []  # (tokens/s, batch), fastest first
        self.batches = 0
        self.scorer.score = self._timed

    def _timed(self, rows: list, mode: Any = None) -> list:
        start = time.perf_counter()
        out = self._score(rows, mode)
        self._record(rows, time.perf_counter() - start)
        return out

    def _record(self, rows: list, seconds: float) -> None:
        self.batches += 1
        rate = max(len(row) for row in rows) * len(rows) / max(seconds, 1e-9)
        self.best = sorted([*self.best, (rate, list(rows))], key=lambda pair: -pair[0])[: self.keep]

    def rerun(self, repeats: int = 2) -> None:
        """Time the fastest batches again (the machine may be quieter now); the best timing counts."""
        for _, rows in list(self.best):
            for _ in range(repeats):
                start = time.perf_counter()
                self._score(rows)
                self._record(rows, time.perf_counter() - start)

    def peak(self) -> dict[str, Any]:
        rate, rows = self.best[0] if self.best else (0.0, [])
        shape = [len(rows), max((len(row) for row in rows), default=0)]
        return {"tokens_per_s": rate, "shape": shape, "batches_timed": self.batches}

    def remove(self) -> None:
        self.scorer.score = self._score


def _per_doc(instances: list, scores: list) -> dict[int, list]:
    grouped: dict[int, list] = defaultdict(list)
    for inst, score in sorted(zip(instances, scores), key=lambda p: (p[0].doc_id, p[0].idx)):
        grouped[inst.doc_id].append(score)
    return grouped


def accuracy(task: Any, docs: list, instances: list, scores: list) -> dict[str, float]:
    """lm-eval's own per-document metrics (process_results), averaged."""
    totals: dict[str, float] = defaultdict(float)
    grouped = _per_doc(instances, scores)
    for doc_id, results in grouped.items():
        for metric, value in task.process_results(docs[doc_id], results).items():
            if isinstance(value, (int, float, bool)):
                totals[metric] += float(value)
    return {metric: round(total / len(grouped), 4) for metric, total in totals.items()}


def agreement(instances: list, first: list, second: list) -> tuple[float, float]:
    """Share of documents with the same predicted choice; largest loglikelihood difference."""
    a, b = _per_doc(instances, first), _per_doc(instances, second)
    same = 0
    for doc_id in a:
        la, lb = [s[0] for s in a[doc_id]], [s[0] for s in b[doc_id]]
        same += la.index(max(la)) == lb.index(max(lb))
    diff = max(abs(x[0] - y[0]) for x, y in zip(first, second))
    return same / max(1, len(a)), diff


def render_markdown(report: dict) -> str:
    """The benchmark table as markdown."""
    peak = report["peak_tokens_per_s"]
    lines = [
        f"Model {report['model']} ({report['dtype']}), {report['threads']} threads, HFLM batch size "
        f"{report['hf_batch_size']}, limit {report['limit'] or 'none'}. Peak forward throughput "
        f"{peak['tokens_per_s']:.0f} tokens/s (the fastest of evalkit's own {peak['batches_timed']} forward "
        f"batches, {peak['shape'][0]} rows x {peak['shape'][1]} positions). Backends alternate every "
        f"{report['chunk_docs']} documents. Load average before/after: "
        f"{report['load_average_before'][0]:.1f} / {report['load_average_after'][0]:.1f}.",
        "",
        "| task | docs | requests | HFLM tokens | evalkit tokens | distinct tokens | trie inputs | HFLM s | evalkit s | speed-up "
        "| floor s | evalkit / floor | acc HFLM | acc evalkit | doc agreement | max abs Δll "
        "| bf16 s | bf16 speed-up | bf16 agreement |",
        "|" + "---|" * 19,
    ]
    for t in report["tasks"]:
        lines.append(_task_line(t))
    return "\n".join(lines) + "\n"


def _task_line(t: dict) -> str:
    bf16 = t.get("bf16_seconds")
    bf16_cells = (f"{bf16:.1f} | {t['evalkit_seconds'] / bf16:.2f}x | {t['bf16_agreement']:.4f}" if bf16
                  else "- | - | -")
    return (f"| {t['task']} | {t['docs']} | {t['requests']} | {t['hf_tokens']:,} | {t['evalkit_tokens']:,} "
            f"| {t['distinct_tokens']:,} | {t['trie_inputs']:,} | {t['hf_seconds']:.1f} | {t['evalkit_seconds']:.1f} | {t['speedup']:.2f}x "
            f"| {t['floor_seconds']:.1f} | {t['evalkit_seconds'] / t['floor_seconds']:.2f} "
            f"| {_fmt_acc(t['hf_acc'])} | {_fmt_acc(t['evalkit_acc'])} | {t['doc_agreement']:.4f} "
            f"| {t['max_abs_diff']:.1e} | {bf16_cells} |")


def _fmt_acc(acc: dict[str, float]) -> str:
    return " / ".join(f"{acc[k]:.4f}" for k in ("acc", "acc_norm") if k in acc)
