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
from evalkit.regular_files import FileTooLargeError, NotRegularFileError, non_regular_kind, read_regular_bytes
from evalkit.tasks.confinement import require_inside

MAX_YAML_BYTES = 1 << 20
MAX_INCLUDE_DEPTH = 32
# Values once YAML aliases are expanded (a 700-byte "billion laughs" file expands to 10^9 and hung
# every command that copies or hashes the config).
MAX_EXPANDED_VALUES = 200_000


@dataclass(frozen=True)
class FunctionRef:
    """A `!function module.name` reference, relative to the directory of the YAML that holds it."""

    qualname: str
    base_dir: Path
    yaml_path: Path | None = None

    def __str__(self) -> str:
        return f"!function {self.qualname}"


class _TaskLoader(yaml.SafeLoader):
    base_dir: Path = Path(".")
    yaml_path: Path | None = None


def _function_constructor(loader: _TaskLoader, node: yaml.Node) -> FunctionRef:
    return FunctionRef(str(loader.construct_scalar(node)), loader.base_dir, loader.yaml_path)  # type: ignore[arg-type]


_TaskLoader.add_constructor("!function", _function_constructor)


def _construct_unique_mapping(loader: _TaskLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    """A mapping whose keys are unique: YAML would keep the last of two `doc_to_text:` silently, so
    a key written twice is an error naming file, line and key (`<<` merge keys may repeat keys)."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = loader.construct_object(key_node)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise TaskError(f"Task file '{loader.yaml_path}', line {line}: key '{key}' is written twice (first "
                                f"on line {seen[key]}); YAML would silently keep only the last one.",
                                hint="Remove one of the two, or merge them.")
            seen[key] = line
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_TaskLoader.construct_mapping = _construct_unique_mapping  # type: ignore[assignment,method-assign]


def read_task_yaml(path: Path, *, root: Path | None = None, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Parse a task YAML (following `include:`) into a plain dict; errors name file and line.

    Every include must resolve inside `root` (default: the YAML's own directory)."""
    path = path.resolve()
    root = root if root is not None else path.parent
    if path in _seen:
        raise TaskError(f"Task file '{path}' includes itself (include cycle).",
                        hint="Remove the circular `include:`.")
    if len(_seen) >= MAX_INCLUDE_DEPTH:
        raise TaskError(f"Task file '{_seen[0]}': the `include:` chain is more than {MAX_INCLUDE_DEPTH} files "
                        f"deep (stopped at '{path}').", hint="Flatten the chain of included YAML files.")
    config = _parse(path, _read_text(path))
    return _merge_includes(path, config, root, _seen + (path,))


def _parse(path: Path, text: str) -> dict[str, Any]:
    loader_cls = type("_Loader", (_TaskLoader,), {"base_dir": path.parent, "yaml_path": path})
    try:
        config = yaml.load(text, Loader=loader_cls)  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        raise TaskError(f"Task file '{path}' is not valid YAML ({where}): {exc.problem}.",
                        hint="Fix the YAML syntax at that position.") from exc
    except yaml.YAMLError as exc:
        raise TaskError(f"Task file '{path}' is not valid YAML: {exc}.") from exc
    except RecursionError as exc:
        raise TaskError(f"Task file '{path}' is nested too deeply to read.",
                        hint="Task YAML is a flat mapping of keys; flatten the structure.") from exc
    if config is None:
        raise TaskError(f"Task file '{path}' is empty.", hint="See README 'Writing a task'.")
    if not isinstance(config, dict):
        raise TaskError(f"Task file '{path}' must hold a mapping of keys (task:, dataset_path:, ...), "
                        f"not a {type(config).__name__}.", hint="See README 'Writing a task'.")
    _check_expanded_size(path, config)
    return config


def _check_expanded_size(path: Path, config: dict[str, Any]) -> None:
    """TaskError when the config refers to itself or expands (through `&anchor` / `*alias` reuse) to
    more than MAX_EXPANDED_VALUES values; counted over shared objects once each, so this is fast."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(value: Any) -> int:
        if not isinstance(value, (dict, list)):
            return 1
        key = id(value)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise TaskError(f"Task file '{path}' contains a value that contains itself (a YAML alias of its own "
                            "anchor).", hint="Write the value out instead of referring to itself.")
        active.add(key)
        items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
        total = 1
        for item in items:
            total += size(item)
            if total > MAX_EXPANDED_VALUES:
                raise TaskError(f"Task file '{path}' expands to more than {MAX_EXPANDED_VALUES:,} values once its "
                                "YAML aliases (*name) are expanded.",
                                hint="Task YAML is a small mapping of keys; put data in data files.")
        active.discard(key)
        sizes[key] = total
        return total

    try:
        size(config)
    except RecursionError as exc:
        raise TaskError(f"Task file '{path}' is nested too deeply to read.",
                        hint="Task YAML is a flat mapping of keys; flatten the structure.") from exc


def _read_text(path: Path) -> str:
    try:
        raw = read_regular_bytes(path, MAX_YAML_BYTES)
    except FileNotFoundError as exc:
        raise TaskError(f"Task file '{path}' does not exist.") from exc
    except FileTooLargeError as exc:
        raise TaskError(f"Task file '{path}' is {exc.size:,} bytes; task YAML files are limited to "
                        f"{MAX_YAML_BYTES:,} bytes.", hint="Put data in data files, not in the YAML.") from exc
    except (IsADirectoryError, NotRegularFileError) as exc:
        raise not_regular_task_file(path) from exc
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


def not_regular_task_file(path: Path) -> TaskError:
    """The error for a task YAML path that exists but is a directory, FIFO or device."""
    kind = non_regular_kind(path) or "not a regular file"
    if kind == "a directory":
        return TaskError(f"Task file '{path}' is a directory, not a YAML file.",
                         hint="Rename the directory, or point at the .yaml file inside it.")
    return TaskError(f"Task file '{path}' is {kind}, not a regular file; evalkit reads task YAML only from "
                     "regular files.", hint="Point at a .yaml file (a FIFO or device would never end).")


def _merge_includes(path: Path, config: dict[str, Any], root: Path, seen: tuple[Path, ...]) -> dict[str, Any]:
    includes = config.pop("include", None)
    if includes is None:
        return config
    merged: dict[str, Any] = {}
    for include in _include_names(path, includes):
        merged.update(read_task_yaml(_include_path(path, include, root), root=root, _seen=seen))
    merged.update(config)
    return merged


def _include_names(path: Path, includes: Any) -> list[str]:
    names = includes if isinstance(includes, list) else [includes]
    if not names or not all(isinstance(name, str) and name.strip() for name in names):
        raise TaskError(f"Task file '{path}', key 'include' must be a file name or a list of file names, "
                        f"not {includes!r}.", hint="Write e.g. `include: _default_template.yaml`.")
    return names


def _include_path(path: Path, include: str, root: Path) -> Path:
    candidate = Path(include).expanduser()
    candidate = candidate if candidate.is_absolute() else path.parent / candidate
    resolved = require_inside(candidate, root, yaml_path=path, key="include", reference=f"include: {include}")
    if (kind := non_regular_kind(resolved)) is not None:
        raise TaskError(f"Task file '{path}', key 'include': '{include}' is {kind}, not a YAML file.")
    if not resolved.is_file():
        raise TaskError(f"Task file '{path}', key 'include': file '{include}' does not exist.",
                        hint=f"Paths in `include:` are relative to {path.parent}.")
    return resolved


class _TaskDumper(yaml.SafeDumper):
    """Writes a config back as task YAML: `!function` references as tags, anything else unknown as text."""


_TaskDumper.add_representer(FunctionRef, lambda dumper, ref: dumper.represent_scalar("!function", ref.qualname))
_TaskDumper.add_multi_representer(object, lambda dumper, value: dumper.represent_str(str(value)))


def dump_task_yaml(config: dict[str, Any]) -> str:
    """A task config as YAML text (for `tasks show`)."""
    return yaml.dump(config, Dumper=_TaskDumper, sort_keys=False, allow_unicode=True, default_flow_style=None)
