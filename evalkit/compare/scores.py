"""Reading one metric's per-document scores from two matched cells, refusing what cannot be read.

The one rule every command (compare, gate, report) goes through:
- a metric that no document of either cell carries as a per-document value (absent, or a list /
  object that lm-eval keeps for a corpus-level aggregate such as F1 or BLEU) is corpus-level: it
  can only be compared on its stored aggregates, and the gate lists it as not gated;
- any other metric is per-document, and then every document of both cells must hold a finite
  number; one null, NaN, infinite, text or missing score is an InputError that names the source,
  the cell, the metric and the first offending document. A comparison never silently drops it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from evalkit.compare.matching import CellPair
from evalkit.compare.sources import RunSide
from evalkit.errors import InputError

UNREADABLE_HINT = ("Every document of a per-document metric needs a finite number. Re-run the cell with "
                   "`evalkit run`, or export the baseline again with `evalkit results export RUN -o FILE`; "
                   "the gate never passes on scores it cannot read.")

_OK, _CORPUS, _ABSENT, _BAD = "ok", "corpus", "absent", "bad"
# The paired statistics square and sum scores: beyond this magnitude float64 overflows (1e308), and
# no accuracy, log-likelihood or perplexity comes near it.
MAX_ABS_SCORE = 1e150


def score_kind(scores: Any, metric: str) -> str:
    """'ok' (a finite number), 'corpus' (a list / object for a corpus-level aggregate), 'absent', or 'bad'."""
    if not isinstance(scores, dict):
        return _BAD
    if metric not in scores:
        return _ABSENT
    value = scores[metric]
    if isinstance(value, (list, tuple, dict)):
        return _CORPUS
    if isinstance(value, (int, float)) and _in_range(value):
        return _OK
    return _BAD


def _in_range(value: int | float) -> bool:
    """Finite and at most MAX_ABS_SCORE in magnitude (an int is compared exactly: 10**400 has no float)."""
    if isinstance(value, float) and not math.isfinite(value):
        return False
    return abs(value) <= MAX_ABS_SCORE


def describe_score(scores: Any, metric: str) -> str:
    """What a document holds instead of a number, for the error message."""
    if not isinstance(scores, dict):
        return f"its scores are {type(scores).__name__}, not an object"
    if metric not in scores:
        return "the score is missing"
    value = scores[metric]
    if value is None:
        return "the score is null"
    if isinstance(value, float) and math.isnan(value):
        return "the score is NaN"
    if isinstance(value, float) and not math.isfinite(value):
        return f"the score is {value} (not finite)"
    if isinstance(value, (int, float)):
        shown = f"{value:.3g}" if isinstance(value, float) else f"an integer of {len(str(abs(value)))} digits"
        return f"the score is {shown}, too large to compare (|score| must be at most {MAX_ABS_SCORE:g})"
    if isinstance(value, str):
        return f"the score is the text {value[:40]!r}"
    return f"the score is a {type(value).__name__}, not a number"


def is_corpus_level(pair: CellPair, metric: str) -> bool:
    """True when no document of either cell carries `metric` as a per-document value."""
    return all(score_kind(s, metric) in (_CORPUS, _ABSENT)
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
    bad = [i for i, s in enumerate(samples.scores) if score_kind(s, metric) != _OK]
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
