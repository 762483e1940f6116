"""CB: SuperGLUE jsonl with string labels -> tasks/cb/{train,validation}.jsonl with int labels.

HF ``super_glue`` ``cb`` (what lm-eval's super_glue/cb prompt reads):
    {"premise", "hypothesis", "idx", "label": int (0 entailment, 1 contradiction, 2 neutral)}
"""

from __future__ import annotations

import json
from collections import Counter

from _common import SHARED, task_dir, write_jsonl, write_source

SRC = SHARED / "cb"
LABELS = {"entailment": 0, "contradiction": 1, "neutral": 2}


def convert(name: str) -> list[dict]:
    rows = []
    with open(SRC / name, encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            assert set(d) == {"premise", "hypothesis", "label", "idx"}, d.keys()
            rows.append(
                {
                    "premise": d["premise"],
                    "hypothesis": d["hypothesis"],
                    "idx": d["idx"],
                    "label": LABELS[d["label"]],
                }
            )
    return rows


def main() -> None:
    out = task_dir("cb")
    train = convert("train.jsonl")
    val = convert("val.jsonl")
    assert len(train) == 250 and Counter(r["label"] for r in train) == {1: 119, 0: 115, 2: 16}
    assert len(val) == 56 and Counter(r["label"] for r in val) == {1: 28, 0: 23, 2: 5}
    write_jsonl(out / "train.jsonl", train)
    write_jsonl(out / "validation.jsonl", val)
    write_source(
        "cb",
        "cb",
        """
  Task folder tasks/cb (converted by tasks/_convert/cb.py):
    train.jsonl      <- train.jsonl: 250 rows
    validation.jsonl <- val.jsonl: 56 rows
  Conversion: string labels -> HF super_glue/cb ClassLabel ints
    'entailment' -> 0, 'contradiction' -> 1, 'neutral' -> 2; premise, hypothesis, idx unchanged.
  Prompt: lm-eval 0.4.13 super_glue/cb, unchanged (choices True / False / Neither, so
  0 = True = entailment, 1 = False = contradiction, 2 = Neither = neutral). Metrics acc and
  macro-F1 over the 3 classes (lm-eval's aggregate.cb_multi_fi, copied into tasks/cb/utils.py).
""",
        ["train.jsonl", "validation.jsonl"],
    )


if __name__ == "__main__":
    main()
