"""Where task code may come from: only from inside the directory a task was found under.

A task's root is the source directory it was found in (an --include-path directory, an
EVALKIT_TASKS_PATH entry, a directory an installed package registered, evalkit's built-ins) or,
for a YAML file given by path outside every source, the folder of that path as written (a symlinked
YAML does not make its target's folder the root). Every `include:` and every `!function` module
must resolve, after following symlinks, to a file inside the root (`evalkit lm-eval` holds lm-eval's
own loader to the same rule: evalkit.tasks.hooks.lm_eval_hook).
"""

from __future__ import annotations

import os
from pathlib import Path

from evalkit.errors import TaskError


def real(path: Path) -> Path:
    """The path with every symlink and `..` resolved (what the file system will actually open)."""
    return Path(os.path.realpath(path))


def is_inside(path: Path, root: Path) -> bool:
    """True when `path` (symlinks followed) lies inside `root` (symlinks followed)."""
    return real(path).is_relative_to(real(root))


def require_inside(path: Path, root: Path, *, yaml_path: Path, key: str, reference: str) -> Path:
    """`path` resolved, or a TaskError naming the YAML, the key and the reference that escapes `root`."""
    if not is_inside(path, root):
        raise TaskError(
            f"Task file '{yaml_path}', key '{key}': `{reference}` points outside the task directory "
            f"'{real(root)}' (it resolves to '{real(path)}'); evalkit refuses to read or import it.",
            hint="Task code and includes must live inside a directory you named (--include-path, "
                 "EVALKIT_TASKS_PATH, the folder of the YAML you gave) or one an installed package "
                 "registered; copy the file there.")
    return real(path)
