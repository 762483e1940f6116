"""Reading what `lm_eval --output_path P --log_samples` writes (lm-eval 0.4.x), checked whole.

lm-eval's EvaluationTracker writes `P/<model name sanitised>/results_<date>.json` and, per task,
`samples_<task>_<date>.jsonl` beside it (with `--output_path FILE.json`: `FILE_<date>.json` and the
samples files in FILE's folder). Everything an import needs is read and checked here, before
anything is written: a bad file is an ImportFileError naming the file, the key and what to do.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from evalkit.errors import InputError
from evalkit.interop.lm_eval_scores import UNCHANGED_HINT, aggregate_problem, sample_score_problem
from evalkit.json_lines import json_lines
from evalkit.tasks.clusters import cluster_field, cluster_key_problem, cluster_problem

RESULTS_KEYS = ("results", "configs", "n-shot", "higher_is_better", "config")
OPTIONAL_OBJECTS = ("versions", "task_hashes")  # per-task maps a results file may lack
SAMPLE_KEYS = ("doc_id", "doc_hash", "prompt_hash", "target", "arguments", "filtered_resps", "filter", "metrics")
SUPPORTED_SERIES = "0.4"
_RERUN = "Re-run lm-eval with --output_path DIR --log_samples (lm-eval 0.4.x) and import DIR."
# A doc_id is stored in an INTEGER column: SQLite's (and PostgreSQL's bigint) signed 64-bit range.
DOC_ID_RANGE = (-2**63, 2**63 - 1)


class ImportFileError(InputError):
    """An lm-eval output file that cannot be imported (exit 2): the file and what is missing."""


@dataclass(frozen=True)
class LmEvalTaskOutput:
    """One task of a results file: its recorded config and its per-document samples (as logged)."""

    name: str
    config: dict[str, Any]
    results: dict[str, Any]
    num_fewshot: int
    higher_is_better: dict[str, bool]
    samples_path: Path
    samples: list[dict[str, Any]]


@dataclass(frozen=True)
class LmEvalOutput:
    """One results file (one lm-eval invocation) with all its tasks."""

    path: Path
    data: dict[str, Any]
    tasks: list[LmEvalTaskOutput]

    @property
    def lm_eval_version(self) -> str | None:
        return _str_or_none(self.data.get("lm_eval_version"))


def find_results_files(paths: Iterable[Path]) -> list[Path]:
    """Results files named by `paths`: a results JSON itself, or every results_*.json under a folder.
    A samples file given on its own is accepted when its results file is also found."""
    found: list[Path] = []
    samples: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            inside = sorted(p for p in path.rglob("*.json") if _date_id(p) is not None and not p.name.startswith("samples_"))
            if not inside:
                raise ImportFileError(f"'{path}' holds no lm-eval results file (results_<date>.json).",
                                      hint=_RERUN)
            found += inside
        elif not path.exists():
            raise ImportFileError(f"'{path}' does not exist.", hint="Give lm-eval's --output_path folder or a "
                                  "results_<date>.json file.")
        elif path.suffix == ".jsonl":
            samples.append(path)
        else:
            found.append(path)
    unique = list(dict.fromkeys(p.resolve() for p in found))
    for sample_file in samples:
        if not any(sample_file.resolve().parent == r.parent and _date_id(r) and sample_file.stem.endswith(
                _date_id(r) or "") for r in unique):
            raise ImportFileError(f"'{sample_file}' is a samples file; its results file was not given.",
                                  hint="Pass the results_<date>.json file (or its folder); its samples files "
                                       "are read from beside it.")
    return unique


def read_output(path: Path) -> LmEvalOutput:
    """The results file and every task's samples, fully checked."""
    data = _read_json(path)
    for key in RESULTS_KEYS:
        if not isinstance(data.get(key), dict):
            raise ImportFileError(f"'{path}' lacks the key '{key}' of an lm-eval results file "
                                  "(unknown layout).", hint=_RERUN)
    _check_version(path, data)
    for key in OPTIONAL_OBJECTS:
        if data.get(key) is not None and not isinstance(data[key], dict):
            raise ImportFileError(f"'{path}': key '{key}' is a {type(data[key]).__name__}, not an object.",
                                  hint=UNCHANGED_HINT)
    if not data["configs"]:
        raise ImportFileError(f"'{path}': key 'configs' names no task.", hint=_RERUN)
    tasks = [_read_task(path, data, name) for name in data["configs"]]
    return LmEvalOutput(path, data, tasks)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFileError(f"Cannot read '{path}': {exc}.", hint="Check the path and its permissions.") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFileError(f"'{path}' is not valid JSON (truncated or damaged? {exc.msg} at line {exc.lineno}).",
                              hint=_RERUN) from exc
    if not isinstance(data, dict):
        raise ImportFileError(f"'{path}' holds a JSON {type(data).__name__}, not an lm-eval results object.",
                              hint=_RERUN)
    return data


