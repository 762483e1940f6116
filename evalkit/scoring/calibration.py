"""The bound on the bf16 error of a decision, measured per model and dtype, cached.

A decision compares two choices of one document: v_i/L_i against v_j/L_j (L = 1 for acc, the
choice's length for acc_norm / acc_bytes). The choices share their context, so much of bf16's
error (hidden states, the log-softmax normaliser) cancels in the difference: what is measured is
the error of the difference itself. A calibration sample (whole documents, the first
CALIBRATION_SIZE requests of each task not yet calibrated for this model) is scored both ways;
for every pair of choices and every decision, |(bf16 diff) - (float32 diff)| is divided by
sqrt(n_i/L_i^2 + n_j/L_j^2) (n: continuation tokens; independent per-token errors add in
quadrature) and the largest quotient is the coefficient c. The bound applied to a document of
task T is SAFETY_FACTOR * c_T * sqrt(n_i/L_i^2 + n_j/L_j^2), c_T measured on T's own sample (a
task's prompts and answer lengths are what set its error; the largest coefficient over all tasks
is the fallback for a task without one). Bounds are kept in EVALKIT_HOME/precision_bounds.json
by model fingerprint, device kind and fast dtype, and merged (per task, the larger coefficient
wins) as more tasks are calibrated, so a task's bound does not depend on which tasks ran before.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from evalkit.home import evalkit_home

log = logging.getLogger(__name__)

CALIBRATION_SIZE = 64
SAFETY_FACTOR = 3.0
# A floor on the coefficient: float32 itself is not exact across batch shapes (~1e-5 nats).
MIN_COEFFICIENT = 1e-4
FACTOR_ENV = "EVALKIT_FAST_EXACT_FACTOR"
SIZE_ENV = "EVALKIT_FAST_EXACT_CALIBRATION"


@dataclass(frozen=True)
class ErrorBound:
    """pair(n_i, L_i, n_j, L_j) = factor * coefficient * sqrt(n_i/L_i^2 + n_j/L_j^2) bounds the bf16
    error of v_i/L_i - v_j/L_j."""

    coefficient: float
    max_abs_error: float  # the largest |bf16 - float32| seen on one request (for the record)
    factor: float
    calibration_size: int  # requests scored both ways so far
    tasks: tuple[str, ...] = field(default=())
    per_task: tuple[tuple[str, float], ...] = field(default=())  # (task, its own coefficient)

    def pair(self, n_i: int, length_i: float, n_j: int, length_j: float) -> float:
        """The bound for a task without its own coefficient (the largest over all tasks)."""
        return self._pair(self.coefficient, n_i, length_i, n_j, length_j)

    def pair_for(self, task: str) -> Callable[[int, float, int, float], float]:
        """pair() with task `task`'s own coefficient, when it was calibrated."""
        coefficient = dict(self.per_task).get(task, self.coefficient)
        return lambda n_i, length_i, n_j, length_j: self._pair(coefficient, n_i, length_i, n_j, length_j)

    def _pair(self, coefficient: float, n_i: int, length_i: float, n_j: int, length_j: float) -> float:
        scale = math.sqrt(max(1, n_i) / length_i ** 2 + max(1, n_j) / length_j ** 2)
        return self.factor * max(coefficient, MIN_COEFFICIENT) * scale

    def merged(self, other: "ErrorBound") -> "ErrorBound":
        """The bound covering both calibrations (per task, the larger coefficient)."""
        per_task = dict(self.per_task)
        for task, coefficient in other.per_task:
            per_task[task] = max(per_task.get(task, 0.0), coefficient)
        return ErrorBound(max(self.coefficient, other.coefficient), max(self.max_abs_error, other.max_abs_error),
                          max(self.factor, other.factor), self.calibration_size + other.calibration_size,
                          tuple(dict.fromkeys(self.tasks + other.tasks)), tuple(sorted(per_task.items())))

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["tasks"] = list(self.tasks)
        data["per_task"] = dict(self.per_task)
        data["rule"] = ("factor * max(coefficient of the task (per_task), else coefficient, 1e-4) "
                        "* sqrt(n_i/L_i^2 + n_j/L_j^2) per pair of choices")
        return data


