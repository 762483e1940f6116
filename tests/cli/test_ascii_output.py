"""An ASCII-only stdout (PYTHONIOENCODING=ascii, a C locale without UTF-8 mode) degrades evalkit's output
to ASCII ("->" for "→", an ASCII box, escapes for stored text): no crash, the same exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.compare.synthetic import CellSpec, add_run, binary, new_store


@pytest.fixture
def two_runs(tmp_path: Path) -> Path:
    """Two complete runs with the same per-document scores (a gate passes); one is named in non-ASCII."""
    path = tmp_path / "store.db"
    conn = new_store(path)
    try:
        for run_id, name, day in (("00000000-base", "base", 1), ("11111111-again", "café ±", 2)):
            add_run(conn, run_id, [CellSpec("sst2", {"acc": binary(40, 30)})], name=name,
                    created_at=f"2025-01-0{day}T00:00:00+00:00")
    finally:
        conn.close()
    return path


def evalkit(*args: object, encoding: str) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONIOENCODING": encoding, "COLUMNS": "100", "PYTHONUTF8": "0"}
    env.pop("EVALKIT_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "evalkit", *map(str, args)], env=env, capture_output=True,
                          timeout=120, check=False)


COMMANDS = [
    ("gate", "--baseline", "base", "--candidate", "11111111", "--max-drop", "0.2", "--store", "{store}"),
    ("results", "list", "--store", "{store}"),
    ("results", "show", "11111111", "--store", "{store}"),
    ("tasks", "list"),
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_ascii_stdout_degrades_without_changing_the_exit_code(two_runs: Path, command: tuple[str, ...]) -> None:
    args = [a.format(store=two_runs) for a in command]
    utf8 = evalkit(*args, encoding="utf-8")
    ascii_only = evalkit(*args, encoding="ascii")
    assert utf8.returncode == 0, utf8.stderr.decode()
    assert ascii_only.returncode == utf8.returncode, ascii_only.stderr.decode("ascii", "replace")
    out, err = ascii_only.stdout.decode("ascii"), ascii_only.stderr.decode("ascii")  # nothing but ASCII
    assert "Traceback" not in out + err and "Unexpected" not in err
    assert "─" not in out and "━" not in out  # an ASCII box
    if command[0] == "gate":
        assert "->" in out or "+/-" in out
    if command[:2] == ("results", "list"):
        assert "caf\\xe9 +/-" in out  # stored text: its symbol swapped, other characters escaped


def test_ascii_stdout_shows_the_gate_arrow_as_ascii(two_runs: Path) -> None:
    result = evalkit("compare", "base", "11111111", "--store", two_runs, encoding="ascii")
    assert result.returncode == 0, result.stderr.decode("ascii", "replace")
    text = result.stdout.decode("ascii")
    assert "d [95% CI]" in text and "Δ" not in text
