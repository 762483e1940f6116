"""Reading one metric's per-document scores from two matched cells, refusing what cannot be read.

The one rule every command (compare, gate, report) goes through (`evalkit.store.scores`, the rule that
imports and baseline files are checked by too):
- a metric that no document of either cell carries as a per-document value (absent, or a list /
  object that lm-eval keeps for a corpus-level aggregate such as F1 or BLEU) is corpus-level: it
  can only be compared on its stored aggregates, and the gate lists it as not gated;
- any other metric is per-document, and then every document of both cells must hold a finite
  number; one null, NaN, infinite, text or missing score is an InputError that names the source,
  the cell, the metric and the first offending document. A comparison never silently drops it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from evalkit.compare.matching import CellPair
from evalkit.compare.sources import RunSide
from evalkit.errors import InputError
from evalkit.store import ABSENT, CORPUS, MAX_ABS_SCORE, OK, describe_score, score_kind

__all__ = ["MAX_ABS_SCORE", "UNREADABLE_HINT", "check_cell_scores", "describe_score", "is_corpus_level",
           "item_scores", "score_kind"]

UNREADABLE_HINT = ("Every document of a per-document metric needs a finite number. Re-run the cell with "
                   "`evalkit run`, or export the baseline again with `evalkit results export RUN -o FILE`; "
                   "the gate never passes on scores it cannot read.")

def is_corpus_level(pair: CellPair, metric: str) -> bool:
    """True when no document of either cell carries `metric` as a per-document value."""
    return all(score_kind(s, metric) in (CORPUS, ABSENT)
               for frame in _cell_samples(pair) for s in frame.scores)


def item_scores(pair: CellPair, metric: str) -> tuple[np.ndarray, np.ndarray] | None:
    """The aligned per-document scores of `metric` (A, B), or None for a corpus-level metric.

    Raises InputError when the metric is per-document but some document of either cell (matched
    or not) lacks a finite score.
    """
    if is_corpus_level(pair, metric):
        return None
    for side, cell, frame in zip((pair.a, pair.b), (pair.cell_a, pair.cell_b), _cell_samples(pair)):
        check_cell_scores(side, cell, frame, metric)
    return (_aligned_values(pair.aligned.scores_a, metric), _aligned_values(pair.aligned.scores_b, metric))


def check_cell_scores(side: RunSide, cell: pd.Series, samples: pd.DataFrame, metric: str) -> None:
    """InputError naming the first document of the cell whose `metric` is not a finite number."""
    bad = [i for i, s in enumerate(samples.scores) if score_kind(s, metric) != OK]
    if not bad:
        return
    first = samples.iloc[bad[0]]
    more = f" ({len(bad)} of {len(samples)} documents are affected)" if len(bad) > 1 else ""
    raise InputError(f"{side.where}: metric '{metric}' of {cell.model} / {cell.task} / {cell.setting} "
                     f"has no readable per-document score for doc_id {first.doc_id}: "
                     f"{describe_score(first.scores, metric)}{more}.", hint=UNREADABLE_HINT)


def _cell_samples(pair: CellPair) -> tuple[pd.DataFrame, pd.DataFrame]:
    return pair.a.samples(pair.cell_a.cell_id), pair.b.samples(pair.cell_b.cell_id)


def _aligned_values(column: pd.Series, metric: str) -> np.ndarray:
    return np.asarray([float(scores[metric]) for scores in column], dtype=np.float64)
