"""Log-likelihood of tokenised (context, continuation) pairs, in lm-eval's conventions.

Causal models: each pair becomes the input lm-eval's HFLM would run,
`(context + continuation)[-(max_length + 1):][:-1]`, scored at its last len(continuation)
positions; pairs sharing a context are packed into one trie row (see packing.py), and a long
prefix shared across contexts (fixed few-shot examples) is computed once into a key/value cache
that the rows after it read (see prefix_cache.py).
Encoder-decoder models: plain padded batches, as HFLM does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from evalkit.scoring.budget import BatchPlan
from evalkit.scoring.forward import RowScorer
from evalkit.scoring.packing import Row, ScoreItem, batch_rows, build_row, make_rows, pack_batches
from evalkit.scoring.prefix_cache import PrefixGroup, PrefixPolicy, plan_prefix_groups, prefix_cache_enabled
from evalkit.scoring.stats import ScoringStats

# (request strings or None, context tokens, continuation tokens): lm-eval's token request.
TokenRequest = tuple[Any, list[int], list[int]]
OnBatch = Callable[[int], None]  # called with the number of requests a batch finished

# Largest trie row built from one context's continuations before it is split (splitting
# repeats the context; up to here a longer row costs less than the repeated tokens).
ROW_TARGET = 2048


def causal_items(requests: Sequence[TokenRequest], max_length: int) -> list[ScoreItem]:
    """The model input and scored tokens of each request, truncated from the left like HFLM."""
    items = []
    for index, (_, context, continuation) in enumerate(requests):
        if not context or not continuation:
            raise ValueError("Context and continuation must both be non-empty token lists.")
        if len(continuation) > max_length:
            raise ValueError(f"Continuation of {len(continuation)} tokens exceeds max_length {max_length}.")
        seq = (list(context) + list(continuation))[-(max_length + 1):][:-1]
        items.append(ScoreItem(index, tuple(seq), tuple(continuation)))
    return items


class CausalScorer:
    """Scores ScoreItems with prefix sharing when the model supports it: within a context (trie
    rows) and, with `prefix_cache` (default: $EVALKIT_PREFIX_CACHE, on), across contexts."""

    def __init__(self, scorer: RowScorer, plan: BatchPlan, stats: ScoringStats,
                 prefix_cache: bool | None = None, policy: PrefixPolicy | None = None) -> None:
        self.scorer = scorer
        self.plan = plan
        self.stats = stats
        self.prefix_cache = prefix_cache_enabled() if prefix_cache is None else prefix_cache
        self.policy = policy or PrefixPolicy.for_device(scorer.device.type)
        self._mode_chosen = False

    def run(self, items: Sequence[ScoreItem], on_batch: OnBatch | None = None) -> list[tuple[float, bool]]:
        if not self._mode_chosen:
            self.scorer.choose_mode()
            self._mode_chosen = True
        totals = _Totals(items, on_batch)
        rest: list[ScoreItem] = list(items)
        if self.prefix_cache and self.scorer.mode.share and self.scorer.mode.prefix_cache:
            groups, rest = plan_prefix_groups(items, self.policy)
            for group in groups:
                if not self._run_group(group, totals):
                    rest.extend(group.items)  # memory too short for its cache: plain rows
        if self.scorer.mode.share:
            batches = pack_batches(make_rows(rest, ROW_TARGET), self._rows_for_length)
        else:
            rows = sorted((build_row([item]) for item in rest), key=len, reverse=True)
            batches = batch_rows(rows, self._rows_for_length)
        for batch in batches:
            totals.add(batch, self._score(batch))
            self._count(batch)
        return totals.results()

    def _run_group(self, group: PrefixGroup, totals: "_Totals") -> bool:
        """Score a group's rows after its prefix, computed once; False (nothing scored) when one
        row with its copy of the prefix does not fit the memory budget, or the prefill runs out."""
        length = group.length
        rows = make_rows(group.items, ROW_TARGET, start=length)
        if not self.plan.fits_prefix(len(rows[0]), length):
            return False
        chunk = self.plan.prefill_tokens(length)
        try:
            prefix = self.scorer.prefill(group.prefix, chunk)
        except Exception as exc:
            if not _is_out_of_memory(exc):
                raise
            _release_memory()
            return False
        self.stats.batches += -(-length // chunk)
        self.stats.forward_tokens += length
        self.stats.input_tokens += length
        self.stats.prefix_tokens += length
        self.stats.prefix_reused_tokens += length * len(rows)
        with self.scorer.using_prefix(prefix):
            for batch in pack_batches(rows, lambda width: self.plan.rows_with_prefix(width, length)):
                totals.add(batch, self._score(batch))
                self._count(batch)
        return True

    def _rows_for_length(self, length: int) -> int:
        return self.plan(length)  # read at each batch: an out-of-memory error shrinks the plan

    def _score(self, batch: list[Row]) -> list[dict]:
        """Score a batch; on an out-of-memory error halve the plan and the batch, and retry."""
        try:
            return self.scorer.score(batch)
        except Exception as exc:
            if not _is_out_of_memory(exc) or len(batch) == 1:
                raise
            _release_memory()
            self.plan = self.plan.halved()
            half = max(1, len(batch) // 2)
            return self._score(batch[:half]) + (self._score(batch[half:]) if batch[half:] else [])

    def _count(self, batch: list[Row]) -> None:
        width = max(len(row) for row in batch)
        self.stats.batches += 1
        self.stats.forward_tokens += width * len(batch)
        self.stats.input_tokens += sum(len(row) for row in batch)
        if self.scorer.mode.head_only:
            self.stats.scored_positions += sum(len(row.scored_nodes) for row in batch)
        else:
            self.stats.scored_positions += width * len(batch)


class _Totals:
    """Per-item sums of the log-probabilities read out of scored rows, and is-greedy flags."""

    def __init__(self, items: Sequence[ScoreItem], on_batch: OnBatch | None) -> None:
        self.logprob = [0.0] * len(items)
        self.greedy = [True] * len(items)
        self.slot = {item.index: k for k, item in enumerate(items)}
        self.on_batch = on_batch

    def add(self, batch: list[Row], scores: list[dict]) -> None:
        for row, row_scores in zip(batch, scores):
            for key, readers in row.reads.items():
                value, is_greedy = row_scores[key]
                for index, _offset in readers:
                    self.logprob[self.slot[index]] += value
                    self.greedy[self.slot[index]] &= is_greedy
        if self.on_batch:
            self.on_batch(sum(row.n_items for row in batch))

    def results(self) -> list[tuple[float, bool]]:
        return list(zip(self.logprob, self.greedy))


def seq2seq_loglikelihood(
    model: Any, requests: Sequence[TokenRequest], max_length: int, plan: BatchPlan,
    stats: ScoringStats, on_batch: OnBatch | None = None,
) -> list[tuple[float, bool]]:
    """Encoder gets the context, decoder is teacher-forced on the continuation (as HFLM)."""
    import torch
    from lm_eval.models.utils_hf import pad_and_concat

    device = next(model.parameters()).device
    order = sorted(range(len(requests)), key=lambda i: -len(requests[i][1]) - len(requests[i][2]))
    results: list[tuple[float, bool]] = [(0.0, False)] * len(requests)
    start = 0
    while start < len(order):
        first = requests[order[start]]
        size = plan(max(len(first[1][-max_length:]), len(first[2][-max_length:])))
        chunk = order[start : start + size]
        start += size
        encs = [torch.tensor(requests[i][1][-max_length:], dtype=torch.long) for i in chunk]
        conts = [torch.tensor(requests[i][2][-max_length:], dtype=torch.long) for i in chunk]
        enc_len, cont_len = max(len(e) for e in encs), max(len(c) for c in conts)
        inputs = pad_and_concat(enc_len, list(encs)).to(device)
        mask = pad_and_concat(enc_len, [torch.ones_like(e) for e in encs]).to(device)
        labels = pad_and_concat(cont_len, list(conts)).to(device)
        with torch.inference_mode():
            logits = model(input_ids=inputs, attention_mask=mask, labels=labels).logits.float()
        logp = torch.log_softmax(logits, dim=-1)
        for row, i in enumerate(chunk):
            cont = conts[row].to(device)
            scored = logp[row, : len(cont)]
            value = float(scored.gather(1, cont[:, None]).sum())
            results[i] = (value, bool((scored.argmax(-1) == cont).all()))
        stats.batches += 1
        stats.forward_tokens += len(chunk) * (enc_len + cont_len)
        stats.input_tokens += sum(len(e) + len(c) for e, c in zip(encs, conts))
        stats.scored_positions += len(chunk) * cont_len
        if on_batch:
            on_batch(len(chunk))
    return results


def _is_out_of_memory(exc: BaseException) -> bool:
    import torch

    return isinstance(exc, torch.OutOfMemoryError) or "out of memory" in str(exc).lower()


def _release_memory() -> None:
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
