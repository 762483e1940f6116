"""The trie rows: shared tokens stored once, positions and visibility exactly as separate rows."""

from __future__ import annotations

from evalkit.scoring.budget import BatchPlan, parse_batch_size
from evalkit.scoring.packing import ScoreItem, batch_rows, build_row, make_rows, trie_size


def _visible(row, i):
    return [j for j in range(len(row)) if j <= i < row.end[j]]


def test_shared_prefix_is_stored_once_and_each_token_sees_only_its_own_sequence():
    a = ScoreItem(0, (1, 2, 3, 4), (5, 6))
    b = ScoreItem(1, (1, 2, 7), (8,))
    row = build_row([b, a])
    assert row.tokens == [1, 2, 3, 4, 7]
    assert row.depth == [0, 1, 2, 3, 2]
    # node 4 (token 7) sees the shared prefix and itself, not a's branch
    assert [row.tokens[j] for j in _visible(row, 4)] == [1, 2, 7]
    assert [row.tokens[j] for j in _visible(row, 3)] == [1, 2, 3, 4]
    assert not row.is_chain
    # a's targets are read at its last two positions, b's at its last
    assert row.reads == {(2, 5): [(0, 0)], (3, 6): [(0, 1)], (4, 8): [(1, 0)]}


def test_single_token_choices_share_the_scored_position():
    items = [ScoreItem(i, (4, 5, 6), (t,)) for i, t in enumerate((10, 11, 12))]
    row = build_row(items)
    assert row.tokens == [4, 5, 6] and row.is_chain
    assert row.scored_nodes == [2]
    assert sorted(row.reads) == [(2, 10), (2, 11), (2, 12)]


def test_duplicate_and_prefix_items():
    items = [ScoreItem(0, (1, 2), (3,)), ScoreItem(1, (1, 2, 3), (4,)), ScoreItem(2, (1, 2), (3,))]
    row = build_row(items)
    assert row.tokens == [1, 2, 3]
    assert row.reads[(1, 3)] == [(0, 0), (2, 0)]
    assert trie_size(sorted(items, key=lambda it: it.seq)) == 3


def test_make_rows_groups_by_context_and_splits_large_groups():
    shared = tuple(range(100, 110))
    items = [ScoreItem(i, shared + (i, i + 50), (i, i + 50, i + 60)) for i in range(6)]
    items.append(ScoreItem(6, (1, 2, 3), (4,)))
    rows = make_rows(items, row_target=16)
    # each chunk holds the 10 shared tokens once plus 2 per item: 3 items fit 16
    assert sorted(len(r) for r in rows) == [3, 16, 16]
    assert sum(r.n_items for r in rows) == 7
    assert [len(r) for r in rows] == sorted((len(r) for r in rows), reverse=True)


def test_batches_respect_the_plan():
    items = [ScoreItem(i, tuple(range(i % 7 + 1)) + (1000 + i,), (1,)) for i in range(40)]
    rows = make_rows(items, row_target=64)
    plan = BatchPlan(token_budget=32, memory_budget=10**9, bytes_per_token=1, bytes_per_pair=1)
    batches = list(batch_rows(rows, plan))
    assert sum(len(b) for b in batches) == len(rows)
    assert all(len(b) * max(len(r) for r in b) <= 32 for b in batches)


def test_memory_cap_and_batch_size_parsing():
    plan = BatchPlan(token_budget=10**6, memory_budget=1000, bytes_per_token=10, bytes_per_pair=0)
    assert plan(10) == 10 and plan(1000) == 1
    assert plan.halved()(10) == 5
    assert parse_batch_size("auto") is None and parse_batch_size("auto:4") is None
    assert parse_batch_size(8) == 8 and parse_batch_size("3") == 3


def test_pack_batches_fills_rows_to_the_batch_width():
    from evalkit.scoring.packing import pack_batches

    items = [ScoreItem(i, tuple(range(1000 * i, 1000 * i + n)), (7,)) for i, n in enumerate([10, 6, 4, 3, 3, 2, 9, 1])]
    rows = make_rows(items, row_target=64)
    batches = list(pack_batches(rows, lambda width: 2, min_width=1))
    widths = [max(len(r) for r in b) for b in batches]
    assert widths[0] == 10
    packed = [r for b in batches for r in b]
    assert sum(r.n_items for r in packed) == len(items)
    assert sum(len(r) for r in packed) == sum(len(it.seq) for it in items)
    # first batch: [10] and [9+1]; the rest are topped up within their width
    assert sorted(len(r) for r in batches[0]) == [10, 10]
    assert all(len(r) <= w for b, w in zip(batches, widths) for r in b)
    forest = next(r for r in batches[0] if r.n_items == 2)
    assert not forest.is_chain  # two separate tries: the second never sees the first
    first_root_end = forest.end[0]
    assert first_root_end == 9 and forest.depth[9] == 0


def test_short_tries_share_rows_of_the_minimum_width():
    from evalkit.scoring.packing import pack_batches

    def packed(lengths: list[int]) -> list[int]:
        items = [ScoreItem(i, tuple(range(1000 * i, 1000 * i + n)), (7,)) for i, n in enumerate(lengths)]
        batches = list(pack_batches(make_rows(items, row_target=64), lambda width: 8, min_width=64))
        assert len(batches) == 1
        return sorted(len(r) for r in batches[0])

    assert packed([30, 30, 20, 20, 8]) == [48, 60]  # 64-wide rows: 30+30, 20+20+8
    assert packed([40, 38, 20]) == [20, 38, 40]  # two 40s would not fit 64: width stays 40
