"""A task's local data files: made absolute, checked before `datasets` reads them, and named
(file and line) when `datasets` fails on them.

`datasets` reports a bad row as "DatasetGenerationError: An error occurred while generating the
dataset" and reads a CSV row with too few fields as missing values without a word. evalkit finds
what it can up front (a directory or an empty file where a data file should be, a ragged or
non-UTF-8 CSV row) and, when `datasets` still fails, looks for the first bad line itself.
"""

from __future__ import annotations

import csv
import glob
import json
import math
from pathlib import Path
from typing import Any, Iterator

from evalkit.errors import TaskError
from evalkit.json_lines import json_lines
from evalkit.regular_files import non_regular_kind

KEY = "dataset_kwargs.data_files"
_HINT = "Data paths are relative to the task's YAML file."


def absolutise(config: dict[str, Any], yaml_path: Path) -> None:
    """Make `dataset_kwargs.data_files` absolute (relative to the YAML), checking each file exists."""
    kwargs = config.get("dataset_kwargs")
    files = kwargs.get("data_files") if isinstance(kwargs, dict) else None
    if files is None:
        return
    if isinstance(files, dict):
        kwargs["data_files"] = {split: _absolute_list(f, yaml_path, f"{KEY}.{split}") for split, f in files.items()}
    else:
        kwargs["data_files"] = _absolute_list(files, yaml_path, KEY)


def _absolute_list(files: Any, yaml_path: Path, key: str) -> str | list[str]:
    if isinstance(files, str):
        return _existing(files, yaml_path, key)
    if isinstance(files, list) and files and all(isinstance(f, str) for f in files):
        return [_existing(f, yaml_path, key) for f in files]
    raise TaskError(f"Task file '{yaml_path}', key '{key}' must be a path, a list of paths or a mapping "
                    f"split -> path, not {files!r}.", hint=_HINT)


def _existing(relative: str, yaml_path: Path, key: str) -> str:
    if "://" in relative:
        return relative
    path = (yaml_path.parent / relative).expanduser()
    if any(ch in relative for ch in "*?["):
        for match in glob.glob(str(path), recursive=True):
            _require_regular(Path(match), relative, yaml_path, key)
        return str(path)
    if path.is_dir():
        raise TaskError(f"Task file '{yaml_path}', key '{key}': data file '{relative}' is a directory "
                        f"({path}), not a file.", hint=_HINT)
    _require_regular(path, relative, yaml_path, key)
    if not path.is_file():
        raise TaskError(f"Task file '{yaml_path}', key '{key}': data file '{relative}' does not exist "
                        f"(looked at {path}).", hint=_HINT)
    return str(path.resolve())


def _require_regular(path: Path, relative: str, yaml_path: Path, key: str) -> None:
    """A FIFO or device would make `datasets` (and evalkit's checks) read forever."""
    kind = non_regular_kind(path)
    if kind is not None and kind != "a directory":
        raise TaskError(f"Task file '{yaml_path}', key '{key}': data file '{relative}' ({path}) is {kind}, "
                        "not a regular file.", hint="Data files must be regular files. " + _HINT)


def declared_files(config: dict[str, Any], base: Path | None) -> list[Path]:
    """Every data file the config names, relative to `base` (for hashing the definition)."""
    kwargs = config.get("dataset_kwargs")
    files = kwargs.get("data_files") if isinstance(kwargs, dict) else None
    if base is None or files is None:
        return []
    flat: list[Any] = []
    for item in (files.values() if isinstance(files, dict) else [files]):
        flat += item if isinstance(item, list) else [item]
    return [base / f for f in flat if isinstance(f, str) and "://" not in f]


def _local_files(config: dict[str, Any]) -> Iterator[Path]:
    for path in declared_files(config, Path("/")):  # already absolute after absolutise()
        if path.is_file():
            yield path


def precheck(config: dict[str, Any], yaml_path: Path | None) -> None:
    """Faults `datasets` would report badly or not at all: empty files, ragged or non-UTF-8 CSV rows."""
    for path in _local_files(config):
        if path.stat().st_size == 0:
            raise TaskError(f"Task file '{yaml_path}': data file '{path}' is empty.",
                            hint="Fill the data file, or remove it from dataset_kwargs.data_files.")
        if config.get("dataset_path") == "csv" or path.suffix in {".csv", ".tsv"}:
            _check_csv(path, _delimiter(config, path))
        elif config.get("dataset_path") == "json" or path.suffix in {".jsonl", ".json"}:
            _check_utf8(path)
            _check_json_lines(path)


