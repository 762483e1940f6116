"""Prefixes shared across documents: found once, computed once into a key/value cache.

Many evaluations repeat a long prefix in every document's context: few-shot examples from a
fixed set (lm-eval's `fewshot_config: {sampler: first_n}`), a `description` preamble, one
subject header per group of documents. `plan_prefix_groups` sorts the items by sequence and
walks the tree of their longest common prefixes (the LCP intervals of the sorted list); it keeps
the set of disjoint groups that saves the most tokens, (contexts - 1) x prefix length each, where
a group's prefix is worth caching only when it is long enough and saves enough. The group's
prefix is then run once (`RowScorer.prefill`) and every row of the group holds only what follows
it (packing.build_row with `start`), reading the prefix's keys and values from the cache.

`PrefixKV` holds the computed cache; `expanded(rows)` gives a fresh transformers DynamicCache
with the prefix repeated for each row of a batch. `EVALKIT_PREFIX_CACHE=off` turns it all off.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from evalkit.scoring.packing import ScoreItem

SWITCH_ENV = "EVALKIT_PREFIX_CACHE"
_ON, _OFF = ("1", "on", "true", "yes"), ("0", "off", "false", "no")


def prefix_cache_enabled() -> bool:
    """True unless EVALKIT_PREFIX_CACHE says off (0/off/false/no); any other value is an error."""
    from evalkit.errors import InputError

    text = os.environ.get(SWITCH_ENV, "").strip().lower()
    if text in ("", *_ON):
        return True
    if text in _OFF:
        return False
    raise InputError(f"${SWITCH_ENV}={os.environ[SWITCH_ENV]!r} is neither on nor off.",
                     hint=f"Set it to one of {', '.join(_ON + _OFF)}, or unset it (on).")


@dataclass(frozen=True)
class PrefixPolicy:
    """When a shared prefix is worth a cache: at least `min_length` tokens, and sharing it saves
    at least `min_saved` tokens (a group costs a prefill and its own, partly filled, batches)."""

    min_length: int = 32
    min_saved: int = 256

    @classmethod
    def for_device(cls, device_type: str) -> "PrefixPolicy":
        """On a CPU a forward pass costs what its tokens cost, so a group's extra passes are cheap;
        on an accelerator a small pass costs about as much as thousands of tokens (launch-bound)."""
        return cls() if device_type == "cpu" else cls(min_saved=4096)


@dataclass
class PrefixGroup:
    """Items whose sequences all begin with the same `length` tokens, none scored inside them."""

    length: int
    items: list[ScoreItem]

    @property
    def prefix(self) -> tuple[int, ...]:
        return self.items[0].seq[: self.length]


def plan_prefix_groups(items: Sequence[ScoreItem], policy: PrefixPolicy) -> tuple[list[PrefixGroup], list[ScoreItem]]:
    """Disjoint groups of items worth a shared prefix cache, and the items left to plain rows."""
    ordered = sorted(items, key=lambda it: it.seq)
    shared = [0] + [_usable_prefix(a, b) for a, b in zip(ordered, ordered[1:])]
    new_context = [0] + [int(a.shared_key != b.shared_key) for a, b in zip(ordered, ordered[1:])]
    contexts_before = _running_sum(new_context)
    chosen = _best_intervals(shared, contexts_before, policy)
    groups = [PrefixGroup(length, ordered[lb : rb + 1]) for lb, rb, length in chosen]
    taken = {id(item) for group in groups for item in group.items}
    return groups, [item for item in ordered if id(item) not in taken]


def _usable_prefix(a: ScoreItem, b: ScoreItem) -> int:
    """Common prefix of two neighbours, short of each one's first scored position (a binary
    search over slice comparisons: prefixes run to thousands of tokens)."""
    limit = min(len(a.seq) - len(a.targets), len(b.seq) - len(b.targets))
    if a.seq[:limit] == b.seq[:limit]:
        return limit
    low, high = 0, limit  # a.seq[:low] == b.seq[:low], a.seq[:high] != b.seq[:high]
    while high - low > 1:
        mid = (low + high) // 2
        if a.seq[:mid] == b.seq[:mid]:
            low = mid
        else:
            high = mid
    return low


def _running_sum(values: list[int]) -> list[int]:
    total, out = 0, []
    for value in values:
        total += value
        out.append(total)
    return out


@dataclass
class _Interval:
    """An LCP interval of the sorted items: items lb..rb share `length` tokens."""

    length: int
    lb: int
    children_value: int = 0
    children_choice: list[tuple[int, int, int]] = field(default_factory=list)

    def adopt(self, value: int, choice: list[tuple[int, int, int]]) -> None:
        """Take a closed child interval's best saving and its groups."""
        self.children_value += value
        self.children_choice.extend(choice)


def _best_intervals(shared: list[int], contexts_before: list[int],
                    policy: PrefixPolicy) -> list[tuple[int, int, int]]:
    """(lb, rb, prefix length) of the disjoint intervals that save the most tokens.

    A bottom-up walk of the LCP-interval tree (one stack over the sorted items): each interval
    either is one group (saving (contexts - 1) x length) or leaves the choice to its children."""

    def close(node: _Interval, rb: int) -> tuple[int, list[tuple[int, int, int]]]:
        contexts = 1 + contexts_before[rb] - contexts_before[node.lb]
        own = node.length * (contexts - 1)
        if node.length >= policy.min_length and own >= policy.min_saved and own > node.children_value:
            return own, [(node.lb, rb, node.length)]
        return node.children_value, node.children_choice

    stack = [_Interval(0, 0)]
    n = len(shared)
    for i in range(1, n + 1):
        height = shared[i] if i < n else 0
        lb, last = i - 1, None
        while height < stack[-1].length:
            node = stack.pop()
            last = close(node, i - 1)
            lb = node.lb
            if height <= stack[-1].length:
                stack[-1].adopt(*last)
                last = None
        if height > stack[-1].length:
            node = _Interval(height, lb)
            if last is not None:
                node.adopt(*last)
            stack.append(node)
    return close(stack[0], n - 1)[1] if n else []


class PrefixKV:
    """A computed prefix: its length and each layer's (keys, values), batch size one."""

    def __init__(self, length: int, layers: list[tuple[Any, Any]]) -> None:
        self.length = length
        self.layers = layers

    @classmethod
    def from_cache(cls, length: int, cache: Any) -> "PrefixKV":
        """Read the per-layer tensors out of a transformers DynamicCache (4.x or 5.x layout)."""
        if hasattr(cache, "layers"):
            layers = [(layer.keys, layer.values) for layer in cache.layers]
        else:  # transformers 4.x
            layers = list(zip(cache.key_cache, cache.value_cache))
        return cls(length, layers)

    def expanded(self, rows: int) -> Any:
        """A fresh DynamicCache holding the prefix once per row (the forward pass grows it)."""
        from transformers import DynamicCache

        cache = DynamicCache()
        for index, (keys, values) in enumerate(self.layers):
            cache.update(keys.expand(rows, *keys.shape[1:]), values.expand(rows, *values.shape[1:]), index)
        return cache
