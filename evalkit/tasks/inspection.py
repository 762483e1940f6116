"""What `evalkit tasks list/show/validate` report about task definitions."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evalkit.errors import EvalkitError
from evalkit.tasks.discovery import TaskEntry, TaskRegistry

SPLITS = (("train", "training_split"), ("validation", "validation_split"), ("test", "test_split"))


@dataclass(frozen=True)
class TaskRow:
    """One line of `evalkit tasks list`."""

    name: str
    output_type: str
    splits: str
    source: str
    path: str


def list_rows(registry: TaskRegistry) -> list[TaskRow]:
    """Cheap summary of every task: no lm-eval import, row counts from the data files."""
    rows = []
    for name in registry.names():
        entry = registry.index[name]
        config = entry.config
        parts = [(role if config[key] == role else f"{role}({config[key]})") + f"={_count_rows(entry, config[key])}"
                 for role, key in SPLITS if config.get(key)]
        rows.append(TaskRow(name, str(config.get("output_type", "generate_until")), "  ".join(parts),
                            entry.source, str(entry.yaml_path)))
    return rows


def _count_rows(entry: TaskEntry, split: str) -> str:
    files = ((entry.config.get("dataset_kwargs") or {}).get("data_files"))
    if not isinstance(files, dict) or split not in files or entry.yaml_path is None:
        return "?"
    paths = files[split] if isinstance(files[split], list) else [files[split]]
    total = 0
    for relative in paths:
        path = entry.yaml_path.parent / str(relative)
        if not path.is_file():
            return "missing"
        with path.open("rb") as handle:
            lines = sum(1 for line in handle if line.strip())
        header = 1 if entry.config.get("dataset_path") == "csv" else 0
        total += max(lines - header, 0)
    return str(total)


def rendered_examples(entry: TaskEntry, count: int = 2) -> tuple[Any, list[dict[str, str]]]:
    """The loaded task and its first `count` evaluation documents as prompt/target text."""
    from evalkit.tasks.loading import load_task

    loaded = load_task(entry)
    task = loaded.task
    examples = []
    for i, doc in enumerate(task.eval_docs):
        if i >= count:
            break
        examples.append({"prompt": str(task.doc_to_text(doc)), "target": _target_text(task, doc),
                         "choices": _choices_text(task, doc)})
    return loaded, examples


def _target_text(task: Any, doc: Any) -> str:
    target = task.doc_to_target(doc)
    if task.OUTPUT_TYPE == "multiple_choice" and isinstance(target, int):
        choices = task.doc_to_choice(doc)
        return f"{choices[target]!r} (choice {target})" if 0 <= target < len(choices) else f"{target} (out of range)"
    return repr(target) if not isinstance(target, str) else target


def _choices_text(task: Any, doc: Any) -> str:
    if task.OUTPUT_TYPE != "multiple_choice":
        return ""
    return " | ".join(str(c) for c in task.doc_to_choice(doc))


@dataclass
class ValidationReport:
    """Every problem found in one task file (empty list: valid)."""

    path: Path
    name: str | None = None
    problems: list[str] = field(default_factory=list)
    documents: int = 0


def validate_file(registry: TaskRegistry, path: Path) -> ValidationReport:
    """Load a task YAML and its data strictly; collect problems instead of stopping at the first."""
    report = ValidationReport(path)
    try:
        entry = registry.resolve(str(path))
        report.name = entry.name
        loaded, _ = rendered_examples(entry, 0)
    except EvalkitError as exc:
        report.problems.append(exc.message)
        return report
    report.problems += _document_problems(loaded.task, path)
    report.documents = len(loaded.task.eval_docs)
    return report


def _document_problems(task: Any, path: Path, max_reported: int = 10) -> list[str]:
    problems: list[str] = []
    docs = task.eval_docs
    if len(docs) == 0:
        return [f"{path}: the evaluation split has no documents."]
    for i, doc in enumerate(docs):
        try:
            task.doc_to_text(doc)
            target = task.doc_to_target(doc)
            if task.OUTPUT_TYPE == "multiple_choice":
                choices = task.doc_to_choice(doc)
                if isinstance(target, int) and not 0 <= target < len(choices):
                    problems.append(f"{path}: document {i}: target index {target} is out of range "
                                    f"for {len(choices)} choices (key 'doc_to_target').")
        except Exception as exc:  # a template or hook failing on one document
            problems.append(f"{path}: document {i}: rendering failed: {type(exc).__name__}: {exc}")
        if len(problems) >= max_reported:
            problems.append(f"{path}: (stopped after {max_reported} problems)")
            break
    return problems
