"""Reading lm-eval task YAML safely.

lm-eval loads task YAML with a full loader; evalkit uses a safe loader that knows exactly one
tag, `!function`, kept as a `FunctionRef` until the task is built. Python hooks therefore run
only when a task from a directory the user named (or evalkit ships) is actually loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from evalkit.errors import TaskError

MAX_YAML_BYTES = 1 << 20


@dataclass(frozen=True)
class FunctionRef:
    """A `!function module.name` reference, relative to the directory of the YAML that holds it."""

    qualname: str
    base_dir: Path

    def __str__(self) -> str:
        return f"!function {self.qualname}"


class _TaskLoader(yaml.SafeLoader):
    base_dir: Path = Path(".")


def _function_constructor(loader: _TaskLoader, node: yaml.Node) -> FunctionRef:
    return FunctionRef(str(loader.construct_scalar(node)), loader.base_dir)  # type: ignore[arg-type]


_TaskLoader.add_constructor("!function", _function_constructor)


def read_task_yaml(path: Path, *, _seen: frozenset[Path] = frozenset()) -> dict[str, Any]:
    """Parse a task YAML (following `include:`) into a plain dict; errors name file and line."""
    path = path.resolve()
    if path in _seen:
        raise TaskError(f"Task file '{path}' includes itself (include cycle).",
                        hint="Remove the circular `include:`.")
    text = _read_text(path)
    loader_cls = type("_Loader", (_TaskLoader,), {"base_dir": path.parent})
    try:
        config = yaml.load(text, Loader=loader_cls)  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        raise TaskError(f"Task file '{path}' is not valid YAML ({where}): {exc.problem}.",
                        hint="Fix the YAML syntax at that position.") from exc
    except yaml.YAMLError as exc:
        raise TaskError(f"Task file '{path}' is not valid YAML: {exc}.") from exc
    if not isinstance(config, dict):
        raise TaskError(f"Task file '{path}' must hold a mapping of keys (task:, dataset_path:, ...), "
                        f"not a {type(config).__name__}.", hint="See README 'Writing a task'.")
    return _merge_includes(path, config, _seen | {path})


def _read_text(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_YAML_BYTES:
            raise TaskError(f"Task file '{path}' is {size:,} bytes; task YAML files are limited to "
                            f"{MAX_YAML_BYTES:,} bytes.", hint="Put data in data files, not in the YAML.")
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise TaskError(f"Task file '{path}' does not exist.") from exc
    except OSError as exc:
        raise TaskError(f"Cannot read task file '{path}': {exc.strerror}.") from exc
    if b"\x00" in raw:
        raise TaskError(f"Task file '{path}' is a binary file, not YAML text.",
                        hint="Point at the task's .yaml file.")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise TaskError(f"Task file '{path}' is not UTF-8 text (invalid byte at line {line}).",
                        hint="Save the file as UTF-8.") from exc


def _merge_includes(path: Path, config: dict[str, Any], seen: frozenset[Path]) -> dict[str, Any]:
    includes = config.pop("include", None)
    if includes is None:
        return config
    merged: dict[str, Any] = {}
    for include in includes if isinstance(includes, list) else [includes]:
        include_path = Path(include) if Path(include).is_absolute() else path.parent / str(include)
        if not include_path.is_file():
            raise TaskError(f"Task file '{path}', key 'include': file '{include}' does not exist.",
                            hint=f"Paths in `include:` are relative to {path.parent}.")
        merged.update(read_task_yaml(include_path, _seen=seen))
    merged.update(config)
    return merged
