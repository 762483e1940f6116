"""The store's JSON text rule: strict JSON only (no NaN / Infinity tokens, no reprs of objects).

A value JSON cannot hold is a programming error that names the field; a computed number that is
not finite (a NaN score) is stored as null, as SQLite stores a NaN REAL as NULL.
"""

from __future__ import annotations

import json
import math
from typing import Any


def finite(value: Any) -> Any:
    """`value` with every non-finite float (NaN, +-inf) replaced by None, containers rebuilt."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalars
        return finite(value.item())
    return value


def strict_json(value: Any, *, field: str) -> str:
    """JSON text of `value`; TypeError / ValueError naming `field` (and the key) if it is not JSON."""
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"Store field '{field}{_culprit(value)}' is not strict JSON ({exc}); "
                        "convert it to plain lists, dicts, strings and finite numbers before storing.") from exc


def _culprit(value: Any) -> str:
    """'.key' of the first top-level entry of a dict that does not encode, else ''."""
    if not isinstance(value, dict):
        return ""
    for key, item in value.items():
        try:
            json.dumps(item, allow_nan=False)
        except (TypeError, ValueError):
            return f".{key}"
    return ""
