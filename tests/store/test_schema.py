from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from evalkit.errors import StoreError
from evalkit.store.schema import SCHEMA_VERSION, connect


def test_new_store_is_created_with_current_version(tmp_path: Path) -> None:
    conn = connect(tmp_path / "sub" / "r.db")
    version = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0]
    assert int(version) == SCHEMA_VERSION


def test_newer_schema_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    conn = connect(path)
    conn.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    conn.close()  # checkpoints the WAL into the file
    before = path.read_bytes()
    with pytest.raises(StoreError, match="schema version 99, newer"):
        connect(path)
    assert path.read_bytes() == before


def test_corrupt_file_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    path.write_bytes(b"this is not a database" * 100)
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not a readable SQLite database"):
        connect(path)
    assert path.read_bytes() == before


def test_foreign_sqlite_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE x (y)")
    other.commit()
    other.close()
    with pytest.raises(StoreError, match="not an evalkit results store"):
        connect(path)


def test_missing_store_when_reading(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        connect(tmp_path / "nope.db", create=False)


def test_unwritable_location_is_a_clear_error() -> None:
    with pytest.raises(StoreError, match="Cannot create the folder for results database"):
        connect(Path("/proc/evalkit-cannot-write/r.db"))