def _check_version(path: Path, data: dict[str, Any]) -> None:
    version = data.get("lm_eval_version")
    if version is None:
        return  # lm-eval before 0.4.3 did not record it; the layout checks above still apply
    if not str(version).startswith(SUPPORTED_SERIES + "."):
        raise ImportFileError(f"'{path}': key 'lm_eval_version' is {version!r}; evalkit reads the layout of "
                              f"lm-eval {SUPPORTED_SERIES}.x.", hint="Re-run with lm-eval 0.4.x, or convert the file.")


def _read_task(path: Path, data: dict[str, Any], name: str) -> LmEvalTaskOutput:
    config = data["configs"][name]
    results = data["results"].get(name)
    if not isinstance(config, dict) or not isinstance(results, dict):
        raise ImportFileError(f"'{path}': task '{name}' is in 'configs' but has no entry in 'results'.",
                              hint=_RERUN)
    samples_path = samples_file(path, name)
    if not samples_path.is_file():
        if not data.get("task_hashes"):
            raise ImportFileError(f"'{path}' was written without per-document samples (lm-eval ran without "
                                  f"--log_samples; no '{samples_path.name}' beside it). evalkit compares "
                                  "documents one by one and needs them.", hint=_RERUN)
        raise ImportFileError(f"The samples file of task '{name}' is missing: '{samples_path}' (named by "
                              f"'{path}').", hint="Copy lm-eval's whole --output_path folder, samples files included.")
    _check_metadata(path, name, config)
    directions = data["higher_is_better"].get(name) or {}
    if not isinstance(directions, dict):
        raise ImportFileError(f"'{path}': key 'higher_is_better.{name}' is a {type(directions).__name__}, not an "
                              "object of metric directions.", hint=UNCHANGED_HINT)
    samples = _read_samples(samples_path, rolling=config.get("output_type") == "loglikelihood_rolling")
    _check_task_hash(path, data, name, samples_path, samples)
    _check_clusters(path, name, config, samples_path, samples)
    problem = aggregate_problem(path, name, results, config, samples_path, samples)
    if problem:
        raise ImportFileError(problem, hint=UNCHANGED_HINT)
    return LmEvalTaskOutput(name=name, config=config, results=results,
                            num_fewshot=_fewshot(path, data, name, config),
                            higher_is_better={str(k): bool(v) for k, v in directions.items()},
                            samples_path=samples_path, samples=samples)


def samples_file(results_path: Path, task: str) -> Path:
    """Where lm-eval wrote a task's samples for this results file."""
    return results_path.parent / f"samples_{task}_{_date_id(results_path) or ''}.jsonl"


def _date_id(path: Path) -> str | None:
    """The `<date>` of `results_<date>.json` / `<stem>_<date>.json` (ISO time with ':' as '-')."""
    match = re.search(r"_(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}(?:\.\d+)?)$", path.stem)
    return match.group(1) if match and path.suffix == ".json" else None


def _read_samples(path: Path, *, rolling: bool = False) -> list[dict[str, Any]]:
    samples: list[dict[str, Any]] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFileError(f"Cannot read '{path}': {exc}.", hint="Check the path and its permissions.") from exc

    def bad_line(number: int, exc: json.JSONDecodeError) -> ImportFileError:
        return ImportFileError(f"'{path}', line {number}: not valid JSON (truncated? {exc.msg}).", hint=_RERUN)

    lines_of: dict[tuple[int, str], int] = {}  # (doc_id, filter) -> the line that logged it
    for number, sample in json_lines(lines, bad_line):
        _check_sample(path, number, sample, rolling)
        _check_unique(path, number, sample, lines_of)
        samples.append(sample)
    if not samples:
        raise ImportFileError(f"'{path}' holds no samples.", hint=_RERUN)
    return samples


