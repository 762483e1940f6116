"""Run packed rows through a causal LM and read log-probabilities at the scored positions only.

Two independent choices, settled once per model by a probe (`choose_mode`) that compares
against a plain forward pass of the same model:
- sharing: rows with branching tries need a 4D attention mask and explicit position ids;
  models that ignore either cannot share, and then every item gets its own row;
- head: the vocabulary projection is applied only at scored positions when the model splits
  cleanly into a body (hidden states) and an output head; otherwise full logits are computed;
- prefix cache: rows may hold only what follows a prefix computed once into a key/value cache
  (`prefill`, then `score` inside `using_prefix`), when the cached path gives the same numbers.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from evalkit.scoring.packing import Row, ScoreItem, build_row
from evalkit.scoring.prefix_cache import PrefixKV

log = logging.getLogger(__name__)

# Unique scored positions projected onto the vocabulary at once (bounds the logits memory).
_HEAD_CHUNK_BYTES = 256 * 2**20


@dataclass(frozen=True)
class Mode:
    share: bool  # rows may branch (4D mask + position ids)
    head_only: bool  # body + head at scored positions, instead of full logits
    prefix_cache: bool = False  # rows may follow a prefix held in a key/value cache


@dataclass
class ModelParts:
    """The callables behind a (possibly PEFT-wrapped) causal LM."""

    full: Any  # the model as given: model(input_ids=...).logits
    body: Any | None  # returns hidden states after the final norm
    head: Any | None  # hidden states -> vocabulary logits
    virtual_tokens: bool  # prompt-learning PEFT prepends virtual tokens to the logits
    cache_keyword: str | None = None  # the forward argument that takes a key/value cache


def model_parts(model: Any) -> ModelParts:
    """Find body and head of `model`, looking through a PEFT wrapper when it is LoRA-like."""
    inner = model
    peft_config = getattr(model, "peft_config", None)
    if peft_config is not None and hasattr(model, "get_base_model"):
        active = peft_config.get(getattr(model, "active_adapter", "default"))
        if active is not None and getattr(active, "is_prompt_learning", False):
            return ModelParts(full=model, body=None, head=None, virtual_tokens=True)
        inner = model.get_base_model()
    head = inner.get_output_embeddings() if hasattr(inner, "get_output_embeddings") else None
    body = getattr(inner, "base_model", None)
    keyword = _cache_keyword(inner)
    if head is None or body is None or body is inner:
        return ModelParts(full=model, body=None, head=None, virtual_tokens=False, cache_keyword=keyword)
    return ModelParts(full=model, body=body, head=head, virtual_tokens=False, cache_keyword=keyword)


def _cache_keyword(model: Any) -> str | None:
    """`cache` (transformers 5) or `past_key_values` (4.x): whichever the model's forward names."""
    try:
        parameters = inspect.signature(model.forward).parameters
    except (TypeError, ValueError, AttributeError):
        return None
    return next((name for name in ("cache", "past_key_values") if name in parameters), None)


