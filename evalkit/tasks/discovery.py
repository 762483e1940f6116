"""Finding task definitions: one index over every source.

Sources, all equal: directories registered by installed packages under the entry-point
group `evalkit.tasks` (evalkit's built-ins use it too), directories in EVALKIT_TASKS_PATH,
and directories given with --include-path. A `--task` that is a path to a YAML file is
read directly; `lm_eval:NAME` reaches lm-eval's own registry on explicit request.
Duplicate task names across files are an error that names both files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Iterable, Sequence

from evalkit.errors import TaskError, UnknownTaskError, did_you_mean
from evalkit.regular_files import non_regular_kind
from evalkit.tasks.confinement import real
from evalkit.tasks.yaml_source import not_regular_task_file, read_task_yaml

ENTRY_POINT_GROUP = "evalkit.tasks"
LM_EVAL_PREFIX = "lm_eval:"


@dataclass(frozen=True)
class TaskSource:
    """A directory of task YAML files and where it came from (for `tasks list`)."""

    label: str
    directory: Path


@dataclass(frozen=True)
class TaskEntry:
    """One task definition found in a YAML file (configuration not yet resolved).

    `root` is the directory it was found under: its includes and hooks must lie inside it."""

    name: str
    yaml_path: Path | None
    source: str
    config: dict[str, Any] = field(compare=False, hash=False)
    root: Path | None = None


def entry_point_sources() -> list[TaskSource]:
    """Task directories exposed by installed packages (group `evalkit.tasks`)."""
    sources: list[TaskSource] = []
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: (e.name != "builtin", e.name)):
        try:
            dirs = ep.load()()
        except Exception as exc:  # a broken plugin must not hide the other tasks
            raise TaskError(f"Task package entry point '{ep.name}' ({ep.value}) failed to load: {exc}.",
                            hint="Fix or uninstall that package.") from exc
        label = "builtin" if ep.name == "builtin" else f"package:{ep.name}"
        sources += [TaskSource(label, Path(d)) for d in dirs]
    return sources


def all_sources(include_paths: Sequence[str | Path] = ()) -> list[TaskSource]:
    """Entry points, then EVALKIT_TASKS_PATH, then --include-path directories."""
    sources = entry_point_sources()
    env = os.environ.get("EVALKIT_TASKS_PATH", "")
    sources += [TaskSource("EVALKIT_TASKS_PATH", Path(p)) for p in env.split(os.pathsep) if p]
    for path in include_paths:
        directory = Path(path).expanduser()
        if not directory.is_dir():
            what = "is a file, not a directory" if directory.exists() else "does not exist"
            raise TaskError(f"--include-path '{path}' {what}.",
                            hint="Give a directory that contains task YAML files.")
        sources.append(TaskSource("include-path", directory))
    return sources


class TaskRegistry:
    """Name -> TaskEntry over all sources, built on first use."""

    def __init__(self, sources: Iterable[TaskSource]) -> None:
        self.sources = list(sources)
        self._index: dict[str, TaskEntry] | None = None
        self.problems: list[str] = []  # task files that could not be read (reported, not fatal)
        self.warnings: list[str] = [_missing_source_warning(s) for s in self.sources if not s.directory.is_dir()]

    @classmethod
    def discover(cls, include_paths: Sequence[str | Path] = ()) -> "TaskRegistry":
        return cls(all_sources(include_paths))

    @property
    def index(self) -> dict[str, TaskEntry]:
        if self._index is None:
            self._index = self._build()
        return self._index

    def names(self) -> list[str]:
        return sorted(self.index)

    def resolve(self, ref: str) -> TaskEntry:
        """A task name, a path to a task YAML file, or `lm_eval:NAME`."""
        if ref.startswith(LM_EVAL_PREFIX):
            return TaskEntry(ref[len(LM_EVAL_PREFIX):], None, "lm_eval", {})
        if _looks_like_a_path(ref):
            return self.resolve_file(Path(ref))
        if ref in self.index:
            return self.index[ref]
        hint = "List tasks with `evalkit tasks list`; add directories with --include-path."
        if self.warnings:
            hint += "\n" + "\n".join(self.warnings)
        if self.problems:
            hint += f"\n{len(self.problems)} task file(s) could not be read: " + "; ".join(self.problems[:3])
        raise UnknownTaskError(f"Unknown task '{ref}'." + did_you_mean(ref, self.names()), hint=hint)

    def resolve_file(self, path: Path, root: Path | None = None) -> TaskEntry:
        """The task defined in the YAML file `path`. Its includes and hooks must lie inside `root`:
        by default the source directory holding the file, else the file's own directory."""
        if path.is_dir():
            raise TaskError(f"Task file '{path}' is a directory, not a YAML file.",
                            hint="Give a .yaml file, or a task name from `evalkit tasks list`.")
        if non_regular_kind(path) is not None:
            raise not_regular_task_file(path)
        if not path.is_file():
            raise TaskError(f"Task file '{path}' does not exist.",
                            hint="Give an existing .yaml file, or a task name from `evalkit tasks list`.")
        root = root if root is not None else self._root_for(path)
        config = read_task_yaml(path, root=root)
        name = config.get("task")
        if not isinstance(name, str) or not name.strip():
            found = "has no `task:` key naming the task" if name is None else f"has `task: {name!r}`, not a name"
            raise TaskError(f"Task file '{path}' {found}.", hint="Add a line such as `task: my_task`.")
        if (problem := _not_text(name, path)) is not None:
            raise TaskError(problem, hint=_NOT_TEXT_HINT)
        return TaskEntry(name, path.resolve(), "file", config, real(root))

    def _root_for(self, path: Path) -> Path:
        """The source directory holding `path` as written, else the folder of `path` as written.
        Symlinks are not followed here: a `t.yaml` (or folder) linked from elsewhere does not make
        the link target's folder a root; its hooks are still confined (after following links)."""
        given = Path(os.path.abspath(path))
        containing = [s.directory for s in self.sources
                      if s.directory.is_dir() and given.is_relative_to(os.path.abspath(s.directory))]
        return max(containing, key=lambda d: len(Path(os.path.abspath(d)).parts)) if containing else given.parent

    def _build(self) -> dict[str, TaskEntry]:
        index: dict[str, TaskEntry] = {}
        for source in self.sources:
            for path in yaml_files(source.directory, self.warnings):
                entry = self._read_entry(path, source)
                if entry is None:
                    continue
                if entry.name in index and index[entry.name].yaml_path != entry.yaml_path:
                    raise TaskError(
                        f"Duplicate task name '{entry.name}': defined in '{index[entry.name].yaml_path}' "
                        f"and in '{entry.yaml_path}'.",
                        hint="Rename one of them (the `task:` key); task names must be unique.")
                index[entry.name] = entry
        return index

    def _read_entry(self, path: Path, source: TaskSource) -> TaskEntry | None:
        try:
            config = read_task_yaml(path, root=source.directory)
        except TaskError as exc:
            self.problems.append(exc.message)
            return None
        except Exception as exc:  # one unreadable file must not hide every other task
            self.problems.append(f"Task file '{path}' could not be read: {type(exc).__name__}: {exc}")
            return None
        if "task" not in config or "group" in config:
            return None  # include-only templates and groups are not runnable tasks by themselves
        name = config["task"]
        if not isinstance(name, str) or not name.strip():
            self.problems.append(f"Task file '{path}', key 'task': {name!r} is not a task name (a string); skipped.")
            return None
        if (problem := _not_text(name, path) or _not_a_name(name, path)) is not None:
            self.problems.append(f"{problem} Skipped.")
            return None
        return TaskEntry(name, path.resolve(), source.label, config, real(source.directory))


