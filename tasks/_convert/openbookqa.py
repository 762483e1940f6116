"""OpenBookQA (main): train/test in ARC-style schema + validation in HF schema -> one HF schema.

HF ``allenai/openbookqa`` ``main`` schema (what lm-eval's openbookqa prompt reads):
    {"id", "question_stem": str, "choices": {"text": [str], "label": [str]}, "answerKey": str}
"""

from __future__ import annotations

import json
from collections import Counter

from _common import SHARED, copy_file, task_dir, write_jsonl, write_source

SRC = SHARED / "openbookqa"


def convert(name: str) -> list[dict]:
    rows = []
    with open(SRC / name, encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            assert set(d) == {"id", "question", "answerKey"}, d.keys()
            q = d["question"]
            assert set(q) == {"stem", "choices"}, q.keys()
            assert all(set(c) == {"text", "label"} for c in q["choices"])
            labels = [c["label"] for c in q["choices"]]
            assert d["answerKey"] in labels
            rows.append(
                {
                    "id": d["id"],
                    "question_stem": q["stem"],
                    "choices": {"text": [c["text"] for c in q["choices"]], "label": labels},
                    "answerKey": d["answerKey"],
                }
            )
    return rows


def main() -> None:
    out = task_dir("openbookqa")
    train = convert("train.jsonl")
    test = convert("test.jsonl")
    assert len(train) == 4957 and Counter(r["answerKey"] for r in train)["A"] == 1378
    assert len(test) == 500 and Counter(r["answerKey"] for r in test)["A"] == 138
    val = [json.loads(line) for line in open(SRC / "validation.jsonl", encoding="utf-8")]
    assert len(val) == 500
    assert all(list(d) == ["id", "question_stem", "choices", "answerKey"] for d in val)
    assert all(list(d["choices"]) == ["text", "label"] for d in val)
    write_jsonl(out / "train.jsonl", train)
    copy_file(SRC / "validation.jsonl", out / "validation.jsonl")
    write_jsonl(out / "test.jsonl", test)
    write_source(
        "openbookqa",
        "openbookqa",
        """
  Task folder tasks/openbookqa (made by tasks/_convert/openbookqa.py):
    train.jsonl      <- train.jsonl: 4,957 rows, converted
    validation.jsonl <- validation.jsonl: 500 rows, copied byte for byte (already HF schema)
    test.jsonl       <- test.jsonl: 500 rows, converted
  Conversion (train/test) to the HF allenai/openbookqa 'main' schema used by validation.jsonl
  and read by lm-eval's openbookqa prompt: {"id", "question_stem": question.stem,
  "choices": {"text": [...], "label": [...]} (same order), "answerKey"}. Texts unchanged,
  row order kept. All three splits now share one schema.
  Prompt: lm-eval 0.4.13 openbookqa/openbookqa.yaml, unchanged; like lm-eval, the task
  declares test_split: test, so it reports on the 500-row test split.
""",
        ["train.jsonl", "validation.jsonl", "test.jsonl"],
    )


if __name__ == "__main__":
    main()
