"""One error hierarchy for evalkit, each class carrying the process exit code it maps to.

Exit codes (DESIGN.md): 0 success / gate passed; 1 gate found a regression or a run failed
at run time; 2 bad input (usage, task definition, model path, store, baseline).
"""

from __future__ import annotations


class EvalkitError(Exception):
    """Base class: a user-facing failure with a message that says what, where and what to do."""

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        return self.message if not self.hint else f"{self.message}\n{self.hint}"


class InputError(EvalkitError):
    """Bad input from the user: options, files, references. Exit code 2."""

    exit_code = 2


class TaskError(InputError):
    """A task definition (YAML or data) that cannot be loaded."""


class UnknownTaskError(TaskError):
    """A task name that no discovery source knows."""


class ModelError(InputError):
    """A model spec that cannot be resolved or loaded."""


class StoreError(InputError):
    """A results database that cannot be opened or is not ours."""


class UnknownRunError(InputError):
    """A run reference that matches no stored run."""


class BaselineError(InputError):
    """A baseline results file that is missing or malformed."""


class IncomparableRunsError(InputError):
    """Two runs that cannot be compared item by item."""


class RunFailedError(EvalkitError):
    """A run that failed while computing (model crash, NaN scores). Exit code 1."""

    exit_code = 1


class RegressionFound(EvalkitError):
    """The gate found a significant regression beyond tolerance. Exit code 1."""

    exit_code = 1


class GateInconclusive(EvalkitError):
    """The gate could neither pass nor fail a required row (exit 3 unless --inconclusive maps it)."""

    exit_code = 3


def did_you_mean(name: str, candidates: list[str], n: int = 3) -> str:
    """A 'Did you mean: a, b?' suffix, or '' when nothing is close."""
    import difflib

    close = difflib.get_close_matches(name, candidates, n=n, cutoff=0.6)
    if not close:
        lowered = [c for c in candidates if name.lower() in c.lower()]
        close = lowered[:n]
    return f" Did you mean: {', '.join(close)}?" if close else ""
