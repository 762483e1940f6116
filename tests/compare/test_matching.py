from __future__ import annotations

from pathlib import Path

import pandas as pd

from evalkit.compare import RunOpener, open_runs
from evalkit.compare.matching import align_samples, pair_run_cells, pair_settings
from evalkit.store.schema import open_for_writing
from tests.compare.synthetic import CellSpec, add_run, binary


def _samples(hashes: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"doc_id": range(len(hashes)), "doc_hash": hashes, "prompt_hash": "p",
                         "scores": [{"acc": 1.0}] * len(hashes)})


def test_align_samples_inner_joins_on_doc_hash_and_counts_the_rest() -> None:
    merged, only_a, only_b = align_samples(_samples(["x", "y", "z"]), _samples(["z", "y", "w", "v"]))
    assert list(merged.doc_hash) == ["y", "z"]
    assert (only_a, only_b) == (1, 2)
    assert list(merged.doc_id_b) == [1, 0]


def test_align_samples_pairs_repeated_hashes_occurrence_by_occurrence() -> None:
    merged, only_a, only_b = align_samples(_samples(["d", "d", "e"]), _samples(["d", "e", "d", "d"]))
    assert len(merged) == 3
    assert (only_a, only_b) == (0, 1)
    assert list(zip(merged.doc_id_a, merged.doc_id_b)) == [(0, 0), (1, 2), (2, 1)]


def _two_model_runs(path: Path, models_b: list[str]) -> Path:
    conn = open_for_writing(path)
    add_run(conn, "run-a", [CellSpec("sst2", {"acc": binary(10, 5)}, model="m1"),
                            CellSpec("sst2", {"acc": binary(10, 5)}, model="m2")], name="a",
            created_at="2025-01-01")
    add_run(conn, "run-b", [CellSpec("sst2", {"acc": binary(10, 5)}, model=m) for m in models_b], name="b",
            created_at="2025-01-02")
    conn.close()
    return path


def test_cells_match_by_model_when_both_runs_hold_several_models(tmp_path: Path) -> None:
    store = _two_model_runs(tmp_path / "s.db", ["m2", "m3"])
    with RunOpener(store) as opener:
        a, b = open_runs(opener, ["a", "b"])
        pairs, only_a, only_b = pair_run_cells(a, b)
    assert [(p.cell_a.model, p.cell_b.model) for p in pairs] == [("m2", "m2")]
    assert (only_a, only_b) == (["m1 / sst2 / zero-shot"], ["m3 / sst2 / zero-shot"])


def test_a_single_model_run_is_matched_against_each_model_of_the_other(tmp_path: Path) -> None:
    store = _two_model_runs(tmp_path / "s.db", ["new"])
    with RunOpener(store) as opener:
        a, b = open_runs(opener, ["a", "b"])
        pairs, only_a, only_b = pair_run_cells(a, b)
    assert [p.model for p in pairs] == ["m1 → new", "m2 → new"]
    assert only_a == only_b == []


def test_pair_settings_uses_zero_shot_as_the_reference(tmp_path: Path) -> None:
    conn = open_for_writing(tmp_path / "s.db")
    add_run(conn, "r", [CellSpec("rte", {"acc": binary(10, 5)}, setting="fine-tuned"),
                        CellSpec("rte", {"acc": binary(10, 4)}),
                        CellSpec("rte", {"acc": binary(10, 6)}, setting="few-shot:5", num_fewshot=5)], name="r")
    conn.close()
    with RunOpener(tmp_path / "s.db") as opener:
        (side,) = open_runs(opener, ["r"])
        pairs = pair_settings(side)
    assert [(p.label_a, p.label_b) for p in pairs] == [("zero-shot", "fine-tuned"), ("zero-shot", "few-shot:5")]
    assert all(p.setting is None and len(p.aligned) == 10 for p in pairs)


def test_a_run_holding_two_models_of_one_label_is_refused_not_cross_paired(tmp_path: Path) -> None:
    import pytest

    from evalkit.errors import InputError

    conn = open_for_writing(tmp_path / "s.db")
    add_run(conn, "old", [CellSpec("sst2", {"acc": binary(10, 9)}, model="final"),
                          CellSpec("sst2", {"acc": binary(10, 2)}, model="final")], name="old")
    add_run(conn, "new", [CellSpec("sst2", {"acc": binary(10, 9)}, model="a/final"),
                          CellSpec("sst2", {"acc": binary(10, 2)}, model="b/final")], name="new",
            created_at="2025-01-02")
    conn.close()
    with RunOpener(tmp_path / "s.db") as opener:
        old, new = open_runs(opener, ["old", "new"])
        for calls in (lambda: pair_run_cells(new, old), lambda: pair_run_cells(old, new), lambda: pair_settings(old)):
            with pytest.raises(InputError, match="several cells labelled 'final / sst2 / zero-shot'"):
                calls()
