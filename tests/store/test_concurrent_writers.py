"""Eight processes writing runs into one store at once lose nothing (an SQLite file, a PostgreSQL
database created by the racing writers themselves); a failed cell write leaves no partial rows."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from evalkit.store.dialect import integrity_errors
from evalkit.store.frames import read_rows
from evalkit.store.schema import open_for_reading, open_for_writing
from evalkit.store.writer import begin_run, finish_run, write_cell
from tests.store.synthetic import synthetic_run

WRITERS, RUNS_EACH, CELLS, DOCS = 8, 4, 3, 40


def _writer(location: str, worker: int) -> None:
    conn = open_for_writing(location)
    for r in range(RUNS_EACH):
        info, cells = synthetic_run(f"w{worker}-r{r}", n_cells=CELLS, n_docs=DOCS, seed=worker * 100 + r)
        begin_run(conn, info)
        for cell in cells:
            write_cell(conn, info.run_id, cell)
        finish_run(conn, info.run_id, "complete")
    conn.close()


def _count(conn, sql: str) -> int:
    return int(read_rows(conn, sql)[1][0][0])


def test_eight_concurrent_writers(store_at: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(store_at, w)) for w in range(WRITERS)]  # 8 at once, no stagger
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0] * WRITERS
    conn = open_for_reading(store_at)
    assert _count(conn, "SELECT COUNT(*) FROM runs WHERE status='complete'") == WRITERS * RUNS_EACH
    assert _count(conn, "SELECT COUNT(*) FROM cells") == WRITERS * RUNS_EACH * CELLS
    assert _count(conn, "SELECT COUNT(*) FROM samples") == WRITERS * RUNS_EACH * CELLS * DOCS
    assert _count(conn, "SELECT COUNT(*) FROM meta WHERE key = 'schema_version'") == 1  # created once
    conn.close()
    if not store_at.startswith("postgresql://"):
        assert sqlite3.connect(store_at).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_failed_cell_write_leaves_no_partial_rows(store_at: str) -> None:
    conn = open_for_writing(store_at)
    info, cells = synthetic_run("x")
    begin_run(conn, info)
    write_cell(conn, "x", cells[0])
    with pytest.raises(integrity_errors()):
        write_cell(conn, "x", cells[0])  # duplicate cell id: the whole cell must roll back
    assert conn.execute("SELECT COUNT(*) FROM samples").fetchone()[0] == len(cells[0].samples)
    assert conn.execute("SELECT status FROM runs").fetchone()[0] == "running"
    assert not conn.in_transaction
