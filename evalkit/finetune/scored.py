"""The training forward pass: only what the loss needs.

A step's examples become prefix tries (`evalkit.scoring.packing`, as evaluation scores them): the
context shared by an example's answer choices is one run of tokens, each choice branches off it,
and when some example is such a tree, short tries are packed side by side into one row (a forest),
so little is padding and no shared prompt is computed twice. When every example is a chain (nll),
each stays a row of its own (length-bucketed batches keep padding small) and attention is plain
causal attention, without a mask. The model's body (hidden states
after the final norm) runs once over the rows; only the hidden states at scored positions (the
positions that predict an answer token) go through the output head, so the 49,152-wide vocabulary
projection and its log-softmax are computed for a handful of positions per example instead of all.

`PaddedForward` is the fallback for models that do not split into body + head or ignore a 4D
attention mask: left-padded rows, `logits_to_keep` for the last K positions (the loop picks it when
the packed pass does not reproduce `objectives.reference_loss` on the first batch).

Both return one number per (example, choice) pair: the summed log-probability of its answer tokens,
from which `objectives` builds the nll and choice-ce losses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from evalkit.finetune.objectives import EncodedExample, collate
from evalkit.scoring.packing import Row, ScoreItem, build_row, pack_batches

# When some example is a tree (choice-ce: choices branching off a shared prompt, so a mask is needed
# anyway), tries up to this width are packed side by side into rows of at least MIN_WIDTH tokens:
# beyond it the attention over a forest row costs more than the padding it saves.
MERGE_WIDTH = 256
MIN_WIDTH = 128


@dataclass
class PackedBatch:
    """Tensors for one packed forward. Unique scored (position, target) keys are read from the
    flattened rows at `nodes`; reader r adds key `reader_key[r]`'s log-probability to pair `reader_pair[r]`."""

    input_ids: Any
    position_ids: Any
    attention_mask: Any | None  # additive [R, 1, W, W]; None when every row is a chain (causal mask)
    nodes: Any
    targets: Any
    reader_key: Any
    reader_pair: Any
    n_pairs: int

    def tensors(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in ("input_ids", "position_ids", "attention_mask", "nodes",
                                                        "targets", "reader_key", "reader_pair")}


def example_rows(examples: Sequence[EncodedExample]) -> list[Row]:
    """One trie per example; ScoreItem.index numbers the pairs of the whole batch in order."""
    rows, pair = [], 0
    for example in examples:
        items = []
        for row, continuation in example.pairs:
            items.append(ScoreItem(pair, tuple(example.rows[row]), tuple(continuation)))
            pair += 1
        rows.append(build_row(items))
    return rows


def pack(examples: Sequence[EncodedExample], pad_id: int, mask_dtype: Any) -> PackedBatch:
    """The examples' tries packed into equal-width rows (one forward for the whole batch)."""
    import torch

    tries = example_rows(examples)
    # Chains alone (nll: one prompt + answer per example) stay one per row: causal attention then
    # needs no mask, which measured ~10% faster per step than forest rows with less padding.
    merge = (0, 0) if all(t.is_chain for t in tries) else (MERGE_WIDTH, MIN_WIDTH)
    rows = next(pack_batches(tries, lambda width: len(tries), merge_width=merge[0], min_width=merge[1]))
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    positions = torch.zeros((len(rows), width), dtype=torch.long)
    for b, row in enumerate(rows):
        ids[b, :len(row)] = torch.tensor(row.tokens, dtype=torch.long)
        positions[b, :len(row)] = torch.tensor(row.depth, dtype=torch.long)
    chains = all(r.is_chain for r in rows)
    keys: dict[tuple[int, int, int], int] = {}
    reader_key, reader_pair = [], []
    for b, row in enumerate(rows):
        for (node, target), readers in row.reads.items():
            key = keys.setdefault((b, node, target), len(keys))
            for pair, _offset in readers:
                reader_key.append(key)
                reader_pair.append(pair)
    nodes = torch.tensor([b * width + node for b, node, _ in keys], dtype=torch.long)
    targets = torch.tensor([target for _, _, target in keys], dtype=torch.long)
    return PackedBatch(ids, positions, None if chains else trie_mask(rows, width, mask_dtype), nodes, targets,
                       torch.tensor(reader_key, dtype=torch.long), torch.tensor(reader_pair, dtype=torch.long),
                       sum(len(e.pairs) for e in examples))


