"""`evalkit forecast` on evalkit's own checkpoint-series runs (per-document cells, trajectory details)."""

from __future__ import annotations

import json
from pathlib import Path

from evalkit.store.schema import open_for_writing
from tests.studies.synthetic import Cell, add_run, binary, checkpoint

STEPS = (100, 200, 400, 800, 1600, 3200, 6400, 12800)
RIGHT = (10, 14, 19, 24, 28, 31, 33, 34)  # of 40 documents: a rising, flattening accuracy
BPB = (2.0, 1.7, 1.45, 1.28, 1.17, 1.1, 1.06, 1.04)


def _series_store(path: Path) -> Path:
    cells = []
    for step, right, bpb in zip(STEPS, RIGHT, BPB):
        model = f"out/checkpoint-{step}"
        cells.append(Cell("sst2", {"acc": binary(40, list(range(right)))}, model=model,
                          trajectory=checkpoint("out", step)))
        cells.append(Cell("wikitext", {"loglikelihood": [-10.0 * bpb] * 4}, model=model,
                          corpus={"bits_per_byte": bpb}, trajectory=checkpoint("out", step)))
    conn = open_for_writing(path)
    try:
        add_run(conn, "eeee0000-series", cells, name="series")
        add_run(conn, "ffff0000-short", cells[:6], name="short")
    finally:
        conn.close()
    return path


def test_an_own_checkpoint_series_is_forecast(tmp_path: Path, evalkit_cli) -> None:
    store = _series_store(tmp_path / "s.db")
    result = evalkit_cli("forecast", "series", "--task", "sst2", "--metric", "acc", "--at", "25600",
                         "--format", "json", "--store", store)
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)["rows"][0]
    assert row["series"] == "out" and row["points"] == 8 and row["last_value"] == 34 / 40
    assert 0.75 < row["forecast"] < 0.95 and row["low"] < row["forecast"] < row["high"]


def test_too_few_checkpoints_is_exit_2_with_the_reason(tmp_path: Path, evalkit_cli) -> None:
    store = _series_store(tmp_path / "s.db")
    result = evalkit_cli("forecast", "short", "--task", "sst2", "--metric", "acc", "--store", store)
    assert result.exit_code == 2
    assert "no forecast: fewer than 4 checkpoints after step 0 (3)" in result.output


def test_the_series_goes_through_wikitext_bits_per_byte(tmp_path: Path) -> None:
    from evalkit.forecast.series import build_series, points_from_trajectory
    from evalkit.store.schema import open_for_reading
    from evalkit.studies.points import load_run
    from evalkit.studies.trajectory import point_frame, trajectory_cells

    conn = open_for_reading(_series_store(tmp_path / "s.db"))
    try:
        run = load_run(conn, "eeee0000-series")
        points = points_from_trajectory(point_frame(run, trajectory_cells(run)))
    finally:
        conn.close()
    (sst2,) = build_series(points, task="sst2", metric="acc")
    assert sst2.loss_name == "wikitext bits per byte" and list(sst2.loss) == list(BPB)
    (bpb,) = build_series(points, task="wikitext", metric="bits_per_byte")
    assert bpb.loss is None and not bpb.higher_is_better
