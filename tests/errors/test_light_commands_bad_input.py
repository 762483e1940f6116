"""Bad input to the commands that read stored results (results list/show/export, report, compare,
gate), tried as a new user would: exit 2, a message naming the culprit, no traceback, and no
stored file changed or created."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from tests.compare.synthetic import CellSpec, add_run, binary, new_store, standard_store


@dataclass
class Case:
    name: str
    build: Callable[[Path, Path], list[object]]  # (tmp_path, store) -> argv
    message: str


def _dir(tmp: Path, name: str = "folder") -> Path:
    (tmp / name).mkdir(exist_ok=True)
    return tmp / name


def _file(tmp: Path, name: str, content: bytes = b"x") -> Path:
    (tmp / name).write_bytes(content)
    return tmp / name


READERS: dict[str, list[str]] = {
    "results list": ["results", "list"],
    "results show": ["results", "show", "base"],
    "results export": ["results", "export", "base"],
    "report": ["report", "base"],
    "compare": ["compare", "base", "drop"],
    "gate": ["gate", "--baseline", "base", "--candidate", "noise"],
}

CASES = [
    *[Case(f"{name}: store is a directory", lambda t, s, a=args: [*a, "--store", _dir(t)], "is a directory")
      for name, args in READERS.items()],
    *[Case(f"{name}: store does not exist", lambda t, s, a=args: [*a, "--store", t / "absent.db"], "does not exist")
      for name, args in READERS.items()],
    *[Case(f"{name}: store is an empty file", lambda t, s, a=args: [*a, "--store", _file(t, "empty.db", b"")],
           "empty file") for name, args in READERS.items()],
    *[Case(f"{name}: store is a text file", lambda t, s, a=args: [*a, "--store", _file(t, "notes.txt", b"hello" * 200)],
           "notes.txt") for name, args in READERS.items()],
    Case("store given as an empty string", lambda t, s: ["results", "list", "--store", ""], "'.'"),
    Case("report: a directory as a run reference", lambda t, s: ["report", f"{_dir(t)}/", "--store", s], "is a directory"),
    Case("compare: a directory as a run reference", lambda t, s: ["compare", "base", _dir(t), "--store", s],
         "is a directory"),
    Case("results export: a directory as a run reference", lambda t, s: ["results", "export", _dir(t), "--store", s],
         "is a directory"),
    Case("report: a file with a foreign suffix", lambda t, s: ["report", "run.txt", "--store", s], "Unknown run 'run.txt'"),
    Case("results show: a missing results file", lambda t, s: ["results", "show", t / "gone.json", "--store", s],
         "gone.json' does not exist"),
    Case("results show: a results file that is not JSON", lambda t, s: ["results", "show", _file(t, "b.json", b"{"),
                                                                         "--store", s], "is not valid JSON"),
    Case("results export: unknown format", lambda t, s: ["results", "export", "base", "--format", "xml", "--store", s],
         "'xml' is not one of"),
    Case("report: --alpha nan", lambda t, s: ["report", "base", "drop", "--alpha", "nan", "--store", s],
         "'nan' is not a finite number"),
    Case("compare: --alpha nan", lambda t, s: ["compare", "base", "drop", "--alpha", "NaN", "--store", s],
         "not a finite number"),
    Case("compare: --alpha inf", lambda t, s: ["compare", "base", "drop", "--alpha", "inf", "--store", s],
         "not a finite number"),
    Case("gate: --alpha nan", lambda t, s: ["gate", "--baseline", "base", "--candidate", "drop", "--alpha", "nan",
                                           "--store", s], "not a finite number"),
    Case("compare: --alpha 0", lambda t, s: ["compare", "base", "drop", "--alpha", "0", "--store", s], "0<x<1"),
    Case("report: -o is an empty string", lambda t, s: ["report", "base", "-o", "", "--store", s], "is a directory"),
    Case("compare: -o is the store", lambda t, s: ["compare", "base", "drop", "-o", s, "--force", "--store", s],
         "Nothing was written"),
    Case("results export: -o is the store", lambda t, s: ["results", "export", "base", "-o", s, "--force",
                                                          "--store", s], "Nothing was written"),
    Case("results show: unknown run", lambda t, s: ["results", "show", "bsae", "--store", s], "Did you mean: base"),
    Case("results show: latest~N beyond the runs", lambda t, s: ["results", "show", "latest~99", "--store", s],
         "latest~99"),
]


def _fingerprint(directory: Path) -> dict[str, str]:
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_to_a_reading_command(case: Case, tmp_path: Path, evalkit_cli,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    store = standard_store(tmp_path / "store.db")
    argv = case.build(tmp_path, store)
    monkeypatch.chdir(tmp_path)
    before = _fingerprint(tmp_path)
    result = evalkit_cli(*argv)
    assert result.exit_code == 2, result.output
    assert case.message in result.stderr, result.output
    assert "Traceback" not in result.output
    assert _fingerprint(tmp_path) == before  # nothing written, nothing created, nothing changed


def test_results_show_reads_an_exported_file(tmp_path: Path, evalkit_cli) -> None:
    store = standard_store(tmp_path / "store.db")
    exported = tmp_path / "base.json"
    assert evalkit_cli("results", "export", "base", "-o", exported, "--store", store).exit_code == 0
    result = evalkit_cli("results", "show", exported, "--store", tmp_path / "no-store.db")
    assert result.exit_code == 0, result.output
    assert "00000000-base base  status=complete" in result.stdout and "0.750 ± 0.060" in result.stdout
    assert not (tmp_path / "no-store.db").exists()


def test_results_show_prints_a_run_name_with_markup_literally(tmp_path: Path, evalkit_cli) -> None:
    conn = new_store(tmp_path / "s.db")
    add_run(conn, "11111111-x", [CellSpec("rte", {"acc": binary(10, 5)})], name="[red]x[/red]")
    conn.close()
    result = evalkit_cli("results", "show", "11111111", "--store", tmp_path / "s.db")
    assert result.exit_code == 0, result.output
    assert "11111111-x [red]x[/red]  status=complete" in result.stdout
