"""Provenance: which software produced a result (package versions, evalkit's version, the git
commit of the working directory). One room for these facts, used by the runner (run records)
and by fine-tuning (adapter cache keys), so neither leaf nor trunk imports the other for them.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

# Distributions whose versions change what a result means: key in the record -> distribution.
TRACKED_DISTRIBUTIONS: tuple[tuple[str, str], ...] = (
    ("lm_eval", "lm_eval"), ("transformers", "transformers"), ("torch", "torch"), ("peft", "peft"))


def versions() -> dict[str, str | None]:
    """evalkit's version and the installed versions of the tracked distributions (None where
    one is not installed)."""
    from importlib.metadata import PackageNotFoundError, version

    found: dict[str, str | None] = {"evalkit": evalkit_version()}
    for key, dist in TRACKED_DISTRIBUTIONS:
        try:
            found[key] = version(dist)
        except PackageNotFoundError:
            found[key] = None
    return found


def evalkit_version() -> str:
    """evalkit's own version (the package attribute, so it works from a source checkout too)."""
    from evalkit._version import __version__

    return str(__version__)


def git_commit(directory: Path | None = None) -> str | None:
    """HEAD of the working directory's git repository, with '-dirty' when it has changes."""
    cwd = str(directory or Path.cwd())
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=5)
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return head.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.TimeoutExpired):
        return None
