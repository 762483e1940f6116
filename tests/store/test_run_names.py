"""check_run_name: a name that is also a run reference is refused; a reused name is warned about."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from evalkit.errors import InputError
from evalkit.store.reader import check_run_name, resolve_run_ref
from evalkit.store.schema import open_for_writing
from evalkit.store.writer import begin_run, finish_run
from tests.store.synthetic import synthetic_run


@pytest.fixture
def conn(tmp_path: Path):
    conn = open_for_writing(tmp_path / "r.db")
    for run_id in ("20250101-120000-abcdef", "20250102-120000-123456"):
        info, _ = synthetic_run(run_id)
        begin_run(conn, info)  # named name-<run_id>
        finish_run(conn, run_id, "complete")
    yield conn
    conn.close()


@pytest.mark.parametrize(("name", "why"), [
    ("latest", "is a run reference"), ("latest~1", "is a run reference"), ("latest~x", "is a run reference"),
    ("20250101-120000-abcdef", "looks like a run id"), ("2025", "looks like a run id"),
    ("20991231-0000", "looks like a run id"), ("20250101-1200", "looks like a run id"),
    ("baseline.json", "looks like a results file"), ("b.CSV", "looks like a results file"),
    ("runs/base", "looks like a results file"), ("x.parquet", "looks like a results file"),
    ("n.db", "looks like a results file"), ("team.sqlite", "looks like a results file"),
    ("", "is empty"), ("   ", "is empty"),
    ("esc\x1b[31mRED", "contains a control character"), ("two\nlines", "contains a control character"),
    ("tab\there", "contains a control character"), ("bidi\u202eevil", "contains a control character"),
    ("--store", "starts with '-' like an option"), ("-nightly", "starts with '-' like an option"),
])
def test_names_that_are_references_are_refused(conn, name: str, why: str) -> None:
    with pytest.raises(InputError) as caught:
        check_run_name(conn, name)
    assert f"Run name '{name}' {why}" in caught.value.message and caught.value.exit_code == 2
    assert caught.value.hint


def test_an_id_prefix_of_a_stored_run_is_refused(tmp_path: Path) -> None:
    conn = open_for_writing(tmp_path / "r.db")
    info, _ = synthetic_run("base-run-1")
    begin_run(conn, info)
    with pytest.raises(InputError, match="is the id \\(or an id prefix\\) of the stored run base-run-1"):
        check_run_name(conn, "base")
    with pytest.raises(InputError, match="stored run base-run-1"):
        check_run_name(conn, "base-run-1")
    assert check_run_name(conn, "bas") is None  # references need 4+ characters of an id


def test_a_reused_name_gives_a_warning_and_fresh_names_none(conn) -> None:
    assert check_run_name(conn, None) is None
    assert check_run_name(conn, "nightly") is None
    assert check_run_name(conn, "2025-baseline") is None  # not the start of a run id
    warning = check_run_name(conn, "name-20250102-120000-123456")
    assert warning is not None and "already used by 1 earlier run(s)" in warning
    assert "the name now refers to the newest complete run with it" in warning


def test_refused_names_are_what_resolve_run_ref_reads_as_references(conn) -> None:
    assert resolve_run_ref(conn, "latest~1") == "20250101-120000-abcdef"
    assert resolve_run_ref(conn, "20250102") == "20250102-120000-123456"
    for name in ("latest~1", "20250102"):
        with pytest.raises(InputError):
            check_run_name(conn, name)


def test_a_name_like_an_option_says_the_value_after_name_was_left_out(conn) -> None:
    with pytest.raises(InputError) as caught:
        check_run_name(conn, "--store")
    assert "was the value after --name left out" in caught.value.message
    assert "quoting it does not help" in (caught.value.hint or "")


def _named_runs(tmp_path: Path, runs: list[tuple[str, str]]):
    conn = open_for_writing(tmp_path / "n.db")
    for run_id, created_at in runs:
        info, _ = synthetic_run(run_id)
        begin_run(conn, replace(info, name="nightly", created_at=created_at))
        finish_run(conn, run_id, "complete")
    return conn


def test_a_name_means_its_newest_complete_run_whatever_order_it_was_stored_in(tmp_path: Path) -> None:
    conn = _named_runs(tmp_path, [("run-new", "2026-01-02T00:00:00+00:00"), ("run-old", "2026-01-01T00:00:00+00:00")])
    assert resolve_run_ref(conn, "nightly") == "run-new"
    conn.close()


def test_two_runs_of_one_name_created_at_the_same_instant_are_ambiguous(tmp_path: Path) -> None:
    same = "2026-01-02T00:00:00+00:00"
    conn = _named_runs(tmp_path, [("run-old", "2026-01-01T00:00:00+00:00"), ("run-a", same), ("run-b", same)])
    with pytest.raises(InputError) as caught:
        resolve_run_ref(conn, "nightly")
    assert "Run name 'nightly' is ambiguous" in caught.value.message and caught.value.exit_code == 2
    assert "run-a" in caught.value.message and "run-b" in caught.value.message
    assert "run-old" not in caught.value.message
    assert resolve_run_ref(conn, "run-a") == "run-a"  # an id still reaches each of them
    conn.close()
