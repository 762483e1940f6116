"""Documents whose 0/1 score flipped between two cells: right -> wrong ("lost") and wrong -> right ("gained")."""

from __future__ import annotations

from typing import Any

import numpy as np

from evalkit.compare.matching import CellPair

LOST = "right → wrong"
GAINED = "wrong → right"


def flip_rows(pair: CellPair, metric: str, higher_is_better: bool, values: tuple[np.ndarray, np.ndarray],
              limit: int) -> list[dict[str, Any]]:
    """Up to `limit` lost and `limit` gained documents, in doc_id order of side A."""
    good = 1.0 if higher_is_better else 0.0
    right_a, right_b = values[0] == good, values[1] == good
    rows: list[dict[str, Any]] = []
    for direction, mask in ((LOST, right_a & ~right_b), (GAINED, ~right_a & right_b)):
        for index in np.flatnonzero(mask)[:limit]:
            doc = pair.aligned.iloc[int(index)]
            rows.append({"a": pair.label_a, "b": pair.label_b, "model": pair.model, "task": pair.task,
                         "setting": pair.setting, "metric": metric, "direction": direction,
                         "doc_id": int(doc.doc_id_a), "prompt": doc.prompt_a, "target": doc.target_a,
                         "prediction_a": doc.prediction_a, "prediction_b": doc.prediction_b})
    return rows
