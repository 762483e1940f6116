"""generate_until: batched greedy decoding with a KV cache, stop sequences and a token limit.

Greedy requests on causal models run a hand-written loop: left-padded prefill, then one token
per step for the rows still running; a row leaves the batch (and the cache) as soon as it
emits an end-of-sequence token or its text contains a stop sequence. Sampling,
encoder-decoder models, and every request when `use_generate` is set go through
`model.generate`, configured as lm-eval's HFLM does (bench/generation_vs_hflm.py compares
the two paths with HFLM on gsm8k).
Either way the text is cut at the first stop sequence, as HFLM does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from evalkit.scoring.stats import ScoringStats

# Generation kwargs the greedy loop honours (the others need model.generate).
GREEDY_KEYS = frozenset({"do_sample", "temperature", "top_p", "top_k"})


@dataclass(frozen=True)
class GenerationSettings:
    until: list[str]
    max_gen_toks: int
    extra: dict[str, Any]  # remaining (normalised) generation kwargs

    @property
    def greedy(self) -> bool:
        return not self.extra.get("do_sample") and set(self.extra) <= GREEDY_KEYS


class Generator:
    """Turns contexts into continuations for one model (causal or encoder-decoder)."""

    def __init__(self, model: Any, tokenizer: Any, *, encoder_decoder: bool, max_length: int,
                 rows_for_length: Callable[[int], int], stats: ScoringStats, use_generate: bool = False) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.encoder_decoder = encoder_decoder
        self.max_length = max_length
        self.rows_for_length = rows_for_length
        self.stats = stats
        self.use_generate = use_generate
        self.device = next(model.parameters()).device
        self.eos_ids = _eos_ids(model, tokenizer)
        self._keep_arg = True  # whether the model accepts logits_to_keep
        self._cache_arg = _cache_argument(model)

    def run(self, contexts: Sequence[str], settings: GenerationSettings,
            on_batch: Callable[[int], None] | None = None) -> list[str]:
        max_ctx = self.max_length if self.encoder_decoder else self.max_length - settings.max_gen_toks
        if max_ctx <= 0:
            raise ValueError(f"max_gen_toks ({settings.max_gen_toks}) must be below the model's "
                             f"maximum length ({self.max_length}).")
        encoded = [self._encode(text, max_ctx) for text in contexts]
        order = sorted(range(len(contexts)), key=lambda i: -len(encoded[i]))
        results = [""] * len(contexts)
        start = 0
        while start < len(order):
            size = self.rows_for_length(len(encoded[order[start]]) + settings.max_gen_toks)
            chunk = order[start : start + max(1, size)]
            start += len(chunk)
            batch = [encoded[i] for i in chunk]
            if settings.greedy and not self.encoder_decoder and not self.use_generate:
                tokens = self._greedy(batch, settings)
            else:
                tokens = self._hf_generate(batch, settings)
            for i, toks in zip(chunk, tokens):
                results[i] = _cut(self.tokenizer.decode(toks, skip_special_tokens=True), settings.until)
            if on_batch:
                on_batch(len(chunk))
        return results

    def _encode(self, text: str, max_ctx: int) -> list[int]:
        """As HFLM.tok_batch_encode: no special tokens when the text already starts with BOS."""
        from evalkit.scoring.truncation import generation_context_tokens

        return generation_context_tokens(self.tokenizer, text, encoder_decoder=self.encoder_decoder)[-max_ctx:]

    def _left_pad(self, batch: Sequence[list[int]]) -> tuple[Any, Any]:
        import torch

        width = max(len(toks) for toks in batch)
        ids = torch.full((len(batch), width), int(self.tokenizer.pad_token_id), dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for b, toks in enumerate(batch):
            if toks:
                ids[b, width - len(toks):] = torch.tensor(toks, dtype=torch.long)
                mask[b, width - len(toks):] = 1
        return ids.to(self.device), mask.to(self.device)

    def _greedy(self, batch: Sequence[list[int]], settings: GenerationSettings) -> list[list[int]]:
        import torch

        ids, mask = self._left_pad(batch)
        position = (mask.cumsum(-1) - 1).clamp(min=0)
        alive = list(range(len(batch)))
        generated: list[list[int]] = [[] for _ in batch]
        with torch.inference_mode():
            logits, cache = self._step(ids, mask, position, None)
            self.stats.forward_tokens += ids.numel()
            last = position[:, -1]
            for step in range(settings.max_gen_toks):
                tokens = logits.argmax(-1).tolist()
                still = [k for k, tok in enumerate(tokens) if not self._finish(generated[alive[k]], tok, settings)]
                self.stats.generated_tokens += len(tokens)
                if not still or step == settings.max_gen_toks - 1:
                    break
                if len(still) < len(alive):
                    keep = torch.tensor(still, dtype=torch.long, device=self.device)
                    cache.batch_select_indices(keep)
                    mask, last = mask[keep], last[keep]
                    tokens = [tokens[k] for k in still]
                    alive = [alive[k] for k in still]
                mask = torch.cat([mask, mask.new_ones((len(alive), 1))], dim=1)
                last = last + 1
                step_ids = torch.tensor(tokens, dtype=torch.long, device=self.device)[:, None]
                logits, cache = self._step(step_ids, mask, last[:, None], cache)
                self.stats.forward_tokens += len(alive)
        return generated

    def _finish(self, generated: list[int], token: int, settings: GenerationSettings) -> bool:
        """Record `token` for a row; True when the row is done."""
        if token in self.eos_ids:
            return True
        generated.append(token)
        text = self.tokenizer.decode(generated, skip_special_tokens=True)
        return any(stop and stop in text for stop in settings.until)

    def _step(self, ids: Any, mask: Any, position: Any, cache: Any) -> tuple[Any, Any]:
        kwargs = {"input_ids": ids, "attention_mask": mask, "position_ids": position,
                  self._cache_arg: cache, "use_cache": True}
        if self._keep_arg:
            try:
                out = self.model(**kwargs, logits_to_keep=1)
            except TypeError:
                self._keep_arg = False
                out = self.model(**kwargs)
        else:
            out = self.model(**kwargs)
        cache = out["cache"] if "cache" in out else out["past_key_values"]
        return out.logits[:, -1, :], cache

    def _hf_generate(self, batch: Sequence[list[int]], settings: GenerationSettings) -> list[list[int]]:
        """model.generate with lm-eval's stopping criteria, as HFLM._model_generate."""
        import torch
        from lm_eval.models.utils_hf import stop_sequences_criteria

        ids, mask = self._left_pad(batch)
        kwargs = dict(settings.extra)
        if not kwargs.get("do_sample"):
            kwargs.pop("temperature", None)
            kwargs["do_sample"] = False
        criteria = stop_sequences_criteria(self.tokenizer, settings.until, ids.shape[1], ids.shape[0])
        with torch.inference_mode():
            out = self.model.generate(input_ids=ids, attention_mask=mask, stopping_criteria=criteria,
                                      max_length=ids.shape[1] + settings.max_gen_toks,
                                      pad_token_id=self.tokenizer.pad_token_id, use_cache=True, **kwargs)
        new = out if self.encoder_decoder else out[:, ids.shape[1]:]
        self.stats.forward_tokens += ids.numel()
        self.stats.generated_tokens += new.numel()
        return new.tolist()


def _cut(text: str, until: Sequence[str]) -> str:
    from lm_eval.models.utils import postprocess_generated_text

    return postprocess_generated_text(generation=text, stop=list(until), think_end_token=None)


def _eos_ids(model: Any, tokenizer: Any) -> set[int]:
    """End-of-sequence ids as model.generate uses them (generation config), else the tokenizer's."""
    config = getattr(model, "generation_config", None)
    eos = getattr(config, "eos_token_id", None) if config is not None else None
    if eos is None:
        eos = tokenizer.eos_token_id
    if eos is None:
        return set()
    return {int(e) for e in eos} if isinstance(eos, (list, tuple)) else {int(eos)}


def _cache_argument(model: Any) -> str:
    """The forward() name of the KV cache: `cache` from transformers 5.x, `past_key_values` before."""
    import inspect

    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"
