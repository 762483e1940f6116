"""evalkit's own tasks, exposed through the same entry-point group as third-party task packages."""

from __future__ import annotations

from pathlib import Path

BUILTIN_TASKS_DIR = Path(__file__).resolve().parents[2] / "tasks"


def task_dirs() -> list[Path]:
    """Directories holding evalkit's built-in task definitions (entry point `evalkit.tasks:builtin`)."""
    return [BUILTIN_TASKS_DIR] if BUILTIN_TASKS_DIR.is_dir() else []
