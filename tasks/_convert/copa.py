"""COPA: SuperGLUE validation.jsonl (copied) + Balanced-COPA XML ids 1-400 -> train.jsonl.

HF ``super_glue`` ``copa`` schema (what lm-eval's super_glue/copa utils read):
    {"premise", "choice1", "choice2", "question" ('cause'|'effect'), "idx", "label": 0|1}
XML items: <item id asks-for most-plausible-alternative(1|2)><p/><a1/><a2/></item>.
Ids 1-500 are the original COPA dev set (SuperGLUE train = ids 1-400, SuperGLUE validation =
ids 401-500); ids 1001-1500 are Balanced-COPA's mirrored items (not used).

Mapping for train: premise <- p, choice1 <- a1, choice2 <- a2, question <- asks-for,
label <- most-plausible-alternative - 1 (1 -> 0, 2 -> 1), idx <- id - 1.
Labels always refer to the XML's own a1/a2 order, so they are correct even where Balanced-COPA
lists the two alternatives in the opposite order to SuperGLUE (checked below on ids 401-500).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter

from _common import SHARED, copy_file, task_dir, write_jsonl, write_source

SRC = SHARED / "copa"


STRIPPED: list[tuple[int, str]] = []


def read_xml() -> dict[int, dict]:
    root = ET.parse(SRC / "balacopa-dev-all.xml").getroot()
    items = {}
    for item in root.iter("item"):
        assert set(item.attrib) == {"id", "asks-for", "most-plausible-alternative"}
        assert [c.tag for c in item] == ["p", "a1", "a2"]
        i = int(item.attrib["id"])
        mpa = item.attrib["most-plausible-alternative"]
        assert mpa in ("1", "2") and item.attrib["asks-for"] in ("cause", "effect")
        texts = {}
        for c in item:
            assert c.text is not None and "\n" not in c.text
            # The XML has stray spaces around 4 texts (ids 129 a1, 210 p, 1010 p, 1313 p);
            # strip them (documented repair; SuperGLUE has no such spaces).
            if c.text != c.text.strip():
                STRIPPED.append((i, c.tag))
            texts[c.tag] = c.text.strip()
        items[i] = {
            "premise": texts["p"],
            "choice1": texts["a1"],
            "choice2": texts["a2"],
            "question": item.attrib["asks-for"],
            "idx": i - 1,
            "label": int(mpa) - 1,
        }
    assert len(items) == 1000
    return items


def main() -> None:
    out = task_dir("copa")
    items = read_xml()
    train = [items[i] for i in range(1, 401)]
    assert sorted(STRIPPED) == [(129, "a1"), (210, "p"), (1010, "p"), (1313, "p")], STRIPPED
    assert Counter(r["label"] for r in train) == {1: 205, 0: 195}

    # Cross-check the label mapping on the 100 items that are in both files (ids 401-500 =
    # SuperGLUE validation, same order): the correct and the wrong alternative must match.
    val = [json.loads(line) for line in open(SRC / "validation.jsonl", encoding="utf-8")]
    assert len(val) == 100
    same_order = 0
    for v, x in zip(val, (items[i] for i in range(401, 501))):
        def right(d):
            return d["choice1"] if d["label"] == 0 else d["choice2"]

        def wrong(d):
            return d["choice2"] if d["label"] == 0 else d["choice1"]

        assert v["premise"] == x["premise"] and v["question"] == x["question"], (v, x)
        assert right(v) == right(x) and wrong(v) == wrong(x), (v, x)
        same_order += v["choice1"] == x["choice1"]
    assert same_order == 45, same_order

    write_jsonl(out / "train.jsonl", train)
    copy_file(SRC / "validation.jsonl", out / "validation.jsonl")
    write_source(
        "copa",
        "copa",
        """
  Task folder tasks/copa (made by tasks/_convert/copa.py):
    train.jsonl      <- balacopa-dev-all.xml, items with id 1-400 only (= SuperGLUE COPA train):
                        400 rows, XML order; converted to the SuperGLUE schema:
                        premise <- <p>, choice1 <- <a1>, choice2 <- <a2>, question <- asks-for,
                        label <- most-plausible-alternative - 1 (1 -> 0, 2 -> 1), idx <- id - 1.
                        Texts unchanged except that surrounding whitespace is stripped (only
                        2 train texts had any: id 129 <a1> ' The driver talked the whole way.'
                        and id 210 <p> with a trailing space; a leading space would otherwise
                        reach the prompt via copa's convert_choice).
                        label distribution {0: 195, 1: 205}.
    validation.jsonl <- validation.jsonl, copied byte for byte (SuperGLUE validation, 100 rows).
  Mirrored Balanced-COPA items (ids 1001-1500) and ids 401-500 (= validation) are not in train.
  Choice order caveat: labels always index the XML's own a1/a2 order, so they are correct; but
  Balanced-COPA lists the alternatives of some original items in the opposite order to
  SuperGLUE, so train rows are not byte-identical to HF super_glue/copa train (on the 100
  overlapping validation items 45 keep SuperGLUE's order; the converter asserts that the
  correct and the wrong alternative texts match SuperGLUE for all 100). This only affects the
  order of the two options in few-shot examples / fine-tuning data, not the evaluated docs.
  Prompt: lm-eval 0.4.13 super_glue/copa; its utils.py copied unchanged to tasks/copa/utils.py.
""",
        ["train.jsonl", "validation.jsonl"],
    )


if __name__ == "__main__":
    main()
