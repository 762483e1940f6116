"""Input validation shared by the stats modules: one place that turns array-likes into clean float arrays."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike


def as_finite_1d(values: ArrayLike, name: str = "values") -> np.ndarray:
    """Return `values` as a 1-D float64 array, raising ValueError on NaN/None/inf so they are never averaged away."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric (numbers or bools): {exc}") from exc
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional (one value per item); got shape {arr.shape}")
    n_nan = int(np.isnan(arr).sum())
    if n_nan:
        raise ValueError(
            f"{name}: {n_nan} of {arr.size} values are NaN (or None); NaN model outputs must be "
            "reported and handled explicitly, not averaged"
        )
    n_inf = int(np.isinf(arr).sum())
    if n_inf:
        raise ValueError(f"{name}: {n_inf} of {arr.size} values are infinite; no finite mean or interval exists")
    return arr


def check_confidence(confidence: float) -> float:
    """Validate a two-sided confidence level strictly between 0 and 1."""
    c = float(confidence)
    if not (0.0 < c < 1.0) or math.isnan(c):
        raise ValueError(f"confidence must be strictly between 0 and 1; got {confidence!r}")
    return c


def is_binary_array(arr: np.ndarray) -> bool:
    """True when a non-empty float array holds only 0.0 and 1.0."""
    return arr.size > 0 and bool(np.all((arr == 0.0) | (arr == 1.0)))
