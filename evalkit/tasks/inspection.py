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


def _count_rows(entry: TaskEntry, split: Any) -> str:
    kwargs = entry.config.get("dataset_kwargs")
    files = kwargs.get("data_files") if isinstance(kwargs, dict) else None
    if not isinstance(files, dict) or not isinstance(split, str) or split not in files or entry.yaml_path is None:
        return "?"
    paths = files[split] if isinstance(files[split], list) else [files[split]]
    total = 0
    for relative in paths:
        path = entry.yaml_path.parent / str(relative)
        if not path.is_file():
            return "missing"
        try:
            with path.open("rb") as handle:
                lines = sum(1 for line in handle if line.strip())
        except OSError:
            return "unreadable"
        header = 1 if entry.config.get("dataset_path") == "csv" else 0
        total += max(lines - header, 0)
    return str(total)


def rendered_examples(entry: TaskEntry, count: int = 2) -> tuple[Any, list[dict[str, str]]]:
    """The loaded task and its first `count` evaluation documents as prompt/target text."""
    from evalkit.tasks.loading import load_task

    loaded = load_task(entry)
    return loaded, [render_document(loaded.task, doc) for doc in _first(loaded.task.eval_docs, count)]


def _first(docs: Any, count: int) -> list[Any]:
    return [docs[i] for i in range(min(count, len(docs)))]


def render_document(task: Any, doc: Any) -> dict[str, str]:
    """One document's prompt, target and choices as text (rendering is time-limited)."""
    return {"prompt": str(task.doc_to_text(doc)), "target": _target_text(task, doc),
            "choices": _choices_text(task, doc)}


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
    notes: list[str] = field(default_factory=list)  # legal but worth a look (duplicate choices)


def validate_file(registry: TaskRegistry, path: Path, root: Path | None = None) -> ValidationReport:
    """Load a task YAML and its data strictly; collect problems instead of stopping at the first.
    Includes and hooks must lie inside `root` (default: the source directory holding the file, or
    its own directory): validating never imports code from anywhere else."""
    report = ValidationReport(path)
    try:
        entry = registry.resolve_file(path, root)
        report.name = entry.name
        loaded, _ = rendered_examples(entry, 0)
        report.problems += _document_problems(loaded.task, path, report)
        report.documents = len(loaded.task.eval_docs)
    except EvalkitError as exc:
        report.problems.append(exc.message)
    except Exception as exc:  # validation reports every problem; it never ends in a traceback
        report.problems.append(f"{path}: unexpected {type(exc).__name__} while loading: {exc}")
    return report


def _document_problems(task: Any, path: Path, report: ValidationReport, max_reported: int = 10) -> list[str]:
    from evalkit.tasks.document_checks import document_problem, duplicate_choices
    from evalkit.tasks.render_limit import RenderTimeout

    problems: list[str] = []
    docs = task.eval_docs
    if len(docs) == 0:
        return [f"{path}: the evaluation split has no documents."]
    for i, doc in enumerate(docs):
        try:
            problem = document_problem(task, doc)
            if problem:
                problems.append(f"{path}: document {i}: {problem}.")
            elif len(report.notes) < 3 and (note := duplicate_choices(task, doc)):
                report.notes.append(f"document {i}: {note}.")
        except EvalkitError as exc:
            problems.append(f"{path}: document {i}: {exc.message}")
            if isinstance(exc.__cause__, RenderTimeout):
                break  # every other document would wait out the limit too
        except Exception as exc:  # a template or hook failing on one document
            problems.append(f"{path}: document {i}: rendering failed: {type(exc).__name__}: {exc}")
        if len(problems) >= max_reported:
            problems.append(f"{path}: (stopped after {max_reported} problems)")
            break
    return problems
