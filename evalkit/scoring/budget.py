"""How much to put in one forward pass: a token budget for speed, a memory cap for safety.

`auto` never probes by trial and error (which can hang or OOM half-way through a run): it
derives the cap from the memory the device reports free and the model's shape, and on CPU
keeps batches at the size where matrix products are already saturated (bigger batches only
cost cache misses). An integer batch size is a number of rows per forward pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Tokens per forward pass that saturate the matrix units. On CPU, larger batches are slower
# per token (they spill out of cache); on accelerators memory is the limit, not this.
CPU_TOKEN_BUDGET = 1024
ACCELERATOR_TOKEN_BUDGET = 65536
# Share of the free memory a forward pass may use (weights are already loaded).
MEMORY_FRACTION = 0.35
MAX_ROWS = 512


@dataclass(frozen=True)
class BatchPlan:
    """Rows per forward pass as a function of the longest row's length."""

    token_budget: int
    memory_budget: int
    bytes_per_token: int
    bytes_per_pair: int
    max_rows: int = MAX_ROWS
    bytes_per_cached_token: int = 0  # keys and values of one token, all layers

    def __call__(self, length: int) -> int:
        length = max(1, length)
        by_tokens = self.token_budget // length
        by_memory = self.memory_budget // (length * self.bytes_per_token + length * length * self.bytes_per_pair)
        return max(1, min(by_tokens, by_memory, self.max_rows))

    def prefix_row_bytes(self, width: int, prefix: int) -> int:
        """Peak bytes of one row of `width` tokens attending to a cached prefix of `prefix`
        tokens: its activations, its attention scores over prefix + row, and its own copy of
        the prefix's keys and values (grown by the row)."""
        keys = prefix + width
        return (width * self.bytes_per_token + width * keys * self.bytes_per_pair
                + (prefix + keys) * self.bytes_per_cached_token)

    def rows_with_prefix(self, width: int, prefix: int) -> int:
        """Rows per forward pass for rows of `width` tokens after a cached prefix of `prefix`."""
        width = max(1, width)
        by_memory = self.memory_budget // max(1, self.prefix_row_bytes(width, prefix))
        return max(1, min(self.token_budget // width, by_memory, self.max_rows))

    def fits_prefix(self, width: int, prefix: int) -> bool:
        """Whether one row of `width` tokens after a cached `prefix` fits the memory budget."""
        return self.prefix_row_bytes(width, prefix) <= self.memory_budget

    def prefill_tokens(self, prefix: int) -> int:
        """Tokens per forward pass when computing a prefix of `prefix` tokens into a cache
        (chunks of at most the token budget, each attending to the chunks before it)."""
        per_token = self.bytes_per_token + prefix * self.bytes_per_pair
        by_memory = (self.memory_budget - prefix * self.bytes_per_cached_token) // max(1, per_token)
        return max(1, min(self.token_budget, by_memory, prefix))

    def generation_rows(self, length: int, cap: int = 64) -> int:
        """Rows decoded together: bounded by memory and `cap`, not by the token budget (each
        decoding step is one token per row, and more rows share each read of the weights)."""
        length = max(1, length)
        by_memory = self.memory_budget // (length * self.bytes_per_token + length * length * self.bytes_per_pair)
        return max(1, min(by_memory, self.max_rows, cap))

    def halved(self) -> "BatchPlan":
        """The plan after an out-of-memory error: half of everything."""
        return BatchPlan(max(1, self.token_budget // 2), max(1, self.memory_budget // 2),
                         self.bytes_per_token, self.bytes_per_pair, max(1, self.max_rows // 2),
                         self.bytes_per_cached_token)


def parse_batch_size(batch_size: int | str | None) -> int | None:
    """None for automatic sizing ('auto', 'auto:N', None), else a positive integer."""
    if batch_size is None or (isinstance(batch_size, str) and batch_size.startswith("auto")):
        return None
    value = int(batch_size)
    if value < 1:
        raise ValueError(f"batch_size must be a positive integer or 'auto', got {batch_size!r}")
    return value


def plan_batches(model: Any, batch_size: int | str | None) -> BatchPlan:
    """The batch plan for `model` on its device: fixed rows, or token budget plus memory cap."""
    param = next(model.parameters())
    per_token, per_pair = _activation_bytes(model.config, param.element_size())
    cached = _cache_bytes(model.config, param.element_size())
    free = _free_memory(param.device)
    fixed = parse_batch_size(batch_size)
    if fixed is not None:
        return BatchPlan(token_budget=2**62, memory_budget=2**62, bytes_per_token=per_token,
                         bytes_per_pair=per_pair, max_rows=fixed, bytes_per_cached_token=cached)
    token_budget = CPU_TOKEN_BUDGET if param.device.type == "cpu" else ACCELERATOR_TOKEN_BUDGET
    return BatchPlan(token_budget=token_budget, memory_budget=int(free * MEMORY_FRACTION),
                     bytes_per_token=per_token, bytes_per_pair=per_pair, bytes_per_cached_token=cached)


def _activation_bytes(config: Any, element_size: int) -> tuple[int, int]:
    """Peak transient bytes per token, and per (query, key) pair, of one decoder layer."""
    cfg = getattr(config, "text_config", None) or config
    hidden = int(getattr(cfg, "hidden_size", None) or getattr(cfg, "d_model", None) or 4096)
    inner = int(getattr(cfg, "intermediate_size", None) or getattr(cfg, "d_ff", None) or 4 * hidden)
    heads = int(getattr(cfg, "num_attention_heads", None) or getattr(cfg, "num_heads", None) or 32)
    # residual, normed copy, q/k/v/out, three MLP activations; float32 attention scores + mask
    per_token = element_size * (8 * hidden + 3 * inner)
    per_pair = 4 * heads + element_size
    return per_token, per_pair


def _cache_bytes(config: Any, element_size: int) -> int:
    """Bytes of keys and values one token leaves in a key/value cache, over all layers."""
    cfg = getattr(config, "text_config", None) or config
    hidden = int(getattr(cfg, "hidden_size", None) or getattr(cfg, "d_model", None) or 4096)
    heads = int(getattr(cfg, "num_attention_heads", None) or getattr(cfg, "num_heads", None) or 32)
    kv_heads = int(getattr(cfg, "num_key_value_heads", None) or heads)
    head_dim = int(getattr(cfg, "head_dim", None) or hidden // heads)
    layers = int(getattr(cfg, "num_hidden_layers", None) or getattr(cfg, "num_layers", None) or 32)
    return 2 * layers * kv_heads * head_dim * element_size


def _free_memory(device: Any) -> int:
    import torch

    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        return int(free)
    if device.type == "mps" and hasattr(torch.mps, "recommended_max_memory"):
        return int(torch.mps.recommended_max_memory() - torch.mps.current_allocated_memory())
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:  # pragma: no cover - psutil ships with accelerate
        return 4 * 2**30
