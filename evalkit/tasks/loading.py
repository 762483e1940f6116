"""Building an lm-eval Task from a TaskEntry, strictly.

evalkit resolves what lm-eval leaves to the working directory (data files are relative to the
YAML file), rejects unknown keys and wrong types with the file and key named, imports hooks only
from inside the task's root, and hashes the definition (config, hook source, data files) so runs
can be checked as comparable. A LoadedTask holds its data and can be reused across cells.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.errors import TaskError, did_you_mean
from evalkit.tasks import data_files, data_identity
from evalkit.tasks.config_types import check_types
from evalkit.tasks.discovery import TaskEntry
from evalkit.tasks.hooks import import_hook
from evalkit.tasks.templates import sandbox_lm_eval_templates
from evalkit.tasks.yaml_source import FunctionRef

SPLIT_KEYS = ("training_split", "validation_split", "test_split", "fewshot_split")


@dataclass
class LoadedTask:
    """An lm-eval task object plus evalkit's identity for it."""

    name: str
    task: Any
    entry: TaskEntry
    config_hash: str

    @functools.cached_property
    def documents_hash(self) -> str:
        """Hash over every document the task evaluates, shows as few-shot examples or trains on
        (evalkit.tasks.data_identity): what a stored cell is reused against, with config_hash."""
        with _quiet_lm_eval():
            return data_identity.documents_hash(self.task)

    @property
    def source(self) -> str:
        return str(self.entry.yaml_path) if self.entry.yaml_path else self.entry.source


def allowed_keys() -> set[str]:
    from lm_eval.config.task import TaskConfig

    return {f.name for f in dataclasses.fields(TaskConfig)} | {"group", "include", "class"}


def check_keys(entry: TaskEntry) -> None:
    """Unknown keys (with a suggestion) and wrongly typed values, naming file and key."""
    known = allowed_keys()
    for key in entry.config:
        if not isinstance(key, str) or key not in known:
            raise TaskError(f"Task file '{entry.yaml_path}': unknown key '{key}'."
                            + did_you_mean(str(key), sorted(known)),
                            hint="Task YAML uses lm-eval's task keys (see lm-eval's task guide).")
    check_types(entry.config, entry.yaml_path)


def resolved_config(entry: TaskEntry) -> dict[str, Any]:
    """The configuration with data paths made absolute and `!function` hooks imported."""
    check_keys(entry)
    config = copy.deepcopy(entry.config)
    if "class" in config or "group" in config:
        raise TaskError(f"Task file '{entry.yaml_path}' defines a Python class task or a group; "
                        "evalkit runs YAML tasks.", hint="Run the group's member tasks by name.")
    if entry.yaml_path is not None:
        data_files.absolutise(config, entry.yaml_path)
        data_identity.resolve_dataset_path(config, entry.yaml_path)
    files = (config.get("dataset_kwargs") or {}).get("data_files")
    if isinstance(files, dict):
        _check_declared_splits(config, list(files), entry)
    return _import_functions(config, entry, "")


def task_config_hash(entry: TaskEntry) -> str:
    """sha256 over the canonical config, the source of its hook modules and its data files (globs
    matched, a local dataset_path folder's files)."""
    digest = hashlib.sha256()
    digest.update(json.dumps(entry.config, sort_keys=True, default=str).encode())
    base = entry.yaml_path.parent if entry.yaml_path else None
    files = set(data_files.declared_files(entry.config, base)) | set(data_identity.local_data_files(entry.config, base))
    for path in sorted(set(_hook_files(entry.config)) | files):
        if path.is_file():
            from evalkit.models.fingerprint import file_sha256

            digest.update(path.name.encode() + file_sha256(path).encode())
    return digest.hexdigest()[:16]


def load_task(entry: TaskEntry) -> LoadedTask:
    """Build the lm-eval task (loads its data) and check its declared splits exist; its templates
    render in a sandbox (evalkit.tasks.templates)."""
    sandbox_lm_eval_templates()
    if entry.source == "lm_eval":
        return _load_from_lm_eval(entry)
    config = resolved_config(entry)
    data_files.precheck(config, entry.yaml_path)
    data_identity.use_content_keyed_cache(config)
    task = _build(config, entry)
    _check_splits(task, entry)
    return LoadedTask(entry.name, task, entry, task_config_hash(entry))


