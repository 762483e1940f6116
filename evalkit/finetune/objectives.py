"""Tokenised training examples and the two objectives.

Pairs are tokenised by the scoring backend itself (lm-eval's rule: context and continuation
encoded together, trailing context whitespace moved into the continuation, the backend's BOS
rule), so training scores the very tokens evaluation scores. A continuation's tokens are
predicted from the last len(continuation) positions of its input row. Answer choices whose
inputs are identical (e.g. single-token choices " negative" / " positive" after the same prompt)
share one row. `evalkit.finetune.scored` runs the forward pass (packed prefix tries, the output
head at scored positions only); `collate` lays out the left-padded batch of its fallback.

- `nll`: language-model loss on the gold answer's tokens only (labels -100 elsewhere): the mean
  over the step's answer tokens.
- `choice-ce`: cross-entropy over the choices' summed log-likelihoods: a classification
  loss on exactly the decision lm-eval's `acc` makes (argmax of the summed log-likelihood).

`reference_loss` is the plain definition of both (each row alone, full logits); the fast path
must equal it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from evalkit.finetune.examples import TrainingExample

IGNORE = -100
OBJECTIVES = ("nll", "choice-ce")


def resolve_objective(requested: str, output_type: str) -> str:
    """'auto' is choice-ce for multiple-choice tasks and nll otherwise."""
    from evalkit.errors import InputError

    if requested == "auto":
        return "choice-ce" if output_type == "multiple_choice" else "nll"
    if requested == "choice-ce" and output_type != "multiple_choice":
        raise InputError(f"--ft-objective choice-ce needs a multiple-choice task; this one is {output_type}.",
                         hint="Use --ft-objective nll (or auto).")
    if requested not in OBJECTIVES:
        raise InputError(f"Unknown fine-tuning objective '{requested}'.", hint="Use auto, nll or choice-ce.")
    return requested


@dataclass(frozen=True)
class EncodedExample:
    """Token ids of one example: distinct input rows, and per pair (row, continuation ids)."""

    rows: tuple[tuple[int, ...], ...]
    pairs: tuple[tuple[int, tuple[int, ...]], ...]
    gold: int


class PairEncoder:
    """Encodes training pairs with the scoring backend's own rule (EvalkitLM.encode_request:
    lm-eval's _encode_pair on the backend's tok_encode, with its BOS rule), so fine-tuning
    trains on exactly the token ids evaluation scores."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend  # an EvalkitLM: encode_request, prefix_token_id, max_length
        self.max_length = int(backend.max_length)
        self.prefix_id = int(backend.prefix_token_id)

    def encode_pair(self, context: str, continuation: str) -> tuple[list[int], list[int]]:
        context_ids, continuation_ids = self.backend.encode_request(context, continuation)
        return list(context_ids), list(continuation_ids)

    def encode_example(self, example: TrainingExample, *, gold_only: bool) -> EncodedExample:
        chosen = [example.pairs[example.gold]] if gold_only else list(example.pairs)
        rows: dict[tuple[int, ...], int] = {}
        pairs = []
        for context, continuation in chosen:
            context_ids, continuation_ids = self.encode_pair(context, continuation)
            if not continuation_ids:  # an empty answer still needs one scored token
                continuation_ids = [self.prefix_id]
            # The model input exactly as evaluation builds it (evalkit.scoring.loglikelihood.causal_items).
            row = tuple((context_ids + continuation_ids)[-(self.max_length + 1):][:-1])
            pairs.append((rows.setdefault(row, len(rows)), tuple(continuation_ids[-self.max_length:])))
        return EncodedExample(tuple(rows), tuple(pairs), 0 if gold_only else example.gold)


@dataclass
class Batch:
    """The fallback forward's left-padded rows. labels[p] holds pair p's continuation ids in the
    last positions of the kept window of its row pair_row[p], and -100 everywhere else."""

    input_ids: Any
    attention_mask: Any
    position_ids: Any
    labels: Any
    pair_row: Any

    @property
    def keep(self) -> int:
        return int(self.labels.shape[1])


