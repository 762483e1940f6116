"""A full disk or a lost database server while writing is a failure while computing (issue 24 item
12): exit 1 saying nothing stored was damaged, not exit 2 "restore it from a backup"; and a full
disk under EVALKIT_HOME only turns its caches off."""

from __future__ import annotations

import errno
import hashlib
import sqlite3
from pathlib import Path

import pytest

from evalkit.errors import RunFailedError
from evalkit.store.dialect import failure_outside_the_store
from evalkit.store.schema import open_for_reading, open_for_writing
from evalkit.store.writer import begin_run, write_cell
from tests.store.synthetic import synthetic_run


def test_a_full_disk_under_the_store_is_a_run_time_failure(tmp_path: Path) -> None:
    store = tmp_path / "r.db"
    conn = open_for_writing(store)
    info, cells = synthetic_run("r1", n_docs=400)
    begin_run(conn, info)
    write_cell(conn, info.run_id, cells[0])
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own "database or disk is full"
    with pytest.raises(RunFailedError, match="disk holding the store is full.*nothing already stored was damaged") as raised:
        write_cell(conn, info.run_id, cells[1])
    assert raised.value.exit_code == 1 and "backup" not in raised.value.render()
    conn.close()
    reader = open_for_reading(store)
    assert reader.execute("SELECT COUNT(*) FROM cells").fetchone()[0] == 1  # the first cell is intact
    reader.close()


def test_a_lost_postgres_connection_is_outside_the_store() -> None:
    psycopg = pytest.importorskip("psycopg")
    assert "connection" in failure_outside_the_store(psycopg.OperationalError("server closed the connection"))
    assert failure_outside_the_store(sqlite3.DatabaseError("file is not a database")) is None


def test_a_full_disk_under_home_leaves_no_memo_temp_file(tmp_path: Path, isolated_home: Path, capsys,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from evalkit.models import fingerprint

    weights = tmp_path / "w.bin"
    weights.write_bytes(b"weights")
    real_write = Path.write_text

    def full(self: Path, text: str, *args: object, **kwargs: object) -> int:
        real_write(self, text[:3])  # the temp file is created, then the disk fills up
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", full)
    assert fingerprint.file_sha256(weights) == hashlib.sha256(b"weights").hexdigest()
    assert not list(isolated_home.glob("*.tmp"))
    assert "going on without caching" in capsys.readouterr().err


def test_a_full_disk_under_home_turns_the_request_cache_off(tmp_path: Path, capsys) -> None:
    from evalkit.engine.request_cache import RequestCache

    cache = RequestCache(tmp_path / "requests.db")
    cache.put("first", [-1.0, True])
    pages = cache.conn.execute("PRAGMA page_count").fetchone()[0]
    cache.conn.execute(f"PRAGMA max_page_count = {pages}")
    for i in range(200):
        cache.put(f"k{i}", ["x" * 200, False])  # SQLITE_FULL: warned once, never raised
    assert cache.get_many(["first"]) == {"first": (-1.0, True)}
    assert capsys.readouterr().err.count("going on without caching") == 1
    cache.close()


def test_a_postgres_server_dropping_the_connection_mid_run_is_a_run_time_failure(pg_url: str) -> None:
    """The server ends the session (as a stopping server does: 57P01 admin shutdown) between two
    cell writes: exit 1, the run's first cell still there, no "restore it from a backup"."""
    import psycopg

    conn = open_for_writing(pg_url)
    info, cells = synthetic_run("r1", n_docs=5)
    begin_run(conn, info)
    write_cell(conn, info.run_id, cells[0])
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE pid <> pg_backend_pid() AND datname = current_database()")
    with pytest.raises(RunFailedError, match="connection to the database server was lost") as raised:
        write_cell(conn, info.run_id, cells[1])
    assert "backup" not in raised.value.render()
    reader = open_for_reading(pg_url)
    assert reader.execute("SELECT COUNT(*) FROM cells").fetchone()[0] == 1
    reader.close()
