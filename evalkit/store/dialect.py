"""What differs between the two store databases, in one place: SQL types, how a store is marked as
evalkit's, how its tables and columns are listed, how a schema change is locked, and which driver
errors mean busy, read-only or damaged. Everything else (the DDL, every query, the readers and
writers) is one code path over a DB-API connection: `sqlite3.Connection`, or
`evalkit.store.postgres.PostgresConnection`, which takes the same `?` / `:name` placeholders.
"""

from __future__ import annotations

import sqlite3
import sys
from dataclasses import dataclass
from typing import Any, Mapping

from evalkit.home import is_disk_full
from evalkit.store.columns import TABLES

APPLICATION_ID = 0x45564B54  # "EVKT": marks a database as an evalkit store
# PostgreSQL SQLSTATEs: another session holds a lock (timeout, deadlock, serialization) / writes refused.
_PG_BUSY = {"55P03", "40P01", "40001", "57014"}
_PG_READ_ONLY = {"25006", "42501"}


@dataclass(frozen=True)
class Identity:
    """What a database says about itself: marked as an evalkit store, empty (a new store), its tables."""

    marked: bool
    empty: bool
    tables: set[str]


class Dialect:
    """The SQLite side; `evalkit.store.postgres.PostgresDialect` overrides what PostgreSQL does differently."""

    name = "SQLite"
    types: Mapping[str, str] = {"TEXT": "TEXT", "INTEGER": "INTEGER", "REAL": "REAL"}
    row_id_column: str | None = None  # SQLite has rowid built in (insertion order, used by ORDER BY rowid)
    begin_write = "BEGIN IMMEDIATE"

    def ddl(self) -> list[str]:
        """Every statement that creates the current schema in this database."""
        return [s for table in TABLES for s in table.ddl(self.types, self.row_id_column)]

    def identity(self, conn: Any) -> Identity:
        """The mark and the tables, read in one transaction: a store another process is creating at
        this moment is seen before or after its creation, never half-way."""
        conn.execute("BEGIN")
        try:
            app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        finally:
            conn.execute("COMMIT")
        return Identity(marked=app_id == APPLICATION_ID, empty=app_id == 0 and not tables, tables=tables)

    def is_empty(self, conn: Any) -> bool:
        """Nothing there yet (checked again under the schema lock, before creating the schema)."""
        return int(conn.execute("PRAGMA application_id").fetchone()[0]) == 0

    def mark_statements(self) -> list[str]:
        return [f"PRAGMA application_id = {APPLICATION_ID}"]

    def column_names(self, conn: Any, table: str) -> set[str]:
        return {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}

    def integrity_problems(self, conn: Any) -> list[str]:
        """What SQLite's quick check finds (nothing: an empty list)."""
        rows = [r[0] for r in conn.execute("PRAGMA quick_check(5)").fetchall()]
        return [] if rows == ["ok"] else rows

    def begin_schema_change(self, conn: Any) -> None:
        """Start the one transaction that creates or migrates the schema, holding off other writers."""
        if store_name(conn) != "<memory>":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("BEGIN IMMEDIATE")


SQLITE = Dialect()


def dialect_of(conn: Any) -> Dialect:
    """The dialect of a store connection (a PostgresConnection carries its own)."""
    return getattr(conn, "dialect", SQLITE)


def store_name(conn: Any) -> str:
    """The file (or the masked URL) behind a connection ('<memory>' for an in-memory store), for messages."""
    location = getattr(conn, "location", None)
    if location is not None:
        return str(location)
    try:
        row = conn.execute("PRAGMA database_list").fetchone()
    except sqlite3.Error:
        return "<unknown>"
    return row[2] or "<memory>"


def _driver_errors(name: str) -> tuple[type[BaseException], ...]:
    """The error class `name` of each driver loaded (psycopg only once a PostgreSQL store was opened)."""
    drivers = [sqlite3] + ([sys.modules["psycopg"]] if "psycopg" in sys.modules else [])
    return tuple(getattr(driver, name) for driver in drivers)


def database_errors() -> tuple[type[BaseException], ...]:
    """Errors a store database raises (for `except database_errors() as exc:`)."""
    return _driver_errors("DatabaseError")


def integrity_errors() -> tuple[type[BaseException], ...]:
    """A write that broke a constraint (a duplicate key): the caller's fault, not the store's."""
    return _driver_errors("IntegrityError")


def programming_errors() -> tuple[type[BaseException], ...]:
    """A query that is wrong (a programming error), not a fault of the store."""
    return _driver_errors("ProgrammingError")


def is_busy_failure(exc: BaseException | None) -> bool:
    """Another connection holds the lock (after the wait ran out), in either database."""
    if getattr(exc, "sqlstate", None) in _PG_BUSY:
        return True
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("database is locked" in text or "is busy" in text)


def failure_outside_the_store(exc: BaseException | None) -> str | None:
    """What went wrong when a write failed for a reason that says nothing about the store's content
    (the disk filled up, the server stopped or the connection dropped), else None."""
    state = getattr(exc, "sqlstate", None) or ""
    if state.startswith("53"):
        return "the database server ran out of disk space or memory"
    if state[:2] in {"08", "57"}:
        return "the connection to the database server was lost (the server stopped or restarted)"
    psycopg = sys.modules.get("psycopg")
    if psycopg is not None and isinstance(exc, psycopg.OperationalError) and not state:
        return "the connection to the database server was lost"
    if isinstance(exc, sqlite3.OperationalError) and getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
        return "the disk holding the store is full"
    if exc is not None and is_disk_full(exc):
        return "the disk holding the store is full"
    return None


def is_read_only_failure(exc: BaseException | None) -> bool:
    """A write refused because the file, directory, session or role is read-only."""
    if getattr(exc, "sqlstate", None) in _PG_READ_ONLY:
        return True
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("readonly" in text or "read-only" in text)
