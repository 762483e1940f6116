"""Aggregate-only lm-eval results (no per-document samples) read as checkpoint series.

Two shapes are read: the 0.3-era file (`{"results": {task: {metric: v, metric_stderr: se}},
"config": {"model_args": "pretrained=ORG/NAME,revision=stepN", "num_fewshot": K}}`) and 0.4's
results_*.json whose samples files are absent (`{"results": {task: {"acc,none": v, ...}}}`).
Each file is one checkpoint; the files of one import form one series. The step comes from
`revision=stepN`, else from `stepN` in the file name, else from the --step option (one file only).
Everything is read and checked here, before the store is opened.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from evalkit.errors import InputError

_STEP = re.compile(r"(?:^|[^A-Za-z0-9])step[_-]?(\d+)(?![0-9])")
_REVISION = re.compile(r"(?:^|,)\s*revision\s*=\s*([^,]+)")
_PRETRAINED = re.compile(r"(?:^|,)\s*pretrained\s*=\s*([^,]+)")


@dataclass(frozen=True)
class AggregateMetric:
    """One aggregate as the file reports it: value and standard error (None when absent)."""

    task: str
    metric: str
    value: float
    stderr: float | None


@dataclass(frozen=True)
class AggregateCheckpoint:
    """One aggregate-only results file: a checkpoint of a series."""

    path: Path
    model: str
    step: int
    num_fewshot: int
    metrics: list[AggregateMetric]
    data: dict[str, Any]


def is_aggregate_only(paths: Iterable[Path]) -> bool:
    """True when every path exists and holds .json files, and no samples_*.jsonl file lies in or beside
    anything named: nothing per-document to read (anything else goes to the per-document importer,
    whose messages say what is missing)."""
    for path in map(Path, paths):
        if path.suffix == ".jsonl" or not (path.is_file() or (path.is_dir() and any(path.rglob("*.json")))):
            return False
        folder = path if path.is_dir() else path.parent
        if any(folder.rglob("samples_*.jsonl")):
            return False
    return True


def aggregate_files(paths: Iterable[Path]) -> list[Path]:
    """The .json files named (a folder: every .json under it, in name order)."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            inside = sorted(p for p in path.rglob("*.json") if p.is_file())
            if not inside:
                raise InputError(f"'{path}' holds no .json results file.",
                                 hint="Give a folder of lm-eval results files (one per checkpoint) or the files.")
            found += inside
        elif not path.is_file():
            raise InputError(f"'{path}' does not exist.", hint="Give lm-eval results files or their folder.")
        else:
            found.append(path)
    return found


def read_series(paths: Iterable[Path], *, step: int | None = None) -> list[AggregateCheckpoint]:
    """Every file read and checked, ordered by step; one model, distinct steps, else InputError."""
    files = aggregate_files(paths)
    if step is not None and len(files) != 1:
        raise InputError(f"--step {step} names the step of one file; {len(files)} files were given.",
                         hint="Give one file with --step, or name the step in each file ('revision=stepN' "
                              "in model_args, or 'stepN' in the file name).")
    checkpoints = sorted((read_checkpoint(f, step=step) for f in files), key=lambda c: c.step)
    _check_one_series(checkpoints)
    return checkpoints


def _check_one_series(checkpoints: list[AggregateCheckpoint]) -> None:
    models = sorted({c.model for c in checkpoints})
    if len(models) > 1:
        raise InputError(f"The files hold more than one model ({', '.join(models)}); a series is one model.",
                         hint="Import each model's folder on its own.")
    seen: dict[tuple[int, int], Path] = {}
    for c in checkpoints:
        key = (c.step, c.num_fewshot)
        if key in seen:
            raise InputError(f"'{c.path}' and '{seen[key]}' are both step {c.step} ({c.num_fewshot}-shot).",
                             hint="Import each checkpoint once; put another evaluation in its own import.")
        seen[key] = c.path


def read_checkpoint(path: Path, *, step: int | None = None) -> AggregateCheckpoint:
    """One aggregate-only results file, checked: results object, numeric aggregates, a step."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"'{path}' cannot be read as JSON: {exc}.", hint="Give lm-eval's results file.") from exc
    if not isinstance(data, dict) or not isinstance(data.get("results"), dict) or not data["results"]:
        raise InputError(f"'{path}' has no 'results' object of tasks.",
                         hint="Give an lm-eval results file ({\"results\": {task: {metric: value}}}).")
    config = data.get("config") if isinstance(data.get("config"), dict) else {}
    args = str(config.get("model_args") or "")
    metrics = [m for task, values in data["results"].items() for m in _task_metrics(path, str(task), values)]
    if not metrics:
        raise InputError(f"'{path}' reports no numeric metric.", hint="Give an lm-eval results file with scores.")
    return AggregateCheckpoint(path=path, model=_model(config, args, data), step=_step(path, args, step),
                               num_fewshot=_fewshot(config, data.get("n-shot")), metrics=metrics, data=data)


def _task_metrics(path: Path, task: str, values: Any) -> list[AggregateMetric]:
    if not isinstance(values, dict):
        raise InputError(f"'{path}': results of task '{task}' are not an object of metrics.",
                         hint="The file is not an lm-eval results file, or it was edited.")
    out = []
    for key, value in values.items():
        metric, _, filter_name = str(key).partition(",")
        if metric.endswith("_stderr") or not _number(value):
            continue
        stderr = values.get(f"{metric}_stderr" + (f",{filter_name}" if filter_name else ""))
        name = metric if filter_name in ("", "none") else f"{metric},{filter_name}"
        out.append(AggregateMetric(task, name, float(value), float(stderr) if _number(stderr) else None))
    return out


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _model(config: dict[str, Any], args: str, data: dict[str, Any]) -> str:
    found = _PRETRAINED.search(args)
    name = found.group(1).strip() if found else str(data.get("model_name") or config.get("model") or "unknown")
    return name


def _step(path: Path, args: str, given: int | None) -> int:
    """revision=stepN, else stepN in the file name, else the given step."""
    revision = _REVISION.search(args)
    for text in ([revision.group(1)] if revision else []) + [path.stem]:
        found = _STEP.search(text)
        if found:
            return int(found.group(1))
    if given is not None:
        return given
    raise InputError(f"'{path}' has aggregate scores only (lm-eval ran without --log_samples: no per-document "
                     "samples) and names no training step ('revision=stepN' in model_args, 'stepN' in the file "
                     "name), so it is neither a run with per-document scores nor a checkpoint of a series.",
                     hint="Re-run lm-eval with --log_samples to import a run compare and gate can use; or give "
                          "--step N (one file at a time) to import its aggregates as a checkpoint.")


def _fewshot(config: dict[str, Any], n_shot: Any) -> int:
    """config.num_fewshot (0.3-era), else the largest of 0.4's per-task "n-shot" values, else 0."""
    shots = [v for v in (n_shot.values() if isinstance(n_shot, dict) else []) if isinstance(v, int)]
    value = config.get("num_fewshot", max(shots, default=0))
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0
