"""What each document's rendered prompt, target and choices must be, checked before any compute
(`evalkit run`) and by `evalkit tasks validate`, with one set of rules.

lm-eval accepts much that it then scores silently as wrong: a target string that is not among the
choices, or an index past them (gold -100: every prediction counts as a miss), a `doc_to_text` hook
returning None or a list (an AssertionError deep in few-shot context building), an integer
`doc_to_text` ("multiple inputs": the index of the context among the choices) out of range.
Duplicate choices are legal but make a decision a tie (argmax takes the first): reported as a note.
A task whose `metadata.cluster` names a document field needs that field in every document.
"""

from __future__ import annotations

from typing import Any

from evalkit.tasks.clusters import cluster_problem, task_cluster_field


def document_problem(task: Any, doc: Any) -> str | None:
    """The first thing wrong with one document, naming the key, or None."""
    field = task_cluster_field(task)
    if field is not None and (missing := cluster_problem(doc, field)):
        return missing
    text = task.doc_to_text(doc)
    if task.OUTPUT_TYPE != "multiple_choice":
        return None if isinstance(text, str) else _not_text("doc_to_text", text)
    choices = task.doc_to_choice(doc)
    if not isinstance(choices, list) or not choices or not all(isinstance(c, str) for c in choices):
        return f"key 'doc_to_choice' must give a non-empty list of strings, not {_shown(choices)}"
    if (empty := empty_choice(choices)) is not None:
        return f"key 'doc_to_choice': {empty}"
    target = task.doc_to_target(doc)
    if getattr(task, "multiple_input", 0):  # the context is a choice; the target is the continuation
        if isinstance(text, bool) or not isinstance(text, int) or not 0 <= text < len(choices):
            return (f"key 'doc_to_text' gives {_shown(text)}, not an index into its {len(choices)} choices (an "
                    "integer doc_to_text, as the first document's, makes the choices the contexts: lm-eval's "
                    "multiple-input mode)")
        return None if isinstance(target, str) else _not_text("doc_to_target", target)
    if not isinstance(text, str):
        return _not_text("doc_to_text", text)
    return _gold_problem(target, choices)


def empty_choice(choices: Any) -> str | None:
    """'choice N is empty' for the first empty string among `choices` (an empty continuation has no
    token to score; lm-eval's first-document check fails on it with an IndexError), else None."""
    if not isinstance(choices, list):
        return None
    index = next((i for i, choice in enumerate(choices) if choice == ""), None)
    return None if index is None else f"choice {index} is empty (of {_shown(choices)})"


def duplicate_choices(task: Any, doc: Any) -> str | None:
    """A note when a multiple-choice document offers the same choice twice (a tie argmax breaks by order)."""
    if task.OUTPUT_TYPE != "multiple_choice":
        return None
    choices = task.doc_to_choice(doc)
    if not isinstance(choices, list):
        return None
    seen: dict[Any, int] = {}
    for i, choice in enumerate(choices):
        if choice in seen:
            return f"key 'doc_to_choice' offers {choice!r} twice (choices {seen[choice]} and {i}): a tie, decided by order"
        seen[choice] = i
    return None


def _gold_problem(target: Any, choices: list[str]) -> str | None:
    golds = target if isinstance(target, list) else [target]
    if not golds:
        return "key 'doc_to_target' gives an empty list of gold choices"
    for gold in golds:
        if isinstance(gold, bool):
            return f"key 'doc_to_target' gives {gold!r}, not a choice index or a choice's text"
        if isinstance(gold, int) and not 0 <= gold < len(choices):
            return f"key 'doc_to_target': target index {gold} is out of range for {len(choices)} choices"
        if isinstance(gold, str) and gold not in choices:
            return f"key 'doc_to_target': target {gold!r} is not one of the choices {_shown(choices)}"
        if not isinstance(gold, (int, str)):
            return f"key 'doc_to_target' gives {_shown(gold)}, not a choice index or a choice's text"
    return None


def _not_text(key: str, value: Any) -> str:
    return f"key '{key}' must give a string, not {_shown(value)}"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
