"""The executor contract: what every executor gets (GridWork) and gives (CellRecords as they
finish), and its options, checked when made. The factory lives in the package (evalkit.engine.executors)."""

from __future__ import annotations

import math
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Protocol

from evalkit.errors import InputError
from evalkit.plan import Cell
from evalkit.engine.door import PreparedRun
from evalkit.store import CellRecord
from evalkit.tasks.discovery import TaskRegistry

EXECUTORS = ("local", "ray")


class ProgressSink(Protocol):
    """Receives progress; the CLI shows it with rich, the Python API ignores it."""

    def cell(self, label: str) -> AbstractContextManager[Callable[[str, int, int], None]]: ...

    def message(self, text: str) -> None: ...


class SilentProgress:
    def cell(self, label: str) -> AbstractContextManager[Callable[[str, int, int], None]]:
        return nullcontext(lambda kind, done, total: None)

    def message(self, text: str) -> None:
        return None


@dataclass(frozen=True)
class ExecutorOptions:
    """`--executor`, `--ray-address`, `--cpus-per-cell`, `--gpus-per-cell`; checked when made."""

    kind: str = "local"
    ray_address: str | None = None
    cpus_per_cell: float = 1.0
    gpus_per_cell: float = 0.0
    max_retries: int = 3  # a Ray worker that dies is restarted and its cell retried this many times

    def __post_init__(self) -> None:
        if self.kind not in EXECUTORS:
            raise InputError(f"Unknown --executor '{self.kind}'.", hint=f"Use one of: {', '.join(EXECUTORS)}.")
        if self.kind != "ray":
            for flag, given in (("--ray-address", self.ray_address is not None),
                                ("--cpus-per-cell", self.cpus_per_cell != 1.0),
                                ("--gpus-per-cell", self.gpus_per_cell != 0.0)):
                if given:
                    raise InputError(f"{flag} applies to the Ray executor only.",
                                     hint=f"Add --executor ray, or leave out {flag}.")
        _check_amount("--cpus-per-cell", self.cpus_per_cell, allow_zero=False)
        _check_amount("--gpus-per-cell", self.gpus_per_cell, allow_zero=True)
        if isinstance(self.max_retries, bool) or not isinstance(self.max_retries, int) or self.max_retries < 0:
            raise InputError(f"Invalid max_retries {self.max_retries!r}: a whole number of at least 0.")


def _check_amount(flag: str, value: Any, *, allow_zero: bool) -> None:
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        least = "0" if allow_zero else "more than 0"
        raise InputError(f"Invalid {flag} {value!r}: it must be a finite number of {least}.",
                         hint=f"For example {flag} 1.")


@dataclass
class GridWork:
    """The cells an executor computes (those not reused from the store), with what the door
    prepared: the loaded tasks, the training sources, the registry they came from."""

    cells: list[Cell]
    prepared: PreparedRun
    registry: TaskRegistry
    run_id: str
    total: int = 0  # all cells of the run, reused ones included (for progress)
    reused: int = 0


class Executor(Protocol):
    """Computes cells and yields each CellRecord as it finishes (in any order), never one twice."""

    def records(self, work: GridWork, sink: Any) -> Iterator[CellRecord]: ...