def _looks_like_a_path(ref: str) -> bool:
    """A --task reference read as a path to a YAML file rather than a task name."""
    return ref.endswith((".yaml", ".yml")) or os.sep in ref or "/" in ref


def _not_a_name(name: str, path: Path) -> str | None:
    """Why a `task:` name found in a task directory could never be run by that name: `-t` reads it
    as a path, or as a task of lm-eval's own registry."""
    if _looks_like_a_path(name) or name.startswith(LM_EVAL_PREFIX):
        return (f"Task file '{path}', key 'task': '{name}' looks like a path or an `{LM_EVAL_PREFIX}` reference, "
                "so `-t` could never run it by name.")
    return None


_NOT_TEXT_HINT = "Rename the task (its `task:` key) or the file so that both are plain UTF-8 text."


def _not_text(name: str, path: Path) -> str | None:
    """Why a task cannot be run or stored when its name or file name holds undecodable bytes (Python's
    surrogate escapes, '\\udcff'), shown escaped; None when both are text."""
    for what, text in (("task name", name), ("file name", str(path))):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return (f"Task file '{_escaped(str(path))}': the {what} '{_escaped(text)}' is not valid UTF-8 text "
                    "(it holds undecodable bytes).")
    return None


def _escaped(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _missing_source_warning(source: TaskSource) -> str:
    what = "does not exist" if not source.directory.exists() else "is not a directory"
    return (f"{source.label} entry '{source.directory}' {what}; no tasks are read from it "
            "(check EVALKIT_TASKS_PATH or the package that registered it).")


def yaml_files(directory: Path, skipped: list[str] | None = None) -> list[Path]:
    """Task YAML files under `directory` (hidden and `__` folders skipped). A `*.yaml` name that is a
    FIFO or device (symlinks followed) is left out, with a warning appended to `skipped`: reading it
    would never end."""
    if not directory.is_dir():
        return []
    found = sorted(p for p in directory.rglob("*.y*ml")
                   if p.suffix in {".yaml", ".yml"} and not p.is_dir() and not any(part.startswith((".", "__")) for part in p.relative_to(directory).parts))
    regular = []
    for path in found:
        kind = non_regular_kind(path)
        if kind is None:
            regular.append(path)
        elif skipped is not None:
            skipped.append(f"'{path}' is {kind}, not a regular file; skipped.")
    return regular
