"""Suite names a task list may use: `-t bias` stands for the built-in bias tasks. One home for the
expansion; a suite name is replaced in place by its tasks, duplicates dropped (first one kept)."""

from __future__ import annotations

from typing import Sequence

# suite -> built-in tasks (tasks/README.md documents each and its validity limits)
SUITES: dict[str, tuple[str, ...]] = {
    "bias": ("bbq", "crows_pairs_english", "winogender_all",
             "winobias_pro_type1", "winobias_anti_type1", "winobias_pro_type2", "winobias_anti_type2"),
}


def expand_suites(tasks: Sequence[str]) -> list[str]:
    """The task references with every suite name replaced by its tasks, in order, without repeats."""
    expanded = [name for ref in tasks for name in SUITES.get(ref, (ref,))]
    return list(dict.fromkeys(expanded))
