"""The overlap guard: evaluation documents whose prompt text also occurs in the training split.

Texts are compared exactly and after normalising whitespace and case. Training documents that
match an evaluated document are excluded from fine-tuning by default, so a fine-tuned score
is never inflated by training on the test items themselves.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Sequence


@dataclass(frozen=True)
class OverlapReport:
    """How many evaluation documents also occur in the training split, and what was done about it."""

    eval_docs: int  # documents of the evaluation split (all of them, whatever --limit evaluates)
    exact: int  # of those, whose prompt text occurs verbatim among the training prompts
    normalised: int  # ... after lower-casing and collapsing whitespace (includes the exact ones)
    training_matches: int  # training documents matching an evaluated document (normalised)
    excluded: int  # training documents removed because of the overlap

    def as_details(self) -> dict[str, int]:
        return {"overlap_eval_docs": self.eval_docs, "overlap_exact": self.exact,
                "overlap_normalised": self.normalised, "overlap_training_matches": self.training_matches,
                "overlap_excluded": self.excluded}


def normalise(text: str) -> str:
    """Lower-case with runs of whitespace collapsed to one space."""
    return " ".join(text.lower().split())


def prompt_renderer(task: Any) -> Callable[[dict[str, Any]], str]:
    """A fast equivalent of `task.doc_to_text(doc)` as a string.

    lm-eval compiles a Jinja template on every call (about 0.2 ms); the guard renders whole
    training splits (SST-2: 67k rows), so a string template is compiled once here with
    lm-eval's own Jinja environment, which gives the same text.
    """
    from lm_eval import utils

    spec = task.config.doc_to_text
    if getattr(task, "prompt", None) is None and isinstance(spec, str) and spec not in task.features:
        template = utils.env.from_string(spec)
        return lambda doc: template.render(**doc)
    return lambda doc: _as_text(task.doc_to_text(doc), doc)


def _as_text(value: Any, doc: dict[str, Any]) -> str:
    # Multiple-input tasks (e.g. Winogrande) return an index here: compare the whole document.
    return value if isinstance(value, str) else json.dumps(doc, sort_keys=True, default=str)


def find_overlap(train_texts: Sequence[str], eval_texts: Sequence[str], *,
                 exclude: bool) -> tuple[OverlapReport, list[int]]:
    """The report, and the indices of training documents to keep."""
    train_exact = set(train_texts)
    train_norm = {normalise(t) for t in train_texts}
    eval_norm = {normalise(t) for t in eval_texts}
    exact = sum(1 for t in eval_texts if t in train_exact)
    normalised = sum(1 for t in eval_texts if normalise(t) in train_norm)
    matching = [i for i, t in enumerate(train_texts) if normalise(t) in eval_norm]
    dropped = set(matching) if exclude else set()
    keep = [i for i in range(len(train_texts)) if i not in dropped]
    report = OverlapReport(len(eval_texts), exact, normalised, len(matching), len(dropped))
    return report, keep