def _delimiter(config: dict[str, Any], path: Path) -> str:
    kwargs = config.get("dataset_kwargs") or {}
    given = kwargs.get("delimiter") or kwargs.get("sep")
    return given if isinstance(given, str) and len(given) == 1 else ("\t" if path.suffix == ".tsv" else ",")


def _check_csv(path: Path, delimiter: str) -> None:
    _check_utf8(path)
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        header = next(reader, [])
        rows, start = 0, reader.line_num + 1
        for row in reader:
            if row and len(row) != len(header):
                raise _ragged_row(path, row, len(header), start, reader.line_num)
            rows += bool(row)
            start = reader.line_num + 1
    if header and not rows:
        raise TaskError(f"Data file '{path}' has a header (line 1) but no rows.",
                        hint="Add the data rows, or remove the file from dataset_kwargs.data_files.")


def _ragged_row(path: Path, row: list[str], columns: int, start: int, end: int) -> TaskError:
    """A row with the wrong number of fields, blamed on the line where it starts: a row that ran over
    several lines holds a quote that was never closed."""
    if end > start and any("\n" in field for field in row):
        return TaskError(f"Data file '{path}', line {start}: a quoted field opened on this line is not closed "
                         f"(the row runs on to line {end}).", hint="Close the quote (a field's own quotes are "
                         'written twice: "say ""hi""").')
    return TaskError(f"Data file '{path}', line {start}: {len(row)} fields, but the header (line 1) has {columns}.",
                     hint="Quote fields that contain the delimiter; every row needs one value per column.")


def _check_utf8(path: Path) -> None:
    raw = path.read_bytes()
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise TaskError(f"Data file '{path}', line {line}: not UTF-8 text (byte {raw[exc.start]:#04x}).",
                        hint="Save the data file as UTF-8.") from exc


def describe_failure(exc: BaseException, config: dict[str, Any]) -> str:
    """What went wrong reading the data: the first bad file and line if evalkit can find it,
    else the innermost cause of `datasets`' error."""
    for path in _local_files(config):
        try:
            _check_utf8(path)
            if config.get("dataset_path") == "json" or path.suffix in {".jsonl", ".json"}:
                _check_json_lines(path)
        except TaskError as found:
            return found.message
    cause = innermost_cause(exc)
    text = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {text[0][:300]}" if text else type(cause).__name__


def _check_json_lines(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise TaskError(f"Data file '{path}' has no data (only blank lines).")
    try:
        json.loads(text)
        return  # one JSON document (not JSON lines): datasets' own message is all there is
    except json.JSONDecodeError:
        pass

    def bad_line(number: int, exc: json.JSONDecodeError) -> TaskError:
        return TaskError(f"Data file '{path}', line {number}, column {exc.colno}: not valid JSON ({exc.msg}).",
                         hint="Each line of a JSON-lines file must be one complete JSON object.")

    for number, row in json_lines(lines, bad_line):
        if not isinstance(row, dict):
            raise TaskError(f"Data file '{path}', line {number}: a JSON {type(row).__name__}, not an object.",
                            hint="Each line of a JSON-lines file must be one JSON object {\"field\": ...}.")
        for key, value in row.items():
            if isinstance(value, float) and not math.isfinite(value):
                raise TaskError(f"Data file '{path}', line {number}: field '{key}' is {json.dumps(value)} (not valid JSON; "
                                "`datasets` would read the whole column as floats).",
                                hint="Write the value (or null) in that line; NaN and Infinity are not JSON.")


def innermost_cause(exc: BaseException) -> BaseException:
    """Follow `raise ... from` (and implicit context) to the original error."""
    seen = {id(exc)}
    while True:
        nxt = exc.__cause__ or (exc.__context__ if not exc.__suppress_context__ else None)
        if nxt is None or id(nxt) in seen:
            return exc
        seen.add(id(nxt))
        exc = nxt
