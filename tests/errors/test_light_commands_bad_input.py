"""Bad input to the commands that read stored results (results list/show/export, report, compare,
gate), tried as a new user would: exit 2, a message naming the culprit, no traceback, and no
stored file changed or created."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from tests.compare.synthetic import CellSpec, add_run, binary, new_store, standard_store


@dataclass
class Case:
    name: str
    build: Callable[[Path, Path], list[object]]  # (tmp_path, store) -> argv
    message: str
    env: dict[str, Callable[[Path, Path], str]] = field(default_factory=dict)  # name -> (tmp_path, store) -> value


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
    Case("store given as an empty string", lambda t, s: ["results", "list", "--store", ""], "empty text"),
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


def _dev_null_link(tmp: Path) -> Path:
    link = tmp / "null.db"
    if not link.is_symlink():
        link.symlink_to("/dev/null")
    return link


def _fifo(tmp: Path, name: str = "fifo.db") -> Path:
    if not (tmp / name).exists():
        os.mkfifo(tmp / name)
    return tmp / name


def _baseline(tmp: Path, store: Path, edit: Callable[[dict], None], name: str = "edited.json") -> Path:
    """A JSON export of run 'base', edited (the store is read through its own connection, not the CLI)."""
    from evalkit.store.export import run_document
    from evalkit.store.schema import open_for_reading

    conn = open_for_reading(store)
    try:
        doc = run_document(conn, "00000000-base")
    finally:
        conn.close()
    edit(doc)
    (tmp / name).write_text(json.dumps(doc), encoding="utf-8")
    return tmp / name


def _gate(baseline: Path, store: Path) -> list[object]:
    return ["gate", "--baseline", baseline, "--candidate", "drop", "--store", store]


ADVERSARIAL = [
    *[Case(f"{name}: store is a symlink to /dev/null", lambda t, s, a=args: [*a, "--store", _dev_null_link(t)],
           "null.db' is not a file") for name, args in READERS.items()],
    *[Case(f"{name}: store is a FIFO", lambda t, s, a=args: [*a, "--store", _fifo(t)], "fifo.db' is not a file")
      for name, args in READERS.items()],
    *[Case(f"{name}: store path with a trailing slash", lambda t, s, a=args: [*a, "--store", f"{s}/"],
           "ends with a path separator") for name, args in READERS.items()],
    Case("EVALKIT_STORE names a folder with a trailing slash", lambda t, s: ["results", "list"],
         "'reports/' ends with a path separator", env={"EVALKIT_STORE": lambda t, s: "reports/"}),
    Case("compare: a --metric no run has",
         lambda t, s: ["compare", "base", "drop", "--metric", "acc_norm", "--store", s],
         "--metric 'acc_norm' is not reported by base, drop; they report: acc."),
    Case("gate: a misspelt --metric", lambda t, s: ["gate", "--baseline", "base", "--candidate", "drop", "--metric",
                                                   "accc", "--store", s], "Did you mean: acc?"),
    Case("gate: a baseline whose cells list is empty",
         lambda t, s: _gate(_baseline(t, s, lambda d: d.update(cells=[], metrics=[], samples=[])), s),
         "holds no results"),
    Case("compare: a baseline with a duplicated doc_id",
         lambda t, s: ["compare", _baseline(t, s, lambda d: d["samples"].append(dict(d["samples"][0]))), "drop",
                       "--store", s], "appears more than once"),
    Case("gate: a baseline doc_id too large for SQLite",
         lambda t, s: _gate(_baseline(t, s, lambda d: d["samples"][0].update(doc_id=10 ** 30)), s), "too large"),
    Case("gate: --format junit -o under a path whose parent is a file",
         lambda t, s: ["gate", "--baseline", "base", "--candidate", "drop", "--format", "junit",
                       "-o", _file(t, "afile") / "gate.xml", "--store", s], "afile' is a file, not a folder"),
    Case("results export: -o under a file",
         lambda t, s: ["results", "export", "base", "-o", _file(t, "afile") / "x.json", "--store", s],
         "is a file, not a folder"),
    Case("compare: -o is a FIFO, with --force", lambda t, s: ["compare", "base", "drop", "-o", _fifo(t, "out.md"),
                                                              "--force", "--store", s], "is not a regular file"),
    Case("gate: GITHUB_STEP_SUMMARY is a directory", lambda t, s: ["gate", "--baseline", "base", "--candidate",
                                                                  "noise", "--store", s],
         "$GITHUB_STEP_SUMMARY", env={"GITHUB_STEP_SUMMARY": lambda t, s: str(_dir(t, "summary"))}),
    Case("compare: GITHUB_STEP_SUMMARY is the store", lambda t, s: ["compare", "base", "noise", "--store", s],
         "is an SQLite database", env={"GITHUB_STEP_SUMMARY": lambda t, s: str(s)}),
    Case("results show: an empty run reference", lambda t, s: ["results", "show", "", "--store", s],
         "an empty run reference"),
    Case("compare: an existing file that is not a results file",
         lambda t, s: ["compare", "base", _file(t, "notes.txt").name, "--store", s],
         "'notes.txt' is a file, but not a results file: those end in .json, .parquet or .csv"),
    Case("gate: a directory (no suffix, no slash) as the baseline",
         lambda t, s: ["gate", "--baseline", _dir(t, "ci").name, "--store", s], "'ci' is a directory"),
    Case("gate: a directory with a trailing slash as the baseline (checked by the option type)",
         lambda t, s: ["gate", "--baseline", f"{_dir(t, 'ci')}/", "--store", s], "Invalid value for '--baseline'"),
    Case("compare: a run with itself", lambda t, s: ["compare", "base", "00000000", "--store", s],
         "'base' and '00000000' name the same run (00000000-base)"),
]


@pytest.mark.parametrize("case", ADVERSARIAL, ids=[c.name for c in ADVERSARIAL])
def test_adversarial_input_to_a_reading_command(case: Case, tmp_path: Path, evalkit_cli,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    store = standard_store(tmp_path / "store.db")
    argv = case.build(tmp_path, store)
    for name, value in case.env.items():
        monkeypatch.setenv(name, value(tmp_path, store))
    monkeypatch.chdir(tmp_path)
    before = _fingerprint(tmp_path)
    result = evalkit_cli(*argv)
    assert result.exit_code == 2, result.output
    assert case.message in result.stderr, result.output
    assert "Traceback" not in result.output and "Unexpected" not in result.output
    assert result.stdout == ""  # refused before any work: no table printed first
    assert _fingerprint(tmp_path) == before


def test_a_store_locked_past_the_busy_timeout_is_a_run_time_failure(tmp_path: Path, evalkit_cli,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process holds the store's lock (mid-write) for longer than evalkit waits: exit 1 (retry
    later), a message saying so; it was reported as 'not a readable SQLite database ... restore it'."""
    import evalkit.store.schema

    store = standard_store(tmp_path / "store.db")
    monkeypatch.setattr(evalkit.store.schema, "BUSY_TIMEOUT_S", 0.2)
    holder = sqlite3.connect(store, isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("UPDATE meta SET value = value")
        before = store.read_bytes()
        for argv in (["results", "list"], ["compare", "base", "drop"], ["gate", "--baseline", "base"]):
            result = evalkit_cli(*argv, "--store", store)
            assert result.exit_code == 1, result.output
            assert f"Results database '{store}' is locked by another process (still locked after 0.2 s)" \
                   in result.stderr and "Traceback" not in result.output
        assert store.read_bytes() == before
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@pytest.mark.parametrize("damage", ["json-bom", "csv-bom", "parquet-without-metadata"])
def test_baselines_that_editors_and_tools_rewrite_still_gate(tmp_path: Path, evalkit_cli, damage: str) -> None:
    """A byte-order mark, or Parquet metadata dropped by another tool, is not an error: the gate
    still finds the regression (exit 1)."""
    store = standard_store(tmp_path / "store.db")
    fmt = {"json-bom": "json", "csv-bom": "csv", "parquet-without-metadata": "parquet"}[damage]
    path = tmp_path / f"base.{fmt}"
    assert evalkit_cli("results", "export", "base", "-o", path, "--store", store).exit_code == 0
    files = [path] if fmt == "json" else [path, tmp_path / f"base.samples.{fmt}"]
    for file in files:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            pq.write_table(pq.read_table(file).replace_schema_metadata(None), file)
        else:
            file.write_bytes(b"\xef\xbb\xbf" + file.read_bytes())
    result = evalkit_cli("gate", "--baseline", path, "--candidate", "drop", "--store", store)
    assert result.exit_code == 1, result.output
    assert "Gate NO-GO" in result.stdout


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
    listed = evalkit_cli("results", "list", "--store", tmp_path / "s.db")
    assert "[red]x[/red]" in listed.stdout  # the table cell too (markup used to be eaten)


def test_stored_control_characters_are_shown_escaped_not_sent_to_the_terminal(tmp_path: Path, evalkit_cli) -> None:
    conn = new_store(tmp_path / "s.db")  # a store written by another tool, or before names were checked
    add_run(conn, "11111111-x", [CellSpec("rte", {"acc": binary(10, 5)})], name="esc\x1b[31mRED")
    conn.close()
    for args in (("results", "list"), ("results", "show", "11111111")):
        result = evalkit_cli(*args, "--store", tmp_path / "s.db")
        assert result.exit_code == 0 and "\x1b" not in result.stdout and "esc\\x1b[31mRED" in result.stdout
