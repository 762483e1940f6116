"""The writer stores strict JSON only: typed config, null for a non-finite computed number (both backends)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from evalkit.plan import FineTuneOptions
from evalkit.store.records import RunInfo
from evalkit.store.schema import open_for_writing
from evalkit.store.writer import begin_run, write_cell
from tests.store.synthetic import synthetic_run


def _info(config: dict) -> RunInfo:
    return RunInfo("r", "n", "2025-01-01T00:00:00+00:00", "evalkit run", 1, {}, None, "h", config=config)


def _config(conn) -> str:
    return conn.execute("SELECT config_json FROM runs").fetchone()[0]


def test_typed_config_is_stored_as_typed_json(store_at: str) -> None:
    conn = open_for_writing(store_at)
    config = {"settings": ["zero-shot", "fine-tuned"], "limit": None, "seed": 3,
              "finetune": dataclasses.asdict(FineTuneOptions())}
    begin_run(conn, _info(config))
    assert json.loads(_config(conn)) == config


@pytest.mark.parametrize(("config", "culprit"), [
    ({"finetune": FineTuneOptions()}, "config_json.finetune"),
    ({"include": Path("/x")}, "config_json.include"),
    ({"lr": float("nan")}, "config_json.lr"),
])
def test_a_non_json_config_value_is_a_programming_error_naming_the_field(store_at: str, config: dict,
                                                                          culprit: str) -> None:
    conn = open_for_writing(store_at)
    with pytest.raises((TypeError, ValueError), match=f"Store field '{culprit}' is not strict JSON"):
        begin_run(conn, _info(config))
    assert conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 0


def test_non_finite_scores_and_numpy_numbers_are_stored_as_strict_json(store_at: str) -> None:
    conn = open_for_writing(store_at)
    info, cells = synthetic_run("r", n_cells=1, n_docs=3)
    cell = cells[0]
    samples = [dataclasses.replace(cell.samples[0], scores={"acc": float("nan"), "ppl": float("inf")}),
               dataclasses.replace(cell.samples[1], scores={"acc": np.float64(1.0)},
                                   outputs=[[np.float32(-0.5), np.bool_(True)]]),
               cell.samples[2]]
    begin_run(conn, info)
    write_cell(conn, "r", dataclasses.replace(cell, samples=samples, details={"loss": float("nan")}))
    scores = [r[0] for r in conn.execute("SELECT scores_json FROM samples ORDER BY doc_id")]
    assert scores[:2] == ['{"acc": null, "ppl": null}', '{"acc": 1.0}']
    assert conn.execute("SELECT outputs_json FROM samples WHERE doc_id = 1").fetchone()[0] == "[[-0.5, true]]"
    assert conn.execute("SELECT details_json FROM cells").fetchone()[0] == '{"loss": null}'
