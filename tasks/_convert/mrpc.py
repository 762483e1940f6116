"""MRPC: rebuild GLUE's MRPC train/validation split -> tasks/mrpc/{train,validation}.jsonl.

Schema of HF ``nyu-mll/glue`` ``mrpc`` (what lm-eval's glue/mrpc prompt reads):
    {"sentence1", "sentence2", "label" (0 not paraphrase, 1 paraphrase), "idx"}

- msr_paraphrase_train.txt is double-encoded UTF-8 in this copy: repaired losslessly with
  .encode('latin-1').decode('utf-8') and the remaining BOM stripped (see SOURCE.txt).
- The MSR files write the literal token <QUOTE> where GLUE has '"'; the files contain no '"'
  of their own, so replacing <QUOTE> with '"' is reversible.
- GLUE validation (glue_validation.jsonl, 408 rows) is copied byte for byte; every one of its
  (sentence1, sentence2) pairs occurs exactly once in the repaired MSR train file, with the same
  label. GLUE train = the other 3,668 MSR train rows, in file order, idx 0..3667.
"""

from __future__ import annotations

import json
from collections import Counter

from _common import SHARED, copy_file, task_dir, write_jsonl, write_source

SRC = SHARED / "mrpc"
HEADER = "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String"


def read_msr(name: str) -> list[dict]:
    text = (SRC / name).read_text(encoding="utf-8").encode("latin-1").decode("utf-8")
    assert text.startswith("\ufeff") and text.count("\ufeff") == 1
    assert '"' not in text and "\r" not in text
    lines = text.lstrip("\ufeff").split("\n")
    assert lines[0] == HEADER and lines[-1] == ""
    rows = []
    for line in lines[1:-1]:
        quality, _id1, _id2, s1, s2 = line.split("\t")
        assert quality in ("0", "1")
        rows.append(
            {"sentence1": s1.replace("<QUOTE>", '"'), "sentence2": s2.replace("<QUOTE>", '"'), "label": int(quality)}
        )
    return rows


def main() -> None:
    out = task_dir("mrpc")
    msr = read_msr("msr_paraphrase_train.txt")
    assert len(msr) == 4076 and Counter(r["label"] for r in msr) == {1: 2753, 0: 1323}
    val = [json.loads(line) for line in open(SRC / "glue_validation.jsonl", encoding="utf-8")]
    assert len(val) == 408
    pos = {}
    for i, r in enumerate(msr):
        pos.setdefault((r["sentence1"], r["sentence2"]), []).append(i)
    dev_rows = set()
    for v in val:
        (i,) = pos[(v["sentence1"], v["sentence2"])]  # exactly one match
        assert msr[i]["label"] == v["label"]
        dev_rows.add(i)
    train = [r for i, r in enumerate(msr) if i not in dev_rows]
    train = [{**r, "idx": i} for i, r in enumerate(train)]
    assert len(train) == 3668 and Counter(r["label"] for r in train) == {1: 2474, 0: 1194}
    write_jsonl(out / "train.jsonl", train)
    copy_file(SRC / "glue_validation.jsonl", out / "validation.jsonl")
    write_source(
        "mrpc",
        "mrpc",
        """
  Task folder tasks/mrpc (made by tasks/_convert/mrpc.py), reproducing GLUE's MRPC splits:
    train.jsonl      <- msr_paraphrase_train.txt minus the 408 GLUE validation pairs:
                        3,668 rows (= GLUE/HF glue/mrpc train size), MSR file order, idx 0..3667;
                        label distribution {1: 2474, 0: 1194}
    validation.jsonl <- glue_validation.jsonl, copied byte for byte: 408 rows
  Conversion of the MSR rows: encoding repaired as described above (.encode('latin-1')
  .decode('utf-8'), BOM stripped); '<QUOTE>' -> '"' (GLUE's form; the files have no literal
  '"', so this is reversible); Quality -> label (int); the '#1 ID' / '#2 ID' columns are not
  carried over (GLUE's schema has none). All 408 validation pairs match exactly one MSR train
  row byte for byte after this conversion, with the same label (asserted by the converter).
  Not copied: msr_paraphrase_test.txt (GLUE's test; lm-eval's mrpc has no test split).
  Prompt: lm-eval 0.4.13 glue/mrpc, unchanged (choices no / yes; metrics acc and f1).
""",
        ["train.jsonl", "validation.jsonl"],
    )


if __name__ == "__main__":
    main()
