"""Tokenised training batches and the two objectives.

Pairs are tokenised by the scoring backend itself (lm-eval's rule: context and continuation
encoded together, trailing context whitespace moved into the continuation, the backend's BOS
rule), so training scores the very tokens evaluation scores. A continuation's tokens are
predicted from the last len(continuation) positions of its input row; rows are left-padded
(with explicit position ids, so padding does not shift positions), which lets the model
compute logits for only the last K positions of every row (`logits_to_keep`) instead of
the whole vocabulary everywhere. Answer choices whose inputs are identical (e.g. single-token choices " negative" /
" positive" after the same prompt) share one row.

- `nll`: language-model loss on the gold answer's tokens only (labels -100 elsewhere).
- `choice-ce`: cross-entropy over the choices' summed log-likelihoods: a classification
  loss on exactly the decision lm-eval's `acc` makes (argmax of the summed log-likelihood).
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
    """Tensors for one optimiser step. labels[p] holds pair p's continuation ids in the last
    positions of the kept window of its row pair_row[p], and -100 everywhere else."""

    input_ids: Any
    attention_mask: Any
    position_ids: Any
    labels: Any
    pair_row: Any
    pair_example: Any
    pair_choice: Any
    gold: Any
    n_examples: int

    @property
    def keep(self) -> int:
        return int(self.labels.shape[1])


def collate(examples: Sequence[EncodedExample], pad_id: int) -> Batch:
    """Left-pad the examples' rows into one batch and lay out the labels."""
    import torch

    rows: list[tuple[int, ...]] = []
    pair_row, pair_example, pair_choice, continuations = [], [], [], []
    for e_index, example in enumerate(examples):
        offset = len(rows)
        rows.extend(example.rows)
        for c_index, (row, continuation) in enumerate(example.pairs):
            pair_row.append(offset + row)
            pair_example.append(e_index)
            pair_choice.append(c_index)
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
    return Batch(input_ids, mask, positions, labels, torch.tensor(pair_row), torch.tensor(pair_example),
                 torch.tensor(pair_choice), torch.tensor([e.gold for e in examples]), len(examples))


def pair_token_logprobs(model: Any, batch: Batch) -> tuple[Any, Any]:
    """Per pair and kept position: log p(label token) (0 where unlabelled), and the label mask."""
    import torch

    out = model(input_ids=batch.input_ids, attention_mask=batch.attention_mask,
                position_ids=batch.position_ids, logits_to_keep=batch.keep, use_cache=False)
    logits = out.logits[:, -batch.keep:, :].float()[batch.pair_row]
    labelled = batch.labels != IGNORE
    logprobs = torch.log_softmax(logits, dim=-1)
    picked = logprobs.gather(-1, batch.labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return picked * labelled, labelled


def nll_loss(model: Any, batch: Batch) -> Any:
    """Mean negative log-likelihood over the answer tokens of the batch."""
    picked, labelled = pair_token_logprobs(model, batch)
    return -picked.sum() / labelled.sum().clamp(min=1)


def choice_scores(model: Any, batch: Batch) -> Any:
    """[examples, max choices] summed log-likelihoods, -inf for absent choices."""
    import torch

    picked, _ = pair_token_logprobs(model, batch)
    n_choices = int(batch.pair_choice.max()) + 1
    scores = torch.full((batch.n_examples, n_choices), float("-inf"), dtype=picked.dtype, device=picked.device)
    return scores.index_put((batch.pair_example, batch.pair_choice), picked.sum(dim=1))


def choice_ce_loss(model: Any, batch: Batch) -> Any:
    """Cross-entropy of the gold choice under softmax over the choices' summed log-likelihoods."""
    import torch

    return torch.nn.functional.cross_entropy(choice_scores(model, batch), batch.gold)


def loss_function(objective: str) -> Any:
    return choice_ce_loss if objective == "choice-ce" else nll_loss
