"""GSM8K: train.jsonl / test.jsonl copied byte for byte (already the HF openai/gsm8k 'main' schema)."""

from __future__ import annotations

import json

from _common import SHARED, copy_file, count_lines, task_dir, write_source

SRC = SHARED / "gsm8k"


def main() -> None:
    out = task_dir("gsm8k")
    for name, n in (("train.jsonl", 7473), ("test.jsonl", 1319)):
        rows = [json.loads(line) for line in open(SRC / name, encoding="utf-8")]
        assert len(rows) == n and all(list(r) == ["question", "answer"] for r in rows)
        assert all("#### " in r["answer"] for r in rows)
        copy_file(SRC / name, out / name)
        assert count_lines(out / name) == n
    write_source(
        "gsm8k",
        "gsm8k",
        """
  Task folder tasks/gsm8k (made by tasks/_convert/gsm8k.py):
    train.jsonl <- train.jsonl: 7,473 rows, copied byte for byte
    test.jsonl  <- test.jsonl: 1,319 rows, copied byte for byte
  The official files already have HF openai/gsm8k 'main' fields {"question", "answer"}.
  Prompt, filters (strict-match, flexible-extract), generation_kwargs, metric and
  num_fewshot: 5 from lm-eval 0.4.13 gsm8k/gsm8k.yaml, unchanged; few-shot examples are drawn
  from train, evaluation on test.
""",
        ["train.jsonl", "test.jsonl"],
    )


if __name__ == "__main__":
    main()
