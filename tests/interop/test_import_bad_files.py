"""Bad lm-eval files are refused with exit 2, naming the file and what is missing; the store is
left byte for byte as it was (and is not created when it did not exist)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import pytest

from tests.interop.conftest import results_file, samples_file


def _truncate_results(folder: Path) -> str:
    path = results_file(folder)
    path.write_text(path.read_text(encoding="utf-8")[:200], encoding="utf-8")
    return path.name


def _drop_doc_hash(folder: Path) -> str:
    path = samples_file(folder, "toy_sentiment")
    lines = path.read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    del first["doc_hash"]
    path.write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n", encoding="utf-8")
    return "document hash ('doc_hash')"


def _unknown_layout(folder: Path) -> str:
    path = results_file(folder)
    data = json.loads(path.read_text(encoding="utf-8"))
    del data["configs"]
    path.write_text(json.dumps(data), encoding="utf-8")
    return "lacks the key 'configs'"


def _missing_samples(folder: Path) -> str:
    samples_file(folder, "toy_gen").unlink()
    return "samples file of task 'toy_gen' is missing"


def _without_log_samples(folder: Path) -> str:
    for path in folder.rglob("samples_*.jsonl"):
        path.unlink()
    path = results_file(folder)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["task_hashes"] = {}  # what lm-eval writes without --log_samples
    path.write_text(json.dumps(data), encoding="utf-8")
    return "without --log_samples"


def _short_samples(folder: Path) -> str:
    path = samples_file(folder, "toy_sentiment")
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")  # cut at a line boundary
    return "does not match 'task_hashes.toy_sentiment'"


def _newer_layout(folder: Path) -> str:
    path = results_file(folder)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["lm_eval_version"] = "0.5.0"
    path.write_text(json.dumps(data), encoding="utf-8")
    return "'lm_eval_version' is '0.5.0'"


DAMAGE: dict[str, Callable[[Path], str]] = {
    "truncated-results-json": _truncate_results, "samples-without-doc-hash": _drop_doc_hash,
    "unknown-layout": _unknown_layout, "samples-file-missing": _missing_samples,
    "run-without-log-samples": _without_log_samples, "samples-cut-short": _short_samples,
    "unknown-layout-version": _newer_layout,
}


@pytest.fixture(scope="module")
def populated_store(tmp_path_factory: pytest.TempPathFactory, lm_eval_output: Path) -> Path:
    """A store that already holds one good import (written once, copied per test)."""
    from tests.conftest import _run_entry_point
    from evalkit.cli import results
    from evalkit.cli.results_import import import_command

    results.command.commands.setdefault("import", import_command)
    db = tmp_path_factory.mktemp("populated") / "results.db"
    done = _run_entry_point("results", "import", lm_eval_output, "--store", db)
    assert done.exit_code == 0, done.output
    return db


@pytest.mark.parametrize("damage", list(DAMAGE), ids=list(DAMAGE))
def test_bad_file_exits_2_and_leaves_the_store_unchanged(damage: str, output_copy: Path, populated_store: Path,
                                                         tmp_path: Path, evalkit_cli) -> None:
    db = tmp_path / "store.db"
    db.write_bytes(populated_store.read_bytes())
    before = db.read_bytes()
    expected = DAMAGE[damage](output_copy)
    result = evalkit_cli("results", "import", output_copy, "--store", db)
    assert result.exit_code == 2, result.output
    assert expected in result.stderr, result.stderr
    assert "Traceback" not in result.output
    assert db.read_bytes() == before
    assert not Path(f"{db}-wal").exists() or Path(f"{db}-wal").stat().st_size == 0


def test_bad_file_does_not_create_a_store(output_copy: Path, tmp_path: Path, evalkit_cli) -> None:
    _drop_doc_hash(output_copy)
    db = tmp_path / "new.db"
    result = evalkit_cli("results", "import", output_copy, "--store", db)
    assert result.exit_code == 2 and "line 1" in result.stderr and samples_file(output_copy, "toy_sentiment").name \
        in result.stderr
    assert not db.exists()


def test_one_bad_file_among_good_ones_imports_nothing(lm_eval_output: Path, output_copy: Path, tmp_path: Path,
                                                      evalkit_cli) -> None:
    _unknown_layout(output_copy)
    db = tmp_path / "mixed.db"
    result = evalkit_cli("results", "import", lm_eval_output, output_copy, "--store", db)
    assert result.exit_code == 2 and str(results_file(output_copy).resolve()) in result.stderr
    assert not db.exists()


def test_a_folder_without_results_is_refused(tmp_path: Path, evalkit_cli) -> None:
    (tmp_path / "empty").mkdir()
    result = evalkit_cli("results", "import", tmp_path / "empty", "--store", tmp_path / "x.db")
    assert result.exit_code == 2 and "holds no lm-eval results file" in result.stderr
    assert "--log_samples" in result.stderr
