"""`evalkit run --precision`: checked at the door, recorded in the cell, keyed in the request cache
and known to the comparability check."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest


def _cells(store: Path) -> list[tuple[str, dict, dict]]:
    conn = sqlite3.connect(store)
    try:
        rows = conn.execute("SELECT cell_id, details_json FROM cells ORDER BY rowid").fetchall()
        scores = conn.execute("SELECT cell_id, doc_id, scores_json FROM samples ORDER BY doc_id").fetchall()
    finally:
        conn.close()
    by_cell: dict[str, dict] = {}
    for cell_id, doc_id, text in scores:
        by_cell.setdefault(cell_id, {})[doc_id] = json.loads(text)
    return [(cell_id, json.loads(details), by_cell[cell_id]) for cell_id, details in rows]


def _no_model_load(monkeypatch: pytest.MonkeyPatch) -> None:
    import evalkit.models.loading as loading

    monkeypatch.setattr(loading, "load_model", lambda spec: pytest.fail("a model was loaded"))


def test_fast_exact_with_a_half_precision_dtype_is_exit_2(tiny_model_dir, choice_task_path, tmp_path, evalkit_cli,
                                                           monkeypatch) -> None:
    _no_model_load(monkeypatch)
    r = evalkit_cli("run", "-m", tiny_model_dir, "-t", choice_task_path, "--precision", "fast-exact",
                    "--dtype", "float16", "--store", tmp_path / "r.db")
    assert r.exit_code == 2, r.output
    assert "fast-exact computes float32 decisions" in r.stderr and "--precision exact" in r.stderr


def test_fast_exact_on_a_device_without_fast_bf16_is_exit_2(tiny_model_dir, choice_task_path, tmp_path, evalkit_cli,
                                                             monkeypatch) -> None:
    import evalkit.scoring.precision as precision

    _no_model_load(monkeypatch)
    monkeypatch.setattr(precision, "cpu_flags", lambda: {"avx2"})
    r = evalkit_cli("run", "-m", tiny_model_dir, "-t", choice_task_path, "--precision", "fast-exact",
                    "--device", "cpu", "--store", tmp_path / "r.db")
    assert r.exit_code == 2, r.output
    assert "lacks" in r.stderr and "avx512_bf16" in r.stderr


def test_a_fast_exact_cell_stores_float32_decisions_and_what_it_re_scored(tiny_model_dir, choice_task_path, tmp_path,
                                                                          evalkit_cli, monkeypatch) -> None:
    import evalkit.scoring.precision as precision

    monkeypatch.setattr(precision, "cpu_flags", lambda: {"avx512_bf16"})
    store = tmp_path / "r.db"
    for mode in ("exact", "fast-exact"):
        r = evalkit_cli("run", "-m", tiny_model_dir, "-t", choice_task_path, "--precision", mode, "--device", "cpu",
                        "--store", store)
        assert r.exit_code == 0, r.output
    (exact_id, exact_details, exact_scores), (fast_id, fast_details, fast_scores) = _cells(store)
    assert exact_id != fast_id and "precision" not in exact_details
    assert fast_scores == exact_scores
    report = fast_details["precision"]
    assert report["precision"] == "fast-exact" and report["documents"] == len(exact_scores)
    assert report["rescored_documents"] + report["calibration_documents"] <= report["documents"]
    assert report["bound"]["calibration_size"] == report["calibration_requests"] > 0
    assert fast_details["dtype"] == "float32"


def test_the_request_cache_key_knows_the_precision() -> None:
    from evalkit.engine.cell import request_model_key

    model = SimpleNamespace(fingerprint="f", dtype="float32")
    assert request_model_key(model, "fast-exact") != request_model_key(model, "exact") == request_model_key(model)


@pytest.mark.parametrize(("details", "expected"), [
    ({"dtype": "float32"}, "float32"),
    ({"dtype": "bfloat16"}, "bfloat16"),
    ({"dtype": "float32", "precision": {"precision": "fast-exact"}}, "float32"),
    (None, None),
])
def test_comparability_reads_the_precision_decisions_were_made_at(details, expected) -> None:
    from evalkit.compare.comparability import decision_precision

    cell = pd.Series({"details_json": json.dumps(details) if details is not None else None})
    assert decision_precision(cell) == expected