def _build(config: dict[str, Any], entry: TaskEntry) -> Any:
    from evalkit.tasks.bounded_task import BoundedTask

    try:
        with _quiet_lm_eval():
            return BoundedTask(config=config, evalkit_label=f"Task '{entry.name}' ({entry.yaml_path})")
    except TaskError:
        raise
    except IndexError as exc:  # lm-eval checks the first document's target against its choices
        raise TaskError(f"Task '{entry.name}' ({entry.yaml_path}), key 'doc_to_target': the first evaluation "
                        f"document's target is outside its choices ({_first_line(exc)}).",
                        hint="Fix the label in the data or the doc_to_target / doc_to_choice templates.") from exc
    except Exception as exc:  # datasets/lm-eval raise many types for bad data
        raise TaskError(f"Task '{entry.name}' ({entry.yaml_path}) failed to load its data: "
                        f"{data_files.describe_failure(exc, config)}",
                        hint="Check dataset_path, dataset_kwargs.data_files and the data file format "
                        "(run `evalkit tasks validate PATH`).") from exc


def _load_from_lm_eval(entry: TaskEntry) -> LoadedTask:
    from lm_eval.tasks import TaskManager

    manager = TaskManager()
    if entry.name not in manager.all_subtasks:
        raise TaskError(f"lm-eval has no task '{entry.name}'." + did_you_mean(entry.name, manager.all_subtasks),
                        hint="See `lm-eval ls tasks` for lm-eval's task names.")
    try:
        with _quiet_lm_eval():
            task = manager.load([entry.name])["tasks"][entry.name]
    except Exception as exc:  # offline, no HF cache, dataset gone from the Hub
        raise TaskError(f"lm-eval's registry task '{entry.name}' could not load its dataset from the Hugging Face "
                        f"Hub or the local HF cache{_offline_note()}: {_first_line(data_files.innermost_cause(exc))}",
                        hint="lm_eval:TASK needs the network (or a filled HF cache). To run it offline, copy "
                             "lm-eval's YAML for it and its data into a local folder (data_files next to the "
                             "YAML) and use --include-path.") from exc
    config = task.config.to_dict() if hasattr(task.config, "to_dict") else {}
    digest = hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return LoadedTask(entry.name, task, entry, digest)


def _offline_note() -> str:
    import os

    flags = [v for v in ("HF_DATASETS_OFFLINE", "HF_HUB_OFFLINE") if os.environ.get(v, "").lower() in {"1", "true", "yes"}]
    return f" ({' and '.join(flags)} set: offline mode)" if flags else ""


def _import_functions(value: Any, entry: TaskEntry, key: str) -> Any:
    if isinstance(value, FunctionRef):
        root = entry.root if entry.root is not None else value.base_dir
        return import_hook(value, root, key)
    if isinstance(value, dict):
        return {k: _import_functions(v, entry, f"{key}.{k}" if key else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_import_functions(v, entry, f"{key}[{i}]") for i, v in enumerate(value)]
    return value


def _check_splits(task: Any, entry: TaskEntry) -> None:
    available = list(task.dataset.keys()) if getattr(task, "dataset", None) is not None else []
    _check_declared_splits({k: getattr(task.config, k, None) for k in SPLIT_KEYS}, available, entry)


def _check_declared_splits(config: dict[str, Any], available: list[str], entry: TaskEntry) -> None:
    for key in SPLIT_KEYS:
        split = config.get(key)
        if split and available and split not in available:
            raise TaskError(f"Task file '{entry.yaml_path}', key '{key}': split '{split}' is not in the data "
                            f"(available: {', '.join(available)}).",
                            hint="Name a split that dataset_kwargs.data_files (or the dataset) provides.")


def _hook_files(value: Any) -> list[Path]:
    if isinstance(value, FunctionRef):
        module = value.qualname.rpartition(".")[0].replace(".", "/")
        return [value.base_dir / f"{module}.py"]
    if isinstance(value, dict):
        return [p for v in value.values() for p in _hook_files(v)]
    if isinstance(value, list):
        return [p for v in value for p in _hook_files(v)]
    return []


class _quiet_lm_eval:
    """lm-eval logs warnings for normal situations; keep them out of evalkit's output."""

    def __enter__(self) -> None:
        self.logger = logging.getLogger("lm_eval")
        self.level = self.logger.level
        self.logger.setLevel(logging.ERROR)

    def __exit__(self, *exc: Any) -> None:
        self.logger.setLevel(self.level)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:300] if lines else type(exc).__name__
