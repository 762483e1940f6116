"""WikiText-2 (raw) test split -> one document per article, as lm-eval's `wikitext` task scores it.

lm-eval reads the Hugging Face dataset EleutherAI/wikitext_document_level (wikitext-2-raw-v1),
whose builder splits the raw file at top-level headings: a line that, after collapsing
"= = =" -> "===" and "= =" -> "==" and stripping, starts with "= " and ends with " =" begins a
new page; empty pages are skipped. The same rule is applied here to wiki.test.raw, read in
text mode (its CRLF line ends become "\\n", as the builder's text-mode read does).
Schema: {"page": str}, as the lm-eval task's hooks read it.
"""

from __future__ import annotations

from _common import SHARED, task_dir, write_jsonl, write_source

SRC = SHARED / "wikitext2" / "wiki.test.raw"


def pages(text: str) -> list[str]:
    """Split the raw text into article pages with the document-level builder's rule."""
    found: list[str] = []
    current: list[str] = []
    for line in text.split("\n"):
        heading = line.replace("= = =", "===").replace("= =", "==").strip()
        if heading.startswith("= ") and heading.endswith(" ="):
            page = "\n".join(current)
            if page.strip():
                found.append(page)
            current = []
        current.append(line)
    found.append("\n".join(current))
    return found


def main() -> None:
    with open(SRC, encoding="utf-8") as handle:
        docs = pages(handle.read())
    n = write_jsonl(task_dir("wikitext") / "test.jsonl", ({"page": p} for p in docs))
    assert n == 62, n
    write_source("wikitext", "wikitext2", NOTES, ["test.jsonl"])


NOTES = """
  test.jsonl: wiki.test.raw split into 62 article documents with the rule of the Hugging Face
  builder EleutherAI/wikitext_document_level (the data lm-eval's `wikitext` task reads), one JSON
  object {"page": text} per line, in file order. Text is unchanged (pre-tokenised WikiText style);
  the task's doc_to_target hook applies lm-eval's wikitext detokenizer before scoring, and
  process_results counts words and bytes on the original page, exactly as lm-eval's task does.
  Only the test split is shipped (the split lm-eval evaluates); the task has no training split,
  so it is evaluated, never fine-tuned on.
"""

if __name__ == "__main__":
    main()
