"""What a stored per-document score must be, and what a mean-aggregated metric must agree with: the one
score rule behind every door (compare and gate read it, lm-eval imports and baseline files are checked
by it before anything is stored or compared).

- A per-document score is 'ok' (a finite number of magnitude at most MAX_ABS_SCORE), 'corpus' (a list
  or object that lm-eval keeps for a corpus-level aggregate such as F1 or BLEU), 'absent', or 'bad'
  (null, NaN, infinite, text, too large): `score_kind`, and `describe_score` says which for a message.
- A metric that lm-eval aggregates by the mean (acc, acc_norm, exact_match, ...) is the mean of its
  documents' scores; a stored value that differs beyond rounding (MEAN_REL_TOL) was not computed from
  them: `mean_disagreement`.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

OK, CORPUS, ABSENT, BAD = "ok", "corpus", "absent", "bad"
# The paired statistics square and sum scores: beyond this magnitude float64 overflows (1e308), and
# no accuracy, log-likelihood or perplexity comes near it.
MAX_ABS_SCORE = 1e150
# lm-eval and evalkit write aggregates at full precision; summing in another order moves the last bits only.
MEAN_REL_TOL = 1e-6
_MEAN_ABS_TOL = 1e-12


def score_kind(scores: Any, metric: str) -> str:
    """'ok' (a finite number), 'corpus' (a list / object for a corpus-level aggregate), 'absent', or 'bad'."""
    if not isinstance(scores, dict):
        return BAD
    if metric not in scores:
        return ABSENT
    value = scores[metric]
    if isinstance(value, (list, tuple, dict)):
        return CORPUS
    if isinstance(value, (int, float)) and _in_range(value):
        return OK
    return BAD


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


def is_mean_aggregated(metric: str, aggregation: Any = None) -> bool:
    """True when `metric` (a stored key such as `acc` or `acc,none`) is the mean of its documents' scores:
    the task named aggregation "mean", or named none and lm-eval's registered aggregation is the mean."""
    from evalkit.metric_semantics import TABLE

    if aggregation is not None:
        return aggregation == "mean"
    known = TABLE.get(metric.split(",")[0])
    return known is not None and known.aggregation == "mean"


def mean_disagreement(value: Any, documents: Sequence[Any], metric: str) -> str | None:
    """Why a mean-aggregated `value` is not the mean of the documents' `metric` scores (dicts of scores),
    or None when it is, or when it cannot be told (no documents, a value or a document score that is not
    'ok': the readability rule names those)."""
    if not documents or score_kind({metric: value}, metric) != OK:
        return None
    if not all(score_kind(d, metric) == OK for d in documents):
        return None
    mean = math.fsum(float(d[metric]) for d in documents) / len(documents)
    if math.isclose(float(value), mean, rel_tol=MEAN_REL_TOL, abs_tol=_MEAN_ABS_TOL):
        return None
    return (f"the stored value {float(value):.6g} is not {mean:.6g}, the mean of its {len(documents)} "
            "documents' scores")