@dataclass(frozen=True)
class CalibrationDocument:
    """One document scored both ways: per choice the bf16 and float32 values and token counts, and
    the divisor vectors of its decisions (precision.DecisionRule.choice_lengths)."""

    fast: Sequence[float]
    exact: Sequence[float]
    n_tokens: Sequence[int]
    divisors: Sequence[Sequence[float]]
    task: str = ""


def measure_bound(documents: Sequence[CalibrationDocument], tasks: Sequence[str],
                  factor: float | None = None) -> ErrorBound:
    """The bound from documents scored both ways (see the module's docstring)."""
    if not documents:
        raise ValueError("calibration needs at least one document scored both ways")
    worst = 0.0
    per_task: dict[str, float] = {}
    for doc in documents:
        diffs = [abs(a - b) for a, b in zip(doc.fast, doc.exact)]
        worst = max([worst, *diffs])
        per_task[doc.task] = max(per_task.get(doc.task, 0.0), _pair_coefficient(doc))
    if not math.isfinite(worst):  # a non-finite bf16 value: nothing can be trusted, re-score everything
        per_task = dict.fromkeys(per_task, math.inf)
    return ErrorBound(max(per_task.values()), worst, safety_factor() if factor is None else factor,
                      sum(len(d.fast) for d in documents), tuple(dict.fromkeys(tasks)),
                      tuple(sorted((t, c) for t, c in per_task.items() if t)))


def _pair_coefficient(doc: CalibrationDocument) -> float:
    best = 0.0
    n = len(doc.fast)
    for lengths in doc.divisors:
        for i in range(n):
            for j in range(i + 1, n):
                fast = doc.fast[i] / lengths[i] - doc.fast[j] / lengths[j]
                exact = doc.exact[i] / lengths[i] - doc.exact[j] / lengths[j]
                scale = math.sqrt(max(1, doc.n_tokens[i]) / lengths[i] ** 2 + max(1, doc.n_tokens[j]) / lengths[j] ** 2)
                best = max(best, abs(fast - exact) / scale)
    return best


def safety_factor() -> float:
    """SAFETY_FACTOR, or EVALKIT_FAST_EXACT_FACTOR when set (a number >= 1)."""
    return _env_number(FACTOR_ENV, SAFETY_FACTOR, minimum=1.0)


def calibration_size() -> int:
    """CALIBRATION_SIZE, or EVALKIT_FAST_EXACT_CALIBRATION when set (a whole number >= 1)."""
    return int(_env_number(SIZE_ENV, CALIBRATION_SIZE, minimum=1.0))


def _env_number(name: str, default: float, *, minimum: float) -> float:
    from evalkit.errors import InputError

    text = os.environ.get(name)
    if text is None or text == "":
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < minimum:
        raise InputError(f"${name}={text!r} is not a number of at least {minimum:g}.",
                         hint=f"Unset it to use the default ({default:g}).")
    return value


def bounds_path() -> Path:
    return evalkit_home() / "precision_bounds.json"


def bound_key(fingerprint: str, device: str, fast_dtype: str = "bfloat16") -> str:
    return f"{fingerprint}|{device.split(':', 1)[0]}|{fast_dtype}"


def load_bound(key: str, path: Path | None = None) -> ErrorBound | None:
    """The cached bound for `key` (None when absent or unreadable: it is measured again)."""
    entry = _read(path or bounds_path()).get(key)
    if not isinstance(entry, dict):
        return None
    try:
        per_task = entry.get("per_task", {})
        return ErrorBound(float(entry["coefficient"]), float(entry["max_abs_error"]), float(entry["factor"]),
                          int(entry["calibration_size"]), tuple(str(t) for t in entry.get("tasks", [])),
                          tuple(sorted((str(t), float(c)) for t, c in per_task.items())))
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def save_bound(key: str, bound: ErrorBound, path: Path | None = None) -> None:
    """Store `bound` under `key` (temporary file + rename: a concurrent reader sees old or new)."""
    target = path or bounds_path()
    data = _read(target)
    data[key] = bound.as_dict()
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
        temporary.replace(target)
    except OSError as exc:  # a cache: the run goes on, a later run measures the bound again
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        log.warning("fast-exact: could not keep the measured bound in %s (%s); a later run will calibrate again.",
                    target, exc)


def with_factor(bound: ErrorBound, factor: float) -> ErrorBound:
    """The same measurement under another safety factor (the factor in force for this run wins)."""
    return replace(bound, factor=factor)


def _read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
