"""fast-exact loglikelihood: bf16 for every multiple-choice document, float32 where it could matter.

Passes over one `loglikelihood` call (lm-eval sends all of a task's requests at once):
1. float32: requests fast-exact does not apply to (precision.decision_rule is None) and the
   calibration documents (whole documents, CALIBRATION_SIZE requests per task not yet calibrated);
2. bfloat16: every other multiple-choice request, plus the calibration documents again;
3. the bound is measured (calibration.py) and each document's decisions checked against it;
   float32 re-scores every request of a document that is not certainly decided.
A request's stored value is its float32 log-likelihood when it was computed in float32
(calibration, fallback, re-scored) and its bf16 value otherwise; results reach the request
cache (lm-eval's cache hook) only once final. The report counts the forward tokens of each
precision, so the work saved is visible on any hardware.

Memory: a bf16 copy of the weights beside the float32 model when that copy is at most
BF16_COPY_LIMIT bytes (135M parameters: 269 MB next to 538 MB), made once per model and reused
by every cell on it while the weights are unchanged (bf16_weights); larger models run the float32
weights under torch.autocast(bfloat16), which casts on the fly and keeps one copy. The bf16
scorer takes the float32 scorer's mode (adopt_mode) instead of probing again.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from evalkit.scoring.calibration import (CalibrationDocument, ErrorBound, bound_key, calibration_size, load_bound,
                                         measure_bound, safety_factor, save_bound, with_factor)
from evalkit.scoring.forward import RowScorer
from evalkit.scoring.loglikelihood import CausalScorer, TokenRequest, causal_items
from evalkit.scoring.precision import DecisionRule, decision_rule, document_is_safe

BF16_COPY_LIMIT = 4 * 2**30
STORED_VALUES = "float32 log-likelihoods for calibrated, fallback and re-scored requests; bfloat16 otherwise"
Result = tuple[float, bool]
DocKey = tuple[str, int]


@dataclass
class FastExactReport:
    """What fast-exact did in one cell (stored in the cell's details as details["precision"])."""

    precision: str = "fast-exact"
    fast_dtype: str = "bfloat16"
    documents: int = 0  # multiple-choice documents decided under fast-exact
    rescored_documents: int = 0  # re-scored in float32 because a decision was within the bound
    calibration_documents: int = 0
    requests: int = 0  # loglikelihood requests of the cell
    bf16_requests: int = 0  # whose stored value is the bf16 one
    rescored_requests: int = 0
    calibration_requests: int = 0
    float32_requests: int = 0  # fast-exact does not apply (task metrics, no document, ...)
    rescored_fraction: float = 0.0  # rescored_documents / documents
    bf16_forward_tokens: int = 0  # tokens through the bf16 weights (padding included)
    float32_forward_tokens: int = 0  # tokens through the float32 weights (calibration, fallback, re-scoring)
    bound: dict | None = None
    bound_source: str = "none"  # measured | cached | merged
    weights: str = "none"  # bf16-copy | autocast
    stored_values: str = STORED_VALUES

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class FastExactScorer:
    """The fast-exact path of an EvalkitLM (causal models)."""

    def __init__(self, lm: Any, fingerprint: str | None, copy_limit: int = BF16_COPY_LIMIT) -> None:
        self.lm = lm
        # No fingerprint (a model object handed in directly): the bound lives in this object only.
        self.fingerprint = fingerprint
        self.key = bound_key(fingerprint, str(lm._device)) if fingerprint else None
        self._unsaved: ErrorBound | None = None
        self.copy_limit = copy_limit
        self.rules: dict[str, DecisionRule | None] = {}
        self.report = FastExactReport()
        self._fast: CausalScorer | None = None

    def register_task(self, name: str, task: Any) -> None:
        """Say which metrics decide the task's documents (unregistered tasks are scored in float32)."""
        self.rules[name] = decision_rule(task)

    def loglikelihood(self, requests: Sequence[Any], token_requests: list[TokenRequest]) -> list[Result]:
        docs = self._documents(requests)
        in_docs = {i for indices in docs.values() for i in indices}
        fallback = [i for i in range(len(requests)) if i not in in_docs]
        calibration = self._calibration(requests, docs)
        results: dict[int, Result] = {}
        results.update(self._exact(token_requests, fallback + calibration))
        fast = self._bf16(token_requests, sorted(in_docs))
        bound = self._bound(requests, token_requests, docs, set(calibration), fast, results)
        rescore = self._decide(requests, token_requests, docs, fast, results, bound)
        results.update(self._exact(token_requests, rescore))
        self._count(len(requests), fallback, calibration, rescore, docs)
        return [results[i] if i in results else fast[i] for i in range(len(requests))]

    # ----- the passes -------------------------------------------------------------------
    def _documents(self, requests: Sequence[Any]) -> dict[DocKey, list[int]]:
        """Request indices by document, for the documents of tasks with a decision rule."""
        docs: dict[DocKey, list[int]] = {}
        for i, req in enumerate(requests):
            name, doc_id = getattr(req, "task_name", None), getattr(req, "doc_id", None)
            if name is not None and doc_id is not None and self.rules.get(name) is not None:
                docs.setdefault((name, int(doc_id)), []).append(i)
        for indices in docs.values():
            indices.sort(key=lambda i: requests[i].idx)
        return docs

    def _calibration(self, requests: Sequence[Any], docs: dict[DocKey, list[int]]) -> list[int]:
        """Whole documents, the first ones of each task the cached bound has not seen, up to the size."""
        known = set(self.bound_tasks())
        size, taken = calibration_size(), {}
        chosen: list[int] = []
        for (name, _doc_id), indices in docs.items():
            if name in known or taken.get(name, 0) >= size:
                continue
            taken[name] = taken.get(name, 0) + len(indices)
            chosen += indices
        return chosen

    def _exact(self, token_requests: list[TokenRequest], indices: list[int]) -> dict[int, Result]:
        """float32 results (through the backend, which also saves them to the request cache)."""
        if not indices:
            return {}
        before = self.lm.stats.forward_tokens
        values = self.lm._loglikelihood_tokens([token_requests[i] for i in indices])
        self.report.float32_forward_tokens += self.lm.stats.forward_tokens - before
        return dict(zip(indices, values))

    def _bf16(self, token_requests: list[TokenRequest], indices: list[int]) -> dict[int, Result]:
        if not indices:
            return {}
        scorer = self._fast_scorer()
        on_batch = self.lm._progress_counter("loglikelihood (bf16)", len(indices))
        before = self.lm.stats.forward_tokens
        values = scorer.run(causal_items([token_requests[i] for i in indices], self.lm.max_length), on_batch)
        self.report.bf16_forward_tokens += self.lm.stats.forward_tokens - before
        return dict(zip(indices, values))

    def _bound(self, requests: Sequence[Any], token_requests: list[TokenRequest], docs: dict[DocKey, list[int]],
               calibration: set[int], fast: dict[int, Result], exact: dict[int, Result]) -> ErrorBound | None:
        cached = self._load()
        sample = [CalibrationDocument([fast[i][0] for i in indices], [exact[i][0] for i in indices],
                                      [len(token_requests[i][2]) for i in indices],
                                      self.rules[name].choice_lengths(requests[indices[0]].doc),  # type: ignore
                                      name)
                  for (name, _), indices in docs.items() if indices[0] in calibration]
        if not sample:
            self.report.bound_source = "cached" if cached else "none"
            bound = with_factor(cached, safety_factor()) if cached else None
        else:
            measured = measure_bound(sample, [requests[i].task_name for i in sorted(calibration)])
            bound = with_factor(cached.merged(measured), measured.factor) if cached else measured
            self.report.bound_source = "merged" if cached else "measured"
            if bound.coefficient < float("inf"):
                self._save(bound)
        self.report.bound = bound.as_dict() if bound else None
        return bound

    def _decide(self, requests: Sequence[Any], token_requests: list[TokenRequest], docs: dict[DocKey, list[int]],
                fast: dict[int, Result], exact: dict[int, Result], bound: ErrorBound | None) -> list[int]:
        """Indices to re-score in float32; bf16 results of the safe documents go to the request cache."""
        rescore: list[int] = []
        for (name, _doc_id), indices in docs.items():
            pending = [i for i in indices if i not in exact]
            if not pending:
                continue
            values = [exact[i][0] if i in exact else fast[i][0] for i in indices]
            n_tokens = [len(token_requests[i][2]) for i in indices]
            rule = self.rules[name]
            if bound is not None and rule is not None and document_is_safe(rule, requests[indices[0]].doc,
                                                                            values, n_tokens, bound.pair_for(name)):
                for i in pending:
                    if token_requests[i][0] is not None:
                        self.lm.cache_hook.add_partial("loglikelihood", token_requests[i][0], fast[i])
            else:
                rescore += pending
                self.report.rescored_documents += 1
        return rescore

    def _count(self, total: int, fallback: list[int], calibration: list[int], rescore: list[int],
               docs: dict[DocKey, list[int]]) -> None:
        report = self.report
        report.requests += total
        report.float32_requests += len(fallback)
        report.calibration_requests += len(calibration)
        report.rescored_requests += len(rescore)
        report.bf16_requests += total - len(fallback) - len(calibration) - len(rescore)
        report.documents += len(docs)
        calibrated = set(calibration)
        report.calibration_documents += sum(1 for indices in docs.values() if indices[0] in calibrated)
        report.rescored_fraction = report.rescored_documents / report.documents if report.documents else 0.0

    # ----- the bf16 weights -------------------------------------------------------------
    def bound_tasks(self) -> tuple[str, ...]:
        cached = self._load()
        return cached.tasks if cached else ()

    def _load(self) -> ErrorBound | None:
        return load_bound(self.key) if self.key else self._unsaved

    def _save(self, bound: ErrorBound) -> None:
        if self.key:
            save_bound(self.key, bound)
        else:
            self._unsaved = bound

    def _fast_scorer(self) -> CausalScorer:
        if self._fast is None:
            lm = self.lm
            model = lm._model
            size = sum(p.numel() for p in model.parameters()) * 2
            if size <= self.copy_limit:
                scorer: RowScorer = RowScorer(bf16_weights(model, self.fingerprint), lm.tokenizer.pad_token_id)
                self.report.weights = "bf16-copy"
            else:
                scorer = AutocastRowScorer(model, lm.tokenizer.pad_token_id)
                self.report.weights = "autocast"
            self._fast = CausalScorer(scorer, lm.plan, lm.stats)
            adopt_mode(self._fast, lm._causal)
        return self._fast


def adopt_mode(fast: CausalScorer, exact: CausalScorer) -> None:
    """Give the bf16 scorer the float32 scorer's mode (sharing, head only, prefix cache): the mode
    is a property of the architecture, so the float32 probe (at float32's tolerance) settles it
    for both and the bf16 weights are not probed again."""
    if not exact._mode_chosen:
        exact.scorer.choose_mode()
        exact._mode_chosen = True
    fast.scorer.mode = exact.scorer.mode
    fast._mode_chosen = True


# One bf16 copy per live float32 model, reused by every cell (backend) on it while its weights and
# fingerprint stay the same; the entry goes with the model (weak key).
_BF16_COPIES: "weakref.WeakKeyDictionary[Any, tuple[tuple, Any]]" = weakref.WeakKeyDictionary()


def bf16_weights(model: Any, fingerprint: str | None) -> Any:
    """The bfloat16 copy of `model` (bf16_copy), made once per model and kept while the model's
    weights are unchanged: same fingerprint (an adapter switch changes it), same parameter
    storage and no in-place update since (a training step bumps a tensor's version counter).
    A model without a fingerprint gets a fresh copy each time."""
    signature = (fingerprint, tuple((p.data_ptr(), p._version) for p in model.parameters()))
    if fingerprint is not None:
        cached = _BF16_COPIES.get(model)
        if cached is not None and cached[0] == signature:
            return cached[1]
    weights = bf16_copy(model)
    if fingerprint is not None:
        _BF16_COPIES[model] = (signature, weights)
    return weights


def bf16_copy(model: Any) -> Any:
    """A bfloat16 copy of `model` on the same device (the float32 model is left as it is)."""
    import copy

    import torch

    return copy.deepcopy(model).to(torch.bfloat16).eval()


class AutocastRowScorer(RowScorer):
    """A RowScorer over float32 weights whose forward runs under bfloat16 autocast. Its mode
    (sharing, head only) is probed without autocast: it is a property of the architecture, and
    the probe's tolerance is float32's."""

    _autocast = True

    def score(self, rows: Sequence[Any], mode: Any = None) -> list[dict]:
        if not self._autocast:
            return super().score(rows, mode)
        torch = self._torch
        with torch.autocast(device_type=self.device.type, dtype=torch.bfloat16):
            return super().score(rows, mode)

    def choose_mode(self) -> Any:
        self._autocast = False
        try:
            return super().choose_mode()
        finally:
            self._autocast = True
