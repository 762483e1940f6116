"""Shared helpers for the one-off data conversion scripts in tasks/_convert/.

Each ``tasks/_convert/<task>.py`` reads the original files from the shared benchmark data
folder (``$EVALKIT_SHARED_DATA``, default ``/work/shared/data``), writes UTF-8 JSONL (one row
per line, every original row kept, original order) into ``tasks/<task>/``, copies the
dataset's SOURCE.txt there and appends an "evalkit notes" section describing the conversion.

Run one with ``python tasks/_convert/<task>.py``; the scripts are deterministic, so running
them again reproduces byte-identical files.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path

SHARED = Path(os.environ.get("EVALKIT_SHARED_DATA", "/work/shared/data"))
TASKS = Path(__file__).resolve().parents[1]


def task_dir(task: str) -> Path:
    d = TASKS / task
    d.mkdir(parents=True, exist_ok=True)
    return d


def write_jsonl(path: Path, rows: Iterable[dict]) -> int:
    """Write rows as UTF-8 JSONL (ensure_ascii=False, '\\n' line ends). Returns the row count."""
    n = 0
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            line = json.dumps(row, ensure_ascii=False)
            assert "\n" not in line
            f.write(line + "\n")
            n += 1
    return n


def copy_file(src: Path, dst: Path) -> None:
    shutil.copyfile(src, dst)


def count_lines(path: Path) -> int:
    with open(path, "rb") as f:
        return f.read().count(b"\n")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_source(task: str, dataset: str, notes: str, files: list[str]) -> None:
    """Copy <shared>/<dataset>/SOURCE.txt to tasks/<task>/SOURCE.txt and append evalkit notes.

    ``files`` are the data files (relative to tasks/<task>/) whose row count and sha256 are
    listed at the end of the notes.
    """
    d = task_dir(task)
    original = (SHARED / dataset / "SOURCE.txt").read_text(encoding="utf-8").rstrip("\n")
    lines = [original, "", "", "evalkit notes", "-------------", notes.strip("\n"), ""]
    lines.append("  Files written (rows = lines; sha256):")
    for name in files:
        p = d / name
        lines.append(f"    {name}: {count_lines(p)} rows; sha256 {sha256(p)}")
    lines.append(
        f"  Regenerate with: python tasks/_convert/{task}.py "
        "(reads $EVALKIT_SHARED_DATA, default /work/shared/data)."
    )
    (d / "SOURCE.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
