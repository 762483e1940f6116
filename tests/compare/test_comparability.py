from __future__ import annotations

from pathlib import Path

import pytest

from evalkit.compare import CompareOptions, RunOpener, compare_runs, open_runs
from evalkit.errors import IncomparableRunsError
from evalkit.store.schema import open_for_writing
from tests.compare.synthetic import VERSIONS, CellSpec, add_run, binary


def _compare(store: Path, refs: list[str], **options: object):
    with RunOpener(store) as opener:
        return compare_runs(open_runs(opener, refs), CompareOptions(**options))


def test_comparable_runs_give_no_warnings(store: Path) -> None:
    assert _compare(store, ["base", "noise"]).warnings == []


def test_config_hash_and_prompt_mismatch_refuse_naming_what_differs(store: Path) -> None:
    with pytest.raises(IncomparableRunsError) as caught:
        _compare(store, ["base", "newconfig"])
    message = caught.value.message
    assert "base and newconfig are not comparable" in message
    assert "tiny-model / rte / zero-shot: task config hash differs" in message
    assert "tiny-model / sst2 / zero-shot: prompts differ on 100% of 200 matched documents" in message
    assert "--allow-incomparable" in (caught.value.hint or "")
    assert caught.value.exit_code == 2


def test_allow_incomparable_turns_mismatches_into_warnings(store: Path) -> None:
    comparison = _compare(store, ["base", "newconfig"], allow_incomparable=True)
    assert len(comparison.warnings) == 2
    assert all("--allow-incomparable" in w for w in comparison.warnings)
    assert len(comparison.rows) == 2


def _store_with(tmp_path: Path, cells_b: list[CellSpec], versions_b: dict | None = None) -> Path:
    conn = open_for_writing(tmp_path / "s.db")
    add_run(conn, "run-a", [CellSpec("rte", {"acc": binary(20, 10)})], name="a", created_at="2025-01-01")
    add_run(conn, "run-b", cells_b, name="b", created_at="2025-01-02", versions=versions_b)
    conn.close()
    return tmp_path / "s.db"


def test_version_difference_is_incomparable(tmp_path: Path) -> None:
    store = _store_with(tmp_path, [CellSpec("rte", {"acc": binary(20, 10)})], {**VERSIONS, "lm_eval": "0.4.99"})
    with pytest.raises(IncomparableRunsError, match="lm-eval version differs: a used 0.4.13, b used 0.4.99"):
        _compare(store, ["a", "b"])


def test_few_shot_k_difference_is_incomparable(tmp_path: Path) -> None:
    store = _store_with(tmp_path, [CellSpec("rte", {"acc": binary(20, 10)}, num_fewshot=3)])
    with pytest.raises(IncomparableRunsError, match=r"few-shot k differs \(0 vs 3\)"):
        _compare(store, ["a", "b"])


def test_tasks_with_no_common_setting_are_incomparable(tmp_path: Path) -> None:
    store = _store_with(tmp_path, [CellSpec("rte", {"acc": binary(20, 10)}, setting="few-shot:5", num_fewshot=5)])
    with pytest.raises(IncomparableRunsError, match=r"rte: setting differs \(a: zero-shot; b: few-shot:5\)"):
        _compare(store, ["a", "b"])


def test_no_documents_in_common_is_incomparable(tmp_path: Path) -> None:
    store = _store_with(tmp_path, [CellSpec("rte", {"acc": binary(20, 10)}, doc_offset=1000)])
    with pytest.raises(IncomparableRunsError, match="no documents in common"):
        _compare(store, ["a", "b"])