def collate(examples: Sequence[EncodedExample], pad_id: int) -> Batch:
    """Left-pad the examples' rows into one batch (explicit position ids, so padding does not
    shift positions) and lay out the labels; pairs in example order."""
    import torch

    rows: list[tuple[int, ...]] = []
    pair_row, continuations = [], []
    for example in examples:
        offset = len(rows)
        rows.extend(example.rows)
        for row, continuation in example.pairs:
            pair_row.append(offset + row)
            continuations.append(continuation)
    width = max(len(r) for r in rows)
    keep = max(len(c) for c in continuations)
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        input_ids[i, width - len(row):] = torch.tensor(row, dtype=torch.long)
        mask[i, width - len(row):] = 1
    positions = (mask.cumsum(dim=1) - 1).clamp(min=0)
    labels = torch.full((len(continuations), keep), IGNORE, dtype=torch.long)
    for p, continuation in enumerate(continuations):
        labels[p, keep - len(continuation):] = torch.tensor(continuation, dtype=torch.long)
    return Batch(input_ids, mask, positions, labels, torch.tensor(pair_row))


def objective_count(examples: Sequence[EncodedExample], objective: str) -> int:
    """What the objective averages over: answer tokens (nll) or examples (choice-ce). A step's
    loss is its sum over the whole step's examples divided by this count, so splitting the step
    into micro-batches or over processes leaves the loss and its gradient unchanged."""
    if objective == "nll":
        return sum(len(continuation) for e in examples for _, continuation in e.pairs)
    return len(examples)


def objective_sum(objective: str, pair_logprobs: Any, examples: Sequence[EncodedExample]) -> Any:
    """The objective summed over the examples, from each pair's summed answer log-probability
    (pairs in example order): -sum of answer-token log-likelihoods (nll), or the sum over examples
    of the cross-entropy of the gold choice under a softmax over the choices' log-likelihoods."""
    import torch

    if objective == "nll":
        return -pair_logprobs.sum()
    gold = torch.tensor([e.gold for e in examples], device=pair_logprobs.device)
    return torch.nn.functional.cross_entropy(choice_scores(pair_logprobs, examples), gold, reduction="sum")


def choice_scores(pair_logprobs: Any, examples: Sequence[EncodedExample]) -> Any:
    """[examples, max choices] summed log-likelihoods, -inf for absent choices."""
    import torch

    width = max(len(e.pairs) for e in examples)
    scores = torch.full((len(examples), width), float("-inf"), dtype=pair_logprobs.dtype,
                        device=pair_logprobs.device)
    example_of = torch.tensor([i for i, e in enumerate(examples) for _ in e.pairs], device=pair_logprobs.device)
    choice_of = torch.tensor([c for e in examples for c in range(len(e.pairs))], device=pair_logprobs.device)
    return scores.index_put((example_of, choice_of), pair_logprobs)


def reference_loss(model: Any, examples: Sequence[EncodedExample], objective: str) -> Any:
    """The plain definition of the objective: each row alone, unpadded, full logits at every
    position (what a user would write). The fast path (`evalkit.finetune.scored`) must equal it; the
    training loop checks that on its first batch and the tests check it on the tiny model."""
    import torch

    token_logprobs: list[Any] = []
    scores: list[Any] = []
    for example in examples:
        per_choice = []
        for row, continuation in example.pairs:
            ids = torch.tensor([example.rows[row]], device=next(model.parameters()).device)
            logprobs = torch.log_softmax(model(input_ids=ids, use_cache=False).logits[0].float(), dim=-1)
            target = torch.tensor(continuation, device=ids.device)
            picked = logprobs[-len(continuation):].gather(-1, target.unsqueeze(-1)).squeeze(-1)
            token_logprobs.append(picked)
            per_choice.append(picked.sum())
        scores.append(torch.stack(per_choice))
    if objective == "nll":
        return -torch.cat(token_logprobs).mean()
    gold = torch.tensor([e.gold for e in examples], device=scores[0].device)
    return torch.stack([torch.nn.functional.cross_entropy(s[None], g[None]) for s, g in zip(scores, gold)]).mean()
