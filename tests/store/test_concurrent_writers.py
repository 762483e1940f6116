"""Eight processes writing runs into one database at once lose nothing."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

from evalkit.store.schema import open_for_writing
from evalkit.store.writer import begin_run, finish_run, write_cell
from tests.store.synthetic import synthetic_run

WRITERS, RUNS_EACH, CELLS, DOCS = 8, 4, 3, 40


def _writer(path: str, worker: int) -> None:
    conn = open_for_writing(Path(path))
    for r in range(RUNS_EACH):
        info, cells = synthetic_run(f"w{worker}-r{r}", n_cells=CELLS, n_docs=DOCS, seed=worker * 100 + r)
        begin_run(conn, info)
        for cell in cells:
            write_cell(conn, info.run_id, cell)
        finish_run(conn, info.run_id, "complete")
    conn.close()


def test_eight_concurrent_writers(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.db")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, w)) for w in range(WRITERS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0] * WRITERS
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT COUNT(*) FROM runs WHERE status='complete'").fetchone()[0] == WRITERS * RUNS_EACH
    assert conn.execute("SELECT COUNT(*) FROM cells").fetchone()[0] == WRITERS * RUNS_EACH * CELLS
    assert conn.execute("SELECT COUNT(*) FROM samples").fetchone()[0] == WRITERS * RUNS_EACH * CELLS * DOCS
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_failed_cell_write_leaves_no_partial_rows(tmp_path: Path) -> None:
    conn = open_for_writing(tmp_path / "r.db")
    info, cells = synthetic_run("x")
    begin_run(conn, info)
    write_cell(conn, "x", cells[0])
    try:
        write_cell(conn, "x", cells[0])  # duplicate cell id: the whole cell must roll back
    except sqlite3.IntegrityError:
        pass
    assert conn.execute("SELECT COUNT(*) FROM samples").fetchone()[0] == len(cells[0].samples)
    assert conn.execute("SELECT status FROM runs").fetchone()[0] == "running"
