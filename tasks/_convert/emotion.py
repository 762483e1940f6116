"""emotion (dair-ai): 'text;label' lines -> tasks/emotion/{train,validation,test}.jsonl.

Output schema = HF ``dair-ai/emotion`` (split config): {"text": str, "label": int} with the HF
label order 0 sadness, 1 joy, 2 love, 3 anger, 4 fear, 5 surprise.
Each line is split on its LAST ';' (the text itself never contains one here, but that is the
documented rule).
"""

from __future__ import annotations

from collections import Counter

from _common import SHARED, task_dir, write_jsonl, write_source

SRC = SHARED / "emotion"
NAMES = ["sadness", "joy", "love", "anger", "fear", "surprise"]


def convert(name: str) -> list[dict]:
    lines = (SRC / name).read_text(encoding="utf-8").split("\n")
    assert lines[0] == "text;label_name" and lines[-1] == ""
    rows = []
    for line in lines[1:-1]:
        text, label = line.rsplit(";", 1)
        rows.append({"text": text, "label": NAMES.index(label)})
    return rows


def dist(rows):
    return {NAMES[k]: v for k, v in Counter(r["label"] for r in rows).items()}


def main() -> None:
    out = task_dir("emotion")
    train, val, test = convert("train.txt"), convert("val.txt"), convert("test.txt")
    assert len(train) == 16000 and dist(train) == {
        "joy": 5362, "sadness": 4666, "anger": 2159, "fear": 1937, "love": 1304, "surprise": 572}
    assert len(val) == 2000 and dist(val) == {
        "joy": 704, "sadness": 550, "anger": 275, "fear": 212, "love": 178, "surprise": 81}
    assert len(test) == 2000 and dist(test) == {
        "joy": 695, "sadness": 581, "anger": 275, "fear": 224, "love": 159, "surprise": 66}
    write_jsonl(out / "train.jsonl", train)
    write_jsonl(out / "validation.jsonl", val)
    write_jsonl(out / "test.jsonl", test)
    write_source(
        "emotion",
        "emotion",
        """
  Task folder tasks/emotion (converted by tasks/_convert/emotion.py):
    train.jsonl      <- train.txt: 16,000 rows
    validation.jsonl <- val.txt: 2,000 rows
    test.jsonl       <- test.txt: 2,000 rows
  Conversion: header 'text;label_name' dropped; each line split on its last ';' ->
  {"text", "label"} with the HF dair-ai/emotion label order 0 sadness, 1 joy, 2 love, 3 anger,
  4 fear, 5 surprise. Text unchanged; row order kept.
  Prompt: written for evalkit (lm-eval has no emotion task): description "Classify the emotion
  expressed in each text as sadness, joy, love, anger, fear, or surprise.", then
  "Text: {{text}}\\nEmotion:" with choices sadness / joy / love / anger / fear / surprise.
  Splits: training_split train (also few-shot), validation_split validation, test_split test
  (lm-eval evaluates on test when a test split is declared). Imbalanced: accuracy of the
  majority class 'joy' is 0.3475 on test.
""",
        ["train.jsonl", "validation.jsonl", "test.jsonl"],
    )


if __name__ == "__main__":
    main()
