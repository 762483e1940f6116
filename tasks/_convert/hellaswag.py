"""HellaSwag: the FIRST 500 rows of validation.jsonl.gz -> tasks/hellaswag/validation_500.jsonl.

The file is already in the HF ``Rowan/hellaswag`` schema that lm-eval's hellaswag
process_docs reads; the 500 lines are copied byte for byte (decompressed, no re-serialisation).
"""

from __future__ import annotations

import gzip
import json
from collections import Counter

from _common import SHARED, task_dir, write_source

SRC = SHARED / "hellaswag"
N = 500


def main() -> None:
    out = task_dir("hellaswag")
    with gzip.open(SRC / "validation.jsonl.gz", "rb") as f:
        lines = f.read().split(b"\n")
    assert lines[-1] == b""
    lines = lines[:-1]
    assert len(lines) == 10042
    head = lines[:N]
    rows = [json.loads(line) for line in head]
    assert Counter(r["label"] for r in rows) == {"0": 132, "1": 124, "2": 124, "3": 120}
    (out / "validation_500.jsonl").write_bytes(b"\n".join(head) + b"\n")
    write_source(
        "hellaswag",
        "hellaswag",
        """
  Task folder tasks/hellaswag (made by tasks/_convert/hellaswag.py):
    validation_500.jsonl <- the FIRST 500 lines of validation.jsonl.gz (rows 0-499 in file
                            order), decompressed and copied byte for byte. Fixed, documented
                            subset for CPU runs and CI; not a random sample.
  Label distribution of the subset: {'0': 132, '1': 124, '2': 124, '3': 120}.
  Caveat: the first 500 validation rows are all ActivityNet contexts (source_id
  'activitynet~...'; split_type indomain 277 / zeroshot 223); the WikiHow part of HellaSwag is
  not represented, so scores on this subset are NOT comparable with published full-validation
  HellaSwag numbers (10,042 rows).
  NO training split (only validation was available): the YAML declares validation only; few-shot
  examples, if requested, fall back to lm-eval's default (drawn from this validation subset,
  excluding the document being evaluated).
  Prompt: lm-eval 0.4.13 hellaswag/hellaswag.yaml, unchanged; its utils.py (preprocess,
  process_docs) copied unchanged to tasks/hellaswag/utils.py.
""",
        ["validation_500.jsonl"],
    )


if __name__ == "__main__":
    main()