class RowScorer:
    """Scores batches of rows on one model: {(node, target): (logprob, is_greedy)} per row."""

    def __init__(self, model: Any, pad_token_id: int) -> None:
        import torch

        self.parts = model_parts(model)
        self.pad_token_id = int(pad_token_id)
        param = next(model.parameters())
        self.device = param.device
        self.dtype = param.dtype
        self.mode = Mode(share=False, head_only=False)
        self.vocab_size = _vocab_size(model)
        self._torch = torch
        self._prefix: PrefixKV | None = None  # set by using_prefix: rows follow this prefix
        self._prefilling = False
        self._grown: Any = None  # while prefilling: the cache the last forward pass grew

    # ----- one batch -------------------------------------------------------------------
    def score(self, rows: Sequence[Row], mode: Mode | None = None) -> list[dict[tuple[int, int], tuple[float, bool]]]:
        """Forward one batch of rows; a branching row needs `mode.share`; inside `using_prefix`
        the rows hold only what follows the cached prefix."""
        mode = mode or self.mode
        torch = self._torch
        with torch.inference_mode():
            hidden_or_logits = self._forward(rows, branching=not all(r.is_chain for r in rows),
                                             head_only=mode.head_only)
            return self._read_scores(rows, hidden_or_logits, mode.head_only)

    @contextmanager
    def using_prefix(self, prefix: PrefixKV) -> Iterator[None]:
        """Score rows (`score`) against `prefix`: every node sees all of it, at positions before its own."""
        previous, self._prefix = self._prefix, prefix
        try:
            yield
        finally:
            self._prefix = previous

    def prefill(self, tokens: Sequence[int], chunk: int) -> PrefixKV:
        """Compute `tokens` (positions 0..n-1) into a key/value cache, `chunk` tokens per forward
        pass, each chunk attending to those before it. Runs through `score`, so a subclass's
        forward (autocast) applies to the prefix as to the rows."""
        kv = PrefixKV(0, [])
        for start in range(0, len(tokens), max(1, chunk)):
            piece = list(tokens[start : start + max(1, chunk)])
            row = Row(tokens=piece, depth=list(range(start, start + len(piece))),
                      end=[len(piece)] * len(piece))
            self._prefilling = True
            try:
                with self.using_prefix(kv):
                    self.score([row])
                kv = PrefixKV.from_cache(start + len(piece), self._grown)
            finally:
                self._prefilling, self._grown = False, None
        return kv

    def _forward(self, rows: Sequence[Row], *, branching: bool, head_only: bool) -> Any:
        torch = self._torch
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), self.pad_token_id, dtype=torch.long)
        for b, row in enumerate(rows):
            ids[b, : len(row)] = torch.tensor(row.tokens, dtype=torch.long)
        kwargs: dict[str, Any] = {"input_ids": ids.to(self.device), "use_cache": False}
        prefix = self._prefix
        if branching or prefix is not None:
            kwargs["attention_mask"] = self._trie_mask(rows, width, prefix.length if prefix else 0)
            kwargs["position_ids"] = self._positions(rows, width)
        if prefix is not None:
            cache = prefix.expanded(len(rows))
            kwargs.update({self.parts.cache_keyword or "past_key_values": cache, "use_cache": True})
            if self._prefilling:
                self._grown = cache
        if head_only or (self._prefilling and self.parts.body is not None):
            out = self.parts.body(**kwargs)  # a prefill needs no logits
            return out.last_hidden_state if hasattr(out, "last_hidden_state") else out[0]
        logits = self.parts.full(**kwargs).logits
        return logits[:, -width:] if self.parts.virtual_tokens else logits

    def _positions(self, rows: Sequence[Row], width: int) -> Any:
        torch = self._torch
        pos = torch.zeros((len(rows), width), dtype=torch.long)
        for b, row in enumerate(rows):
            pos[b, : len(row)] = torch.tensor(row.depth, dtype=torch.long)
        return pos.to(self.device)

    def _trie_mask(self, rows: Sequence[Row], width: int, prefix: int = 0) -> Any:
        """Additive [B, 1, L, prefix + L] mask: 0 over the cached prefix and where node j is an
        ancestor-or-self of node i."""
        torch = self._torch
        allowed = torch.eye(width, dtype=torch.bool).repeat(len(rows), 1, 1)
        for b, row in enumerate(rows):
            n = len(row)
            i = torch.arange(n)
            end = torch.tensor(row.end, dtype=torch.long)
            allowed[b, :n, :n] = (i[None, :] <= i[:, None]) & (i[:, None] < end[None, :])
        if prefix:
            allowed = torch.cat([torch.ones((len(rows), width, prefix), dtype=torch.bool), allowed], dim=-1)
        mask = torch.zeros((len(rows), 1, width, prefix + width), dtype=self.dtype)
        mask.masked_fill_(~allowed[:, None], torch.finfo(self.dtype).min)
        return mask.to(self.device)

    def _read_scores(self, rows: Sequence[Row], out: Any, head_only: bool) -> list[dict]:
        torch = self._torch
        width = out.shape[1]
        nodes = [row.scored_nodes for row in rows]
        flat = torch.tensor([b * width + n for b, ns in enumerate(nodes) for n in ns], dtype=torch.long)
        picked = out.reshape(len(rows) * width, out.shape[-1]).index_select(0, flat.to(out.device))
        where: dict[tuple[int, int], int] = {}
        for b, ns in enumerate(nodes):
            for n in ns:
                where[(b, n)] = len(where)
        pairs = [(b, node, target) for b, row in enumerate(rows) for node, target in row.reads]
        unit = torch.tensor([where[(b, node)] for b, node, _ in pairs], dtype=torch.long)
        target = torch.tensor([t for _, _, t in pairs], dtype=torch.long)
        logp, greedy = self._logprobs(picked, unit, target, head_only)
        results: list[dict] = [{} for _ in rows]
        for (b, node, t), lp, g in zip(pairs, logp.tolist(), greedy.tolist()):
            results[b][(node, t)] = (lp, bool(g))
        return results

    def _logprobs(self, picked: Any, unit: Any, target: Any, head_only: bool) -> tuple[Any, Any]:
        """log p(target) and argmax == target for each (unit, target) pair, in chunks."""
        torch = self._torch
        chunk = max(1, _HEAD_CHUNK_BYTES // (max(self.vocab_size, 1) * 12))
        logp_all = torch.empty(len(unit), dtype=torch.float32)
        greedy_all = torch.empty(len(unit), dtype=torch.bool)
        for start in range(0, picked.shape[0], chunk):
            block = picked[start : start + chunk]
            logits = (self.parts.head(block) if head_only else block).float()
            logp = torch.log_softmax(logits, dim=-1)
            argmax = logits.argmax(dim=-1)
            sel = ((unit >= start) & (unit < start + block.shape[0])).nonzero().flatten()
            local = (unit[sel] - start).to(logp.device)
            tgt = target[sel].to(logp.device)
            logp_all[sel] = logp[local, tgt].cpu()
            greedy_all[sel] = (argmax[local] == tgt).cpu()
        return logp_all, greedy_all

    # ----- choosing a mode ---------------------------------------------------------------
    def choose_mode(self) -> Mode:
        """Pick the fastest mode whose results match a plain forward pass on a probe; a sharing
        mode also uses the prefix cache when the cached path matches that pass too."""
        candidates = [Mode(True, True), Mode(True, False), Mode(False, True), Mode(False, False)]
        rows, items = _probe_rows(self.vocab_size)
        reference = self._reference(items)
        tolerance = 5e-4 if self.dtype == self._torch.float32 else 0.25
        for mode in candidates:
            if mode.head_only and self.parts.head is None:
                continue
            probe_rows = rows if mode.share else [build_row([it]) for it in items]
            try:
                got = [self.score([row], mode) for row in probe_rows]
            except Exception as exc:  # noqa: BLE001 - any failure means "not this mode"
                log.debug("scoring mode %s unavailable: %s", mode, exc)
                continue
            if _max_error(got, probe_rows, reference) <= tolerance:
                cached = mode.share and self._prefix_cache_matches(mode, items, reference, tolerance)
                self.mode = Mode(mode.share, mode.head_only, prefix_cache=cached)
                return self.mode
        self.mode = Mode(False, False)
        return self.mode

    def _prefix_cache_matches(self, mode: Mode, items: Sequence[ScoreItem],
                              reference: dict[tuple[int, int], float], tolerance: float) -> bool:
        """Score the probe items as two rows (one branching, one shorter: padded) after their first
        three tokens, prefilled in two chunks, and compare with the plain forward pass."""
        if self.parts.virtual_tokens or self.parts.cache_keyword is None:
            return False
        start = 3
        rows = [build_row(items[:2], start), build_row(items[2:], start)]
        try:
            prefix = self.prefill(items[0].seq[:start], chunk=2)
            with self.using_prefix(prefix):
                got = self.score(rows, mode)
        except Exception as exc:  # noqa: BLE001 - any failure means "no prefix cache"
            log.debug("prefix cache unavailable: %s", exc)
            return False
        return _max_error([[result] for result in got], rows, reference) <= tolerance

    def _reference(self, items: Sequence[ScoreItem]) -> dict[tuple[int, int], float]:
        torch = self._torch
        ref: dict[tuple[int, int], float] = {}
        with torch.inference_mode():
            for item in items:
                ids = torch.tensor([item.seq], dtype=torch.long, device=self.device)
                logits = self.parts.full(input_ids=ids).logits[0, -len(item.seq):].float()
                logp = torch.log_softmax(logits, dim=-1)
                first = len(item.seq) - len(item.targets)
                for offset, t in enumerate(item.targets):
                    ref[(item.index, offset)] = float(logp[first + offset, t])
        return ref


def _max_error(got: list, rows: Sequence[Row], reference: dict[tuple[int, int], float]) -> float:
    worst = 0.0
    for result, row in zip(got, rows):
        for key, readers in row.reads.items():
            for reader in readers:
                worst = max(worst, abs(result[0][key][0] - reference[reader]))
    return worst


def _probe_rows(vocab_size: int) -> tuple[list[Row], list[ScoreItem]]:
    """Two items that branch after four shared tokens; scoring them as one trie row exercises
    the mask and the position ids."""
    t = [(7 + 13 * i) % max(vocab_size, 2) for i in range(16)]
    a = ScoreItem(0, tuple(t[0:8]), (t[8], t[9], t[2]))
    b = ScoreItem(1, tuple(t[0:4] + t[10:13]), (t[1], t[2]))
    c = ScoreItem(2, tuple(t[0:4] + t[13:15]), (t[3],))
    return [build_row([a, b, c])], [a, b, c]


def _vocab_size(model: Any) -> int:
    try:
        return int(model.get_input_embeddings().num_embeddings)
    except (AttributeError, NotImplementedError, TypeError):
        return int(getattr(model.config, "vocab_size", 0) or 0)
