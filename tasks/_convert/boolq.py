"""BoolQ: validation.jsonl (HF google/boolq schema) -> tasks/boolq/validation.jsonl (SuperGLUE schema).

lm-eval's ``boolq`` task (super_glue/boolq) reads HF ``super_glue`` ``boolq``:
    {"question", "passage", "idx", "label": int (0 False, 1 True)}
Our file has {"question", "answer": bool, "passage"}: answer false -> 0, true -> 1; idx = row number.
"""

from __future__ import annotations

import json
from collections import Counter

from _common import SHARED, task_dir, write_jsonl, write_source

SRC = SHARED / "boolq"


def main() -> None:
    out = task_dir("boolq")
    rows = []
    with open(SRC / "validation.jsonl", encoding="utf-8") as f:
        for i, line in enumerate(f):
            d = json.loads(line)
            assert set(d) == {"question", "answer", "passage"}, d.keys()
            assert isinstance(d["answer"], bool)
            rows.append(
                {
                    "question": d["question"],
                    "passage": d["passage"],
                    "idx": i,
                    "label": int(d["answer"]),
                }
            )
    assert len(rows) == 3270 and Counter(r["label"] for r in rows) == {1: 2033, 0: 1237}
    write_jsonl(out / "validation.jsonl", rows)
    write_source(
        "boolq",
        "boolq",
        """
  Task folder tasks/boolq (converted by tasks/_convert/boolq.py):
    validation.jsonl <- validation.jsonl: 3,270 rows
  Conversion to the HF super_glue/boolq schema that lm-eval's super_glue/boolq prompt reads:
    question, passage unchanged; answer (bool) -> label (false -> 0, true -> 1, SuperGLUE's
    ClassLabel order False/True); idx = 0-based row number in this file (added; the HF boolq
    file has no idx). Row order kept.
  NO training split (see caveat above): the YAML declares validation only; few-shot examples,
  if requested, fall back to lm-eval's default (drawn from the validation split, excluding the
  document being evaluated).
  Prompt: lm-eval 0.4.13 super_glue/boolq, unchanged (choices no / yes).
""",
        ["validation.jsonl"],
    )


if __name__ == "__main__":
    main()