def trie_mask(rows: Sequence[Row], width: int, dtype: Any) -> Any:
    """Additive [R, 1, W, W] mask: node i sees node j iff j is i's ancestor or i itself
    (padding sees only itself, so no row of the softmax is empty)."""
    import torch

    allowed = torch.eye(width, dtype=torch.bool).repeat(len(rows), 1, 1)
    for b, row in enumerate(rows):
        n = len(row)
        i = torch.arange(n)
        end = torch.tensor(row.end, dtype=torch.long)
        allowed[b, :n, :n] = (i[None, :] <= i[:, None]) & (i[:, None] < end[None, :])
    mask = torch.zeros((len(rows), 1, width, width), dtype=dtype)
    return mask.masked_fill_(~allowed[:, None], torch.finfo(dtype).min)


def _module_base() -> Any:
    import torch

    return torch.nn.Module


class PackedForward(_module_base()):  # type: ignore[misc]
    """body over packed rows, head at the scored positions only -> summed log-prob per pair.
    A Module, so accelerate/DDP wraps this forward and synchronises the model's gradients."""

    def __init__(self, model: Any) -> None:
        from evalkit.scoring.forward import model_parts

        super().__init__()
        parts = model_parts(model)
        if parts.body is None or parts.head is None:
            raise ValueError("the model does not split into a body and an output head")
        self.model = model
        self._body, self._head = parts.body, parts.head

    def forward(self, input_ids: Any, position_ids: Any, attention_mask: Any, nodes: Any, targets: Any,
                reader_key: Any, reader_pair: Any, n_pairs: int) -> Any:
        import torch

        out = self._body(input_ids=input_ids, position_ids=position_ids, attention_mask=attention_mask,
                         use_cache=False)
        hidden = out.last_hidden_state if hasattr(out, "last_hidden_state") else out[0]
        picked = hidden.reshape(-1, hidden.shape[-1]).index_select(0, nodes)
        logprobs = torch.log_softmax(self._head(picked).float(), dim=-1)
        per_key = logprobs.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
        return per_key.new_zeros(n_pairs).index_add(0, reader_pair, per_key.index_select(0, reader_key))


class PaddedForward(_module_base()):  # type: ignore[misc]
    """The fallback: left-padded rows, logits for the last K positions of every row."""

    def __init__(self, model: Any) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: Any, attention_mask: Any, position_ids: Any, labels: Any, pair_row: Any) -> Any:
        import torch

        from evalkit.finetune.objectives import IGNORE

        keep = labels.shape[1]
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
                         logits_to_keep=keep, use_cache=False)
        logprobs = torch.log_softmax(out.logits[:, -keep:, :].float()[pair_row], dim=-1)
        labelled = labels != IGNORE
        picked = logprobs.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
        return (picked * labelled).sum(dim=1)


def forward_inputs(kind: str, examples: Sequence[EncodedExample], pad_id: int, mask_dtype: Any,
                   device: Any) -> dict[str, Any]:
    """The keyword arguments of the chosen forward (`packed` or `padded`) for these examples."""
    if kind == "packed":
        batch = pack(examples, pad_id, mask_dtype)
        inputs = {k: (v.to(device) if v is not None else None) for k, v in batch.tensors().items()}
        return {**inputs, "n_pairs": batch.n_pairs}
    padded = collate(examples, pad_id)
    return {name: getattr(padded, name).to(device)
            for name in ("input_ids", "attention_mask", "position_ids", "labels", "pair_row")}


def make_forward(kind: str, model: Any) -> Any:
    return PackedForward(model) if kind == "packed" else PaddedForward(model)
