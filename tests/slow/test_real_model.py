"""The embedded SmolLM2-135M end to end: evalkit's numbers equal lm-eval's HFLM figures on the same
documents (float32, same task YAML). The first 200 sst2 and 100 arc_easy documents: HFLM measured on
them with lm-eval 0.4.13 (HFLM on the same float32 model object, lm-eval's process_results); the full
dev-set figures (sst2 0.6101, arc_easy 0.5228 / 0.4298) are in README's benchmark table, and
per-request parity with HFLM is tests/scoring/test_real_model.py."""

from __future__ import annotations

from pathlib import Path

import pytest

import evalkit

pytestmark = pytest.mark.slow


@pytest.fixture
def real_home(real_model_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("EVALKIT_HOME", str(real_model_home))
    return real_model_home


def test_sst2_and_arc_easy_match_lm_eval_reference(real_home: Path, tmp_path: Path) -> None:
    frame = evalkit.run(["smollm2-135m"], ["sst2", "arc_easy"], store=tmp_path / "r.db", dtype="float32",
                        limit={"sst2": 200, "arc_easy": 100})
    values = {(r.task, r.metric): (round(r.value, 4), r.n) for r in frame.itertuples()}
    assert values[("sst2", "acc")] == (0.56, 200)
    assert values[("arc_easy", "acc")] == (0.48, 100)
    assert values[("arc_easy", "acc_norm")] == (0.36, 100)


def test_generation_task_runs_on_the_real_model(real_home: Path, tmp_path: Path) -> None:
    frame = evalkit.run(["smollm2-135m"], ["gsm8k"], store=tmp_path / "r.db", limit=3, dtype="float32")
    assert set(frame.metric) == {"exact_match,strict-match", "exact_match,flexible-extract"}
    assert (frame.n == 3).all()
