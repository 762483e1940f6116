"""Turn scoring items into prefix-shared rows and rows into batches. Pure Python, no torch.

A scoring item is one causal-LM input sequence plus the tokens scored at its last positions
(what lm-eval's HFLM runs as one padded row). Items whose inputs share a prefix (the answer
choices of one question share the question) are merged into one row as a token *trie*: each
shared token appears once, every token sits at its depth in the sequence (its position id)
and attends only to its ancestors. Because a causal model's state at a token depends only on
the tokens before it, each item's scored logits are exactly those of its own sequence.

A row may also hold only the tokens after a prefix of `start` tokens that is already computed
(a key/value cache shared by many rows, see prefix_cache.py): its nodes keep their depths
(positions >= start) and each sees the whole prefix plus its own ancestors.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ScoreItem:
    """One request to score: `seq` is the model input; `targets` are predicted at its last
    len(targets) positions (position i predicts the token after it)."""

    index: int
    seq: tuple[int, ...]
    targets: tuple[int, ...]

    @property
    def shared_key(self) -> tuple[int, ...]:
        """The prefix that ends at the first scored position: what sibling items share."""
        return self.seq[: len(self.seq) - len(self.targets) + 1]


@dataclass
class Row:
    """One model input row: trie nodes in pre-order, with what to read out of it.

    `tokens[i]` sits at position `depth[i]`; node j is visible from node i iff
    j <= i < end[j] (j is i's ancestor or i itself; pre-order makes subtrees contiguous).
    `reads[(node, target)]` lists the (item index, offset in targets) that need that logprob.
    """

    tokens: list[int] = field(default_factory=list)
    depth: list[int] = field(default_factory=list)
    end: list[int] = field(default_factory=list)
    reads: dict[tuple[int, int], list[tuple[int, int]]] = field(default_factory=dict)
    n_items: int = 0

    def __len__(self) -> int:
        return len(self.tokens)

    @property
    def is_chain(self) -> bool:
        """True when the trie never branches: a plain causal mask gives the same result."""
        return all(e == len(self.tokens) for e in self.end)

    @property
    def scored_nodes(self) -> list[int]:
        return sorted({node for node, _ in self.reads})


def trie_size(items: Sequence[ScoreItem]) -> int:
    """Number of trie nodes for `items` given in sorted order (sum of non-shared suffixes)."""
    total, prev = 0, ()
    for item in items:
        total += len(item.seq) - _common_prefix(prev, item.seq)
        prev = item.seq
    return total


def build_row(items: Sequence[ScoreItem], start: int = 0) -> Row:
    """Build the trie row for `items` (any order; they are sorted here). With `start`, the
    items' first `start` tokens (the same for all, held in a prefix cache) get no nodes."""
    row = Row()
    path: list[int] = [-1] * start  # node indices of the previous item's sequence (-1: cached)
    prev: tuple[int, ...] = ()
    for item in sorted(items, key=lambda it: it.seq):
        shared = max(start, _common_prefix(prev, item.seq))
        path = path[:shared]
        for pos in range(shared, len(item.seq)):
            path.append(len(row.tokens))
            row.tokens.append(item.seq[pos])
            row.depth.append(pos)
        first = len(item.seq) - len(item.targets)
        if first < start:
            raise ValueError(f"item {item.index} is scored at position {first}, inside the cached prefix of {start}")
        for offset, target in enumerate(item.targets):
            row.reads.setdefault((path[first + offset], target), []).append((item.index, offset))
        prev = item.seq
        row.n_items += 1
    row.end = _subtree_ends(row.depth)
    return row


def _subtree_ends(depth: list[int]) -> list[int]:
    """For pre-order nodes with given depths: one past the last node of each node's subtree."""
    n = len(depth)
    end = [n] * n
    stack: list[int] = []
    for i, d in enumerate(depth):
        while stack and depth[stack[-1]] >= d:
            end[stack.pop()] = i
        stack.append(i)
    return end


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def make_rows(items: Sequence[ScoreItem], row_target: int, start: int = 0) -> list[Row]:
    """Group items that share their context into rows, longest rows first.

    A group whose trie exceeds max(row_target, its longest item) is split into consecutive
    chunks (each chunk repeats the shared prefix). Rows are sorted by length, descending, so
    that a batch holds rows of similar length (little padding) and the largest come first.
    With `start`, rows hold only what follows the items' common cached prefix of that length.
    """
    groups: dict[tuple[int, ...], list[ScoreItem]] = {}
    for item in items:
        groups.setdefault(item.shared_key, []).append(item)
    rows = []
    for members in groups.values():
        members.sort(key=lambda it: it.seq)
        cap = max(row_target, max(len(it.seq) for it in members) - start)
        for chunk in _split_by_trie_size(members, cap, start):
            rows.append(build_row(chunk, start))
    rows.sort(key=len, reverse=True)
    return rows


def _split_by_trie_size(items: list[ScoreItem], cap: int, start: int = 0) -> Iterator[list[ScoreItem]]:
    chunk: list[ScoreItem] = []
    size = 0
    for item in items:
        added = len(item.seq) - max(start, _common_prefix(chunk[-1].seq, item.seq) if chunk else 0)
        if chunk and size + added > cap:
            yield chunk
            chunk, size, added = [], 0, len(item.seq) - start
        chunk.append(item)
        size += added
    if chunk:
        yield chunk


def batch_rows(rows: Sequence[Row], rows_for_length: Callable[[int], int]) -> Iterator[list[Row]]:
    """Consecutive batches of (length-sorted) rows; `rows_for_length(L)` caps a batch whose
    longest row has L tokens."""
    start = 0
    while start < len(rows):
        limit = max(1, rows_for_length(len(rows[start])))
        yield list(rows[start : start + limit])
        start += limit


def merge_rows(rows: Sequence[Row]) -> Row:
    """Several tries side by side in one row (a forest): no token sees another trie's tokens."""
    merged = Row()
    for row in rows:
        offset = len(merged.tokens)
        merged.tokens.extend(row.tokens)
        merged.depth.extend(row.depth)
        merged.end.extend(e + offset for e in row.end)
        for (node, target), readers in row.reads.items():
            merged.reads.setdefault((node + offset, target), []).extend(readers)
        merged.n_items += row.n_items
    return merged


def pack_batches(rows: Sequence[Row], rows_for_length: Callable[[int], int],
                 merge_width: int = 512, min_width: int = 192) -> Iterator[list[Row]]:
    """Batches of equal-width rows with little padding.

    The longest pending trie sets the width W, or `min_width` when it is short enough that
    several fit side by side. Each of the batch's rows starts with the longest
    pending trie and, when W <= merge_width, is topped up with the longest ones that still fit.
    The batch costs the same either way (its shape is fixed), so topping up is work saved,
    except that a forest row needs a full mask where chains alone could use causal attention:
    worth it only while attention is cheap next to the rest of the model.
    """
    pending = sorted(rows, key=len)
    lengths = [len(row) for row in pending]
    while pending:
        merging = lengths[-1] <= merge_width
        # widen short rows only when two of the longest would fit: otherwise widening pads
        width = min_width if merging and 2 * lengths[-1] <= min_width * 1.2 else lengths[-1]
        batch = []
        for _ in range(max(1, rows_for_length(width))):
            if not pending:
                break
            group = [pending.pop()]
            space = width - lengths.pop() if merging else 0
            while space > 0 and pending:
                k = bisect_right(lengths, space) - 1
                if k < 0:
                    break
                group.append(pending.pop(k))
                space -= lengths.pop(k)
            batch.append(group[0] if len(group) == 1 else merge_rows(group))
        yield batch