def _check_sample(path: Path, number: int, sample: Any, rolling: bool) -> None:
    if not isinstance(sample, dict):
        raise ImportFileError(f"'{path}', line {number}: not a JSON object.", hint=_RERUN)
    missing = [k for k in SAMPLE_KEYS if k not in sample]
    if missing:
        what = "document hash" if "doc_hash" in missing else "key"
        raise ImportFileError(f"'{path}', line {number}: the sample has no {what} "
                              f"({', '.join(repr(k) for k in missing)}).",
                              hint="Samples need lm-eval's doc_hash / prompt_hash (lm-eval 0.4.3 and later). " + _RERUN)
    doc_id = sample["doc_id"]
    if not isinstance(doc_id, int) or isinstance(doc_id, bool) or not isinstance(sample["doc_hash"], str) \
            or not sample["doc_hash"]:
        raise ImportFileError(f"'{path}', line {number}: 'doc_id' must be an integer and 'doc_hash' a non-empty "
                              f"string (doc_id is {_shown(doc_id)}).", hint=_RERUN)
    if not DOC_ID_RANGE[0] <= doc_id <= DOC_ID_RANGE[1]:
        raise ImportFileError(f"'{path}', line {number}: doc_id {_shown(doc_id)} is outside the 64-bit integer "
                              "range a document id is stored in.", hint=_RERUN)
    if not isinstance(sample["metrics"], list) or not all(isinstance(m, str) for m in sample["metrics"]) \
            or not isinstance(sample["filter"], str):
        raise ImportFileError(f"'{path}', line {number}: 'metrics' must be a list of metric names and 'filter' "
                              "a filter name.", hint=_RERUN)
    absent = [m for m in sample["metrics"] if m not in sample]
    if absent:
        raise ImportFileError(f"'{path}', line {number}: the sample lists metric(s) {', '.join(absent)} "
                              "but holds no value for them.", hint=_RERUN)
    problem = sample_score_problem(path, number, sample, rolling=rolling)
    if problem:
        raise ImportFileError(problem, hint=UNCHANGED_HINT)


def _check_unique(path: Path, number: int, sample: dict[str, Any], lines_of: dict[tuple[int, str], int]) -> None:
    """lm-eval logs each document once per filter: a second sample of one (doc_id, filter) would be
    merged into the first document and scored twice."""
    key = (sample["doc_id"], sample["filter"])
    if key in lines_of:
        raise ImportFileError(f"'{path}', line {number}: doc_id {sample['doc_id']} (filter '{sample['filter']}') "
                              f"was already logged on line {lines_of[key]}; lm-eval logs each document once.",
                              hint=UNCHANGED_HINT)
    lines_of[key] = number


def _check_metadata(path: Path, name: str, config: dict[str, Any]) -> None:
    metadata = config.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise ImportFileError(f"'{path}': key 'configs.{name}.metadata' is a {type(metadata).__name__}, not an "
                              "object of task metadata.", hint=UNCHANGED_HINT)


def _shown(value: Any) -> str:
    """A value for a message, a huge integer by its digit count (10**400 would fill the screen)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**20:
        return f"an integer of {len(str(abs(value)))} digits"
    return repr(value)[:40]


def _check_task_hash(path: Path, data: dict[str, Any], name: str, samples_path: Path,
                     samples: list[dict[str, Any]]) -> None:
    """lm-eval records a hash over every sample's hashes: a samples file cut short at a line boundary,
    or one from another run, fails it."""
    expected = (data.get("task_hashes") or {}).get(name)
    if not expected:
        return
    joined = "".join(str(s["doc_hash"]) + str(s["prompt_hash"]) + str(s.get("target_hash", "")) for s in samples)
    if hashlib.sha256(joined.encode("utf-8")).hexdigest() != expected:
        raise ImportFileError(f"'{samples_path}' does not match 'task_hashes.{name}' of '{path}' ({len(samples)} "
                              "samples read): it is truncated, edited or from another lm-eval run.",
                              hint="Import the samples file that lm-eval wrote together with this results file.")


def _check_clusters(path: Path, name: str, config: dict[str, Any], samples_path: Path,
                    samples: list[dict[str, Any]]) -> None:
    """A task whose recorded config names `metadata.cluster` needs that field in every logged `doc`."""
    metadata = config.get("metadata")
    if (problem := cluster_key_problem(metadata)):
        raise ImportFileError(f"'{path}': key 'configs.{name}.metadata.cluster' {problem}.", hint=_RERUN)
    field = cluster_field(metadata)
    if field is None:
        return
    for sample in samples:
        if (problem := cluster_problem(sample.get("doc"), field)):
            raise ImportFileError(f"'{samples_path}', document {sample['doc_id']}: {problem}.",
                                  hint="lm-eval logs each document as `doc`: import the samples file it wrote "
                                       "for this task, or fix the field named by the task's metadata.cluster.")


def _fewshot(path: Path, data: dict[str, Any], name: str, config: dict[str, Any]) -> int:
    value = data["n-shot"].get(name, config.get("num_fewshot", 0))
    if value is None:
        value = 0
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= DOC_ID_RANGE[1]:
        raise ImportFileError(f"'{path}': key 'n-shot.{name}' is {value!r}, not a few-shot count.", hint=_RERUN)
    return value


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)
