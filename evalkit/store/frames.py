"""Store queries as pandas DataFrames or rows, with the database's read failures turned into StoreErrors.
One code path for both databases: rows come from the DB-API cursor, the frame is built as
pandas' read_sql_query builds it (`DataFrame.from_records`, floats coerced)."""

from __future__ import annotations

from typing import Any, Sequence

import pandas as pd

from evalkit.errors import EvalkitError, StoreError
from evalkit.store.dialect import database_errors, is_busy_failure, programming_errors
from evalkit.store.schema import busy_error, store_file


def read_frame(conn: Any, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
    """The query's rows as a DataFrame; a store the database cannot read (damaged pages) becomes a
    StoreError naming it."""
    names, rows = read_rows(conn, sql, params)
    return pd.DataFrame.from_records(rows, columns=names, coerce_float=True)


def read_rows(conn: Any, sql: str, params: Sequence[Any] = ()) -> tuple[list[str], list[tuple]]:
    """(column names, rows) of a query, with a damaged or locked store named."""
    try:
        cursor = conn.execute(sql, list(params))
        return [d[0] for d in cursor.description], [tuple(r) for r in cursor.fetchall()]
    except database_errors() as exc:
        if not _is_store_fault(exc):
            raise
        raise unreadable_store(conn, exc) from exc


def unreadable_store(conn: Any, exc: BaseException) -> EvalkitError:
    if is_busy_failure(exc):
        return busy_error(store_file(conn))
    return StoreError(f"Results database '{store_file(conn)}' cannot be read ({exc}); it may be damaged. "
                      "It was left untouched.",
                      hint="Restore the store from a backup, or pass --store with another one.")


def _is_store_fault(exc: BaseException | None) -> bool:
    """A fault of the store (damaged, unreadable, locked), not of the query (a programming error)."""
    return isinstance(exc, database_errors()) and not isinstance(exc, programming_errors())
