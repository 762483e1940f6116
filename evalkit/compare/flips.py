"""Documents whose 0/1 score flipped between two cells: right -> wrong ("lost") and wrong -> right ("gained").

For `acc` on a multiple-choice task each flipped document also carries its decision margin on both sides:
the gold choice's log-likelihood minus the best other choice's (gold is the choice the right side picked,
so it is known without the document). The most decisive flips (largest change of margin) come first;
without margins, doc_id order. Each flip carries the document's cluster when the task names one."""

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
        found = [_flip(pair, metric, direction, int(index)) for index in np.flatnonzero(mask)]
        found.sort(key=lambda r: -abs(r["margin_b"] - r["margin_a"]) if r["margin_a"] is not None else 0.0)
        rows += found[:limit]
    return rows


def _flip(pair: CellPair, metric: str, direction: str, index: int) -> dict[str, Any]:
    doc = pair.aligned.iloc[index]
    margins = _margins(doc, direction) if metric.split(",")[0] == "acc" else None
    cluster = doc.get("cluster_a")
    return {"a": pair.label_a, "b": pair.label_b, "model": pair.model, "task": pair.task, "setting": pair.setting,
            "metric": metric, "direction": direction, "doc_id": int(doc.doc_id_a),
            "cluster": None if cluster is None or cluster != cluster else str(cluster), "prompt": doc.prompt_a,
            "target": doc.target_a, "prediction_a": doc.prediction_a, "prediction_b": doc.prediction_b,
            "margin_a": margins[0] if margins else None, "margin_b": margins[1] if margins else None}


def _margins(doc: Any, direction: str) -> tuple[float, float] | None:
    """(margin in A, margin in B): gold log-likelihood minus the best other choice's, gold being the
    choice the right side picked; None unless both sides stored one log-likelihood per choice."""
    lls = [_choice_lls(doc.get("outputs_a")), _choice_lls(doc.get("outputs_b"))]
    if any(x is None for x in lls) or len(lls[0]) != len(lls[1]) or len(lls[0]) < 2:
        return None
    right = lls[0] if direction == LOST else lls[1]
    gold = int(np.argmax(right))
    margins = [float(x[gold] - max(v for j, v in enumerate(x) if j != gold)) for x in lls]
    return margins[0], margins[1]


def _choice_lls(outputs: Any) -> list[float] | None:
    """One log-likelihood per choice from stored outputs ([[ll, is_greedy], ...] or [[[ll, greedy]], ...])."""
    if not isinstance(outputs, list):
        return None
    out = []
    for item in outputs:
        while isinstance(item, list) and item and isinstance(item[0], list):
            item = item[0]
        if not (isinstance(item, list) and item and isinstance(item[0], (int, float))):
            return None
        out.append(float(item[0]))
    return out
