"""Store queries as pandas DataFrames or rows, with SQLite's read failures turned into StoreErrors."""

from __future__ import annotations

import sqlite3
from typing import Any, Sequence

import pandas as pd

from evalkit.errors import EvalkitError, StoreError
from evalkit.store.schema import busy_error, is_busy_failure, store_file


def read_frame(conn: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
    """pd.read_sql_query; a store SQLite cannot read (damaged pages) becomes a StoreError naming it."""
    try:
        return pd.read_sql_query(sql, conn, params=list(params))
    except (pd.errors.DatabaseError, sqlite3.DatabaseError) as exc:
        cause = exc if isinstance(exc, sqlite3.DatabaseError) else exc.__cause__
        if not _is_store_fault(cause):
            raise
        raise unreadable_store(conn, cause) from exc


def read_rows(conn: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> tuple[list[str], list[tuple]]:
    """(column names, rows) of a query, with the same error mapping as read_frame."""
    try:
        cursor = conn.execute(sql, list(params))
        return [d[0] for d in cursor.description], cursor.fetchall()
    except sqlite3.DatabaseError as exc:
        if not _is_store_fault(exc):
            raise
        raise unreadable_store(conn, exc) from exc


def unreadable_store(conn: sqlite3.Connection, exc: BaseException) -> EvalkitError:
    if is_busy_failure(exc):
        return busy_error(store_file(conn))
    return StoreError(f"Results database '{store_file(conn)}' cannot be read ({exc}); it may be damaged. "
                      "It was left untouched.",
                      hint="Restore the file from a backup, or pass --store with another path.")


def _is_store_fault(exc: BaseException | None) -> bool:
    """A fault of the file (damaged, unreadable), not of the query (a programming error)."""
    return isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.ProgrammingError)
