"""Reading JSON-lines text with the number of the line that is wrong: the one reader behind task
data checks (evalkit.tasks.data_files) and lm-eval sample imports (evalkit.interop.lm_eval_files)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

# Builds the caller's own error for a line that is not JSON: (line number, the decoder's error).
BadLine = Callable[[int, json.JSONDecodeError], Exception]


def json_lines(lines: Iterable[str], bad_line: BadLine) -> Iterator[tuple[int, Any]]:
    """(line number from 1, decoded value) for each non-blank line; a line that is not JSON raises
    `bad_line(number, error)` (chained to the decoder's error)."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise bad_line(number, exc) from exc
        yield number, value
