"""ARC-Easy: AI2 jsonl (question.stem / question.choices[{text,label}]) -> HF ai2_arc schema.

HF ``allenai/ai2_arc`` ``ARC-Easy`` schema (what lm-eval's arc_easy prompt reads):
    {"id", "question": str, "choices": {"text": [str], "label": [str]}, "answerKey": str}
"""

from __future__ import annotations

import json
from collections import Counter

from _common import SHARED, task_dir, write_jsonl, write_source

SRC = SHARED / "arc_easy"


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
            assert d["answerKey"] in labels and len(set(labels)) == len(labels)
            rows.append(
                {
                    "id": d["id"],
                    "question": q["stem"],
                    "choices": {"text": [c["text"] for c in q["choices"]], "label": labels},
                    "answerKey": d["answerKey"],
                }
            )
    return rows


def main() -> None:
    out = task_dir("arc_easy")
    splits = {
        "train": ("ARC-Easy-Train.jsonl", 2251),
        "validation": ("ARC-Easy-Dev.jsonl", 570),
        "test": ("ARC-Easy-Test.jsonl", 2376),
    }
    for split, (name, n) in splits.items():
        rows = convert(name)
        assert len(rows) == n, (name, len(rows))
        write_jsonl(out / f"{split}.jsonl", rows)
    dev = convert("ARC-Easy-Dev.jsonl")
    assert Counter(r["answerKey"] for r in dev)["A"] == 152
    write_source(
        "arc_easy",
        "arc_easy",
        """
  Task folder tasks/arc_easy (converted by tasks/_convert/arc_easy.py):
    train.jsonl      <- ARC-Easy-Train.jsonl: 2,251 rows
    validation.jsonl <- ARC-Easy-Dev.jsonl: 570 rows
    test.jsonl       <- ARC-Easy-Test.jsonl: 2,376 rows
  Conversion to the HF allenai/ai2_arc schema that lm-eval's arc_easy prompt reads:
    {"id", "question": question.stem, "choices": {"text": [...], "label": [...]} (same order as
    question.choices), "answerKey"}. Texts and labels (including the numeric '1'-'4' labels and
    the 3- and 5-choice items) unchanged; row order kept.
  Prompt: lm-eval 0.4.13 arc/arc_easy.yaml, unchanged. Deviation in split use: lm-eval's arc_easy
  declares test_split: test and so reports on the 2,376-row test split; evalkit's arc_easy
  evaluates on validation (the 570-row Dev file, the split of evalkit's reference numbers).
  test.jsonl is still listed in the YAML's data_files, so a variant that sets
  `test_split: test` reproduces lm-eval's published arc_easy setting.
""",
        ["train.jsonl", "validation.jsonl", "test.jsonl"],
    )


if __name__ == "__main__":
    main()
