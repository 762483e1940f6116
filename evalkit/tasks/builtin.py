"""evalkit's own tasks, exposed through the same entry-point group as third-party task packages."""

from __future__ import annotations

from pathlib import Path

_SOURCE_CHECKOUT = Path(__file__).resolve().parents[2] / "tasks"  # editable install / source tree
_WHEEL = Path(__file__).resolve().parents[1] / "builtin_tasks"  # tasks/ as shipped inside a wheel


def task_dirs() -> list[Path]:
    """Directories holding evalkit's built-in task definitions (entry point `evalkit.tasks:builtin`)."""
    for candidate in (_SOURCE_CHECKOUT, _WHEEL):
        if candidate.is_dir():
            return [candidate]
    return []
