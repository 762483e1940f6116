"""RTE: SuperGLUE-format jsonl -> GLUE schema tasks/rte/{train,validation}.jsonl.

lm-eval's ``rte`` task (glue/rte) reads HF ``nyu-mll/glue`` ``rte``:
    {"sentence1": str, "sentence2": str, "label": int (0 entailment, 1 not_entailment), "idx": int}
Our files are SuperGLUE jsonl: premise/hypothesis/label (string)/idx. The mapping is 1:1:
premise -> sentence1, hypothesis -> sentence2, 'entailment' -> 0, 'not_entailment' -> 1.
"""

from __future__ import annotations

import json
from collections import Counter

from _common import SHARED, task_dir, write_jsonl, write_source

SRC = SHARED / "rte"
LABELS = {"entailment": 0, "not_entailment": 1}


def convert(name: str) -> list[dict]:
    rows = []
    with open(SRC / name, encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            assert set(d) == {"premise", "hypothesis", "label", "idx"}, d.keys()
            rows.append(
                {
                    "sentence1": d["premise"],
                    "sentence2": d["hypothesis"],
                    "label": LABELS[d["label"]],
                    "idx": d["idx"],
                }
            )
    return rows


def main() -> None:
    out = task_dir("rte")
    train = convert("train.jsonl")
    val = convert("val.jsonl")
    assert len(train) == 2490 and Counter(r["label"] for r in train) == {0: 1249, 1: 1241}
    assert len(val) == 277 and Counter(r["label"] for r in val) == {0: 146, 1: 131}
    write_jsonl(out / "train.jsonl", train)
    write_jsonl(out / "validation.jsonl", val)
    write_source(
        "rte",
        "rte",
        """
  Task folder tasks/rte (converted by tasks/_convert/rte.py):
    train.jsonl      <- train.jsonl: 2,490 rows
    validation.jsonl <- val.jsonl: 277 rows
  Conversion to the HF glue/rte schema that lm-eval's glue/rte prompt reads:
    premise -> sentence1, hypothesis -> sentence2, idx kept,
    label 'entailment' -> 0, 'not_entailment' -> 1 (GLUE's ClassLabel order).
  Text unchanged (so 6/277 validation rows keep the surrounding quote characters that
  SuperGLUE has and GLUE's TSV lost; see the cross-check above). Row order kept.
  Prompt: lm-eval 0.4.13 glue/rte ('rte'), unchanged; choices ["True", "False"] so index 0 =
  entailment = "True".
""",
        ["train.jsonl", "validation.jsonl"],
    )


if __name__ == "__main__":
    main()
