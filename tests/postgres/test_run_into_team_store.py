"""`evalkit.run(..., store=URL)` records a run in a PostgreSQL store, and running it again reuses
the stored cells (resume at cell granularity) read back from that store."""

from __future__ import annotations

from pathlib import Path

from evalkit.store.reader import cells_frame, list_runs, samples_frame
from evalkit.store.schema import open_for_reading
from tests.finetune.conftest import FIXTURES

TASK = str(FIXTURES / "toy_sentiment" / "toy_sentiment.yaml")


def test_a_run_into_the_team_store_is_complete_and_its_cells_are_reused(tiny_model_dir: Path, pg_url: str) -> None:
    import evalkit

    first = evalkit.run([str(tiny_model_dir)], [TASK], settings=["zero-shot"], limit=6, store=pg_url)
    again = evalkit.run([str(tiny_model_dir)], [TASK], settings=["zero-shot"], limit=6, store=pg_url)
    conn = open_for_reading(pg_url)
    try:
        runs = list_runs(conn)
        cells = cells_frame(conn, [again.attrs["run_id"]])
        samples = [samples_frame(conn, r) for r in (first.attrs["run_id"], again.attrs["run_id"])]
    finally:
        conn.close()
    assert list(runs.status) == ["complete", "complete"]
    assert '"reused_from"' in cells.details_json.iloc[0]
    assert samples[0].drop(columns="run_id").equals(samples[1].drop(columns="run_id")) and len(samples[0]) == 6
