"""Every command with -o (report, compare, gate, results export) writes through evalkit.outputs:
never over a database or one of its own inputs, over an existing file only with --force, and
through a temporary file so a failed write leaves the old file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

COMMANDS = {
    "report": ["report", "base", "drop"],
    "compare": ["compare", "base", "noise"],
    "gate": ["gate", "--baseline", "base", "--candidate", "noise", "--inconclusive", "pass"],
    "export": ["results", "export", "base"],
}


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("force", [False, True])
def test_output_onto_the_store_is_refused(store: Path, evalkit_cli, command: str, force: bool) -> None:
    before = store.read_bytes()
    result = evalkit_cli(*COMMANDS[command], "--format", "json", "-o", store, "--store", store,
                         *(["--force"] if force else []))
    assert result.exit_code == 2, result.output
    assert str(store) in result.stderr and "Nothing was written" in result.stderr
    assert "Traceback" not in result.output
    assert store.read_bytes() == before
    assert evalkit_cli("results", "list", "--store", store).exit_code == 0


@pytest.mark.parametrize("command", COMMANDS)
def test_output_onto_another_database_is_refused(store: Path, tmp_path: Path, evalkit_cli, command: str) -> None:
    other = tmp_path / "other.db"
    other.write_bytes(store.read_bytes())
    result = evalkit_cli(*COMMANDS[command], "--format", "json", "-o", other, "--force", "--store", store)
    assert result.exit_code == 2 and "is an SQLite database" in result.stderr
    assert other.read_bytes() == store.read_bytes()


@pytest.mark.parametrize("command", COMMANDS)
def test_existing_file_needs_force(store: Path, tmp_path: Path, evalkit_cli, command: str) -> None:
    target = tmp_path / "out.json"
    target.write_text("keep me", encoding="utf-8")
    args = [*COMMANDS[command], "--format", "json", "-o", target, "--store", store]
    refused = evalkit_cli(*args)
    assert refused.exit_code == 2 and "already exists" in refused.stderr and "--force" in refused.stderr
    assert target.read_text(encoding="utf-8") == "keep me"
    replaced = evalkit_cli(*args, "--force")
    assert replaced.exit_code == 0, replaced.output
    assert json.loads(target.read_text(encoding="utf-8"))["format"].startswith("evalkit-")
    assert _leftovers(tmp_path) == []


def test_output_onto_a_baseline_file_it_reads_is_refused(store: Path, tmp_path: Path, evalkit_cli) -> None:
    baseline = tmp_path / "base.json"
    assert evalkit_cli("results", "export", "base", "-o", baseline, "--store", store).exit_code == 0
    before = baseline.read_bytes()
    result = evalkit_cli("report", baseline, "drop", "--format", "json", "-o", baseline, "--force",
                         "--store", store)
    assert result.exit_code == 2 and "also an input of this command" in result.stderr
    assert baseline.read_bytes() == before


def test_a_failed_render_leaves_the_old_file(store: Path, tmp_path: Path, evalkit_cli,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import evalkit.cli.report_output as report_output

    real_render = report_output.render

    def broken(doc, fmt):
        if fmt == "markdown":
            raise RuntimeError("renderer crashed half-way")
        return real_render(doc, fmt)

    monkeypatch.setattr(report_output, "render", broken)
    target = tmp_path / "r.md"
    target.write_text("old report", encoding="utf-8")
    result = evalkit_cli("report", "base", "-o", target, "--force", "--store", store)
    assert result.exit_code == 1 and "RuntimeError: renderer crashed half-way" in result.stderr
    assert "Traceback" not in result.output
    assert target.read_text(encoding="utf-8") == "old report"
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("command", COMMANDS)
def test_output_that_is_a_directory(store: Path, tmp_path: Path, evalkit_cli, command: str) -> None:
    (tmp_path / "out").mkdir()
    result = evalkit_cli(*COMMANDS[command], "-o", tmp_path / "out", "--store", store)
    assert result.exit_code == 2 and "is a directory" in result.stderr and str(tmp_path / "out") in result.stderr


@pytest.mark.parametrize("command", COMMANDS)
def test_output_below_a_file(store: Path, tmp_path: Path, evalkit_cli, command: str) -> None:
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    result = evalkit_cli(*COMMANDS[command], "-o", tmp_path / "notes.txt" / "r.json", "--store", store)
    assert result.exit_code == 2, result.output
    assert "notes.txt" in result.stderr and "Traceback" not in result.output
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "x"


@pytest.mark.parametrize("command", COMMANDS)
def test_output_into_a_new_folder_is_created(store: Path, tmp_path: Path, evalkit_cli, command: str) -> None:
    target = tmp_path / "new" / "deeper" / "out.json"
    result = evalkit_cli(*COMMANDS[command], "-o", target, "--store", store)
    assert result.exit_code == 0, result.output
    assert target.is_file() and _leftovers(target.parent) == []


@pytest.mark.parametrize("command", COMMANDS)
def test_an_unwritable_location_is_exit_2_and_keeps_the_old_file(store: Path, tmp_path: Path, evalkit_cli,
                                                                 monkeypatch: pytest.MonkeyPatch,
                                                                 command: str) -> None:
    def denied(source: object, target: object) -> None:  # what a read-only directory does to the rename
        raise PermissionError(13, "Permission denied", str(target))

    target = tmp_path / "out.json"
    target.write_text("old", encoding="utf-8")
    monkeypatch.setattr(os, "replace", denied)
    result = evalkit_cli(*COMMANDS[command], "-o", target, "--force", "--store", store)
    assert result.exit_code == 2, result.output
    assert str(target) in result.stderr and "Permission denied" in result.stderr
    assert "Traceback" not in result.output
    assert target.read_text(encoding="utf-8") == "old" and _leftovers(tmp_path) == []


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_exit_2(store: Path, tmp_path: Path, evalkit_cli) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        result = evalkit_cli("report", "base", "-o", folder / "r.md", "--store", store)
    finally:
        folder.chmod(0o755)
    assert result.exit_code == 2 and str(folder / "r.md") in result.stderr
    assert list(folder.iterdir()) == []


def test_output_onto_the_samples_file_of_a_csv_baseline_is_refused(store: Path, tmp_path: Path,
                                                                   evalkit_cli) -> None:
    baseline = tmp_path / "base.csv"
    assert evalkit_cli("results", "export", "base", "-o", baseline, "--store", store).exit_code == 0
    samples = tmp_path / "base.samples.csv"
    before = samples.read_bytes()
    result = evalkit_cli("compare", baseline, "drop", "--format", "markdown", "-o", samples, "--force",
                         "--store", store)
    assert result.exit_code == 2 and "also an input of this command" in result.stderr
    assert samples.read_bytes() == before


@pytest.mark.parametrize(("args", "needle"), [
    (["results", "export", "base", "--format", "csv", "-o", "b.json"], "--format csv, but its suffix is '.json'"),
    (["results", "export", "base", "--format", "parquet", "-o", "b.csv"], "--format parquet, but its suffix is '.csv'"),
    (["results", "export", "base", "-o", "b.txt"], "('.txt'): a baseline is read back by its suffix"),
    (["compare", "base", "noise", "-o", "r.csv"], "its suffix '.csv' is not a report format"),
    (["gate", "--baseline", "base", "--candidate", "noise", "--format", "json", "-o", "r.md"],
     "names the markdown format, but --format json"),
    (["report", "base", "-o", "r.junit"], "its suffix '.junit' is not a report format"),
])
def test_an_output_suffix_that_contradicts_the_format_is_refused_and_nothing_is_written(
        store: Path, evalkit_cli, tmp_path: Path, args: list[str], needle: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    args = [*args[:-1], str(out / args[-1])]
    result = evalkit_cli(*args, "--store", store)
    assert result.exit_code == 2 and needle in result.stderr and "Traceback" not in result.output, result.output
    assert list(out.iterdir()) == []


def test_a_suffix_of_no_known_format_with_an_explicit_format_is_written(store: Path, evalkit_cli, tmp_path: Path) -> None:
    assert evalkit_cli("compare", "base", "noise", "--format", "json", "-o", tmp_path / "r.log", "--store", store).exit_code == 0
    assert evalkit_cli("results", "export", "base", "--format", "json", "-o", tmp_path / "b.txt", "--store", store).exit_code == 0
    assert (tmp_path / "r.log").read_text().startswith("{") and (tmp_path / "b.txt").read_text().startswith("{")
