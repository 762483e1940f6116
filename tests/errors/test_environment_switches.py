"""A bad EVALKIT_* switch of the scoring backend is exit 2 at the door: no model loaded, no store."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.errors.test_bad_input_corpus import FIXTURES


@pytest.mark.parametrize("name, value", [("EVALKIT_PREFIX_CACHE", "sometimes"),
                                         ("EVALKIT_FAST_EXACT_FACTOR", "nan"),
                                         ("EVALKIT_FAST_EXACT_CALIBRATION", "0")])
def test_a_bad_switch_stops_the_run_before_the_model_loads(name: str, value: str, tmp_path: Path,
                                                           tiny_model_dir: Path, evalkit_cli, monkeypatch) -> None:
    monkeypatch.setenv(name, value)
    store = tmp_path / "r.db"
    result = evalkit_cli("run", "-m", tiny_model_dir, "-t", FIXTURES / "toy_sentiment" / "toy_sentiment.yaml",
                         "--store", store, "--limit", "2")
    assert result.exit_code == 2, result.output
    assert name in result.output and "Loading model" not in result.output
    assert not store.exists()
