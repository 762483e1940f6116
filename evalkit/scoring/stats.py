"""Counters of the work a scoring backend did, for benchmarks and progress reports."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class ScoringStats:
    """What the model computed. `forward_tokens` counts padded positions (what the hardware
    ran); `input_tokens` counts real ones; `scored_positions` is where the vocabulary
    projection was applied. `prefix_tokens` are the tokens computed once into shared prefix
    caches (included in forward and input tokens); `prefix_reused_tokens` the prefix tokens rows
    read from such a cache instead of computing them again."""

    requests: int = 0
    batches: int = 0
    forward_tokens: int = 0
    input_tokens: int = 0
    scored_positions: int = 0
    generated_tokens: int = 0
    prefix_tokens: int = 0
    prefix_reused_tokens: int = 0

    def reset(self) -> None:
        for name in asdict(self):
            setattr(self, name, 0)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)
