"""The results database: an SQLite file or a PostgreSQL database (`evalkit.store.location`) with a
versioned schema (tables: `evalkit.store.columns`; what differs per database: `evalkit.store.dialect`).

Two doors: `open_for_reading` never writes (it refuses a missing, empty or foreign store and reads
an older SQLite store through a migrated in-memory copy), and `open_for_writing` creates a new store
or checks an existing one (identity, integrity, structure) before its first write and migrates it.
Neither modifies a database that is not an evalkit store, a damaged one, or one from a newer evalkit.
"""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path

from typing import Any

from evalkit.errors import EvalkitError, StoreError
from evalkit.store.columns import RESULT_TABLES
from evalkit.store.dialect import (APPLICATION_ID, database_errors, dialect_of, is_busy_failure,
                                   is_read_only_failure, store_name)
from evalkit.store.location import PostgresURL, StoreLocation, store_location
from evalkit.store.migrations import MIGRATIONS, pending

__all__ = ["APPLICATION_ID", "SCHEMA_VERSION", "StoreBusyError", "busy_error", "is_busy_failure",
           "is_read_only_failure", "open_for_reading", "open_for_writing", "open_memory_store", "read_only_error",
           "store_file", "store_files", "why_not_writable"]

SCHEMA_VERSION = MIGRATIONS[-1][0]
_RESTORE = "Restore the file from a backup, or pass --store with another path."
BUSY_TIMEOUT_S = 60.0  # how long a command waits for another process's lock on the store


class StoreBusyError(EvalkitError):
    """The store stayed locked by another process for longer than BUSY_TIMEOUT_S. Exit 1: nothing is
    wrong with the input or the file, the same command succeeds once the other process is done."""

    exit_code = 1


def busy_error(path: StoreLocation | str) -> StoreBusyError:
    """The one message for a store another process keeps locked."""
    return StoreBusyError(f"Results database '{path}' is locked by another process (still locked after "
                          f"{BUSY_TIMEOUT_S:g} s); it was left untouched.",
                          hint="Wait for the other process (an `evalkit run` writing to this store?) to finish, "
                               "then run the command again.")


def open_for_reading(location: StoreLocation | str) -> Any:
    """A read-only connection to an existing store (works on read-only files and directories)."""
    place = store_location(location)
    if isinstance(place, PostgresURL):
        from evalkit.store.postgres import open_postgres

        return open_postgres(place, write=False)
    path = place
    _require_store_file(path)
    conn = _open_read_only(path)
    try:
        version = check_identity(conn, path)
        if version == 0:
            raise StoreError(f"'{path}' is an empty SQLite database, not an evalkit results store; "
                             "it was left untouched.", hint=_NEW_STORE_HINT)
        if version < SCHEMA_VERSION:
            conn = _migrated_copy(conn, path, version)
        check_structure(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


def open_for_writing(location: StoreLocation | str) -> Any:
    """A read-write connection: a new store is created; an existing one is checked (ours, not newer,
    intact, complete) and migrated before anything is written to it."""
    place = store_location(location)
    if isinstance(place, PostgresURL):
        from evalkit.store.postgres import open_postgres

        return open_postgres(place, write=True)
    path = place
    if path.is_dir():
        raise StoreError(f"Results database '{path}' is a directory.", hint="Pass --store with a file path.")
    if not path.exists():
        _ensure_parent(path)
    _require_writable(path)
    return prepare_for_writing(_open(path), path)


def prepare_for_writing(conn: Any, where: StoreLocation) -> Any:
    """Check an open connection's store (identity, integrity, version, structure) and create or
    migrate it; the connection is closed if anything is wrong."""
    try:
        version = check_identity(conn, where)
        if version == 0:
            _initialise(conn, where)
            return conn
        _check_integrity(conn, where)
        if version < SCHEMA_VERSION:
            migrate(conn, where, version)
        else:
            check_structure(conn, where)
    except BaseException:
        conn.close()
        raise
    return conn


def open_memory_store() -> sqlite3.Connection:
    """A fresh, empty in-memory store with the current schema (used to load baselines)."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    _create(conn)
    return conn


def store_file(conn: Any) -> str:
    """The file (or the masked URL) behind a connection ('<memory>' for an in-memory store), for messages."""
    return store_name(conn)


def store_files(conn: Any) -> list[Path]:
    """The local file behind a connection, for output checks (none for memory or a server)."""
    name = store_name(conn)
    return [] if name == "<memory>" or getattr(conn, "location", None) is not None else [Path(name)]


_NEW_STORE_HINT = "Pass --store with an existing results database, or create one with `evalkit run --store PATH`."


def _require_store_file(path: Path) -> None:
    """A read needs an existing, non-empty regular file; nothing is created."""
    if not path.exists():
        raise StoreError(f"Results database '{path}' does not exist.",
                         hint="Run `evalkit run` first, or pass --store PATH.")
    if not path.is_file():
        raise StoreError(f"Results database '{path}' is not a file.", hint=_NEW_STORE_HINT)
    if path.stat().st_size == 0:
        raise StoreError(f"'{path}' is an empty file (0 bytes), not an evalkit results store; "
                         "it was left untouched.", hint=_NEW_STORE_HINT)


def _ensure_parent(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"Cannot create the folder for results database '{path}': {exc.strerror}.",
                         hint="Pass --store with a writable location.") from exc


def _require_writable(path: Path) -> None:
    """Refuse a read-only file or directory up front (SQLite would report it late, or as corruption)."""
    why = why_not_writable(path)
    if why:
        raise read_only_error(path, why)


def why_not_writable(path: Path | str) -> str | None:
    """'the file is read-only' / 'the directory ... is read-only', or None when both are writable."""
    path = Path(path)
    if path.exists() and not os.access(path, os.W_OK):
        return "the file is read-only"
    if not os.access(path.parent, os.W_OK | os.X_OK):
        return f"the directory '{path.parent}' is read-only"
    return None


def read_only_error(path: StoreLocation | str, why: str = "it is read-only") -> StoreError:
    """The one message for a store that cannot be written."""
    return StoreError(f"Cannot write results database '{path}': {why}; it was left untouched.",
                      hint="Make it writable (chmod u+w), or pass --store with a writable path. "
                           "Reading it (results list/show, compare) works as it is.")


def _open(path: Path) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        return conn
    except sqlite3.Error as exc:
        if is_busy_failure(exc):
            raise busy_error(path) from exc
        raise StoreError(f"Cannot open results database '{path}': {exc}.",
                         hint="Check the path and its permissions, or pass --store PATH.") from exc


def _open_read_only(path: Path) -> sqlite3.Connection:
    """A connection that cannot write. Where the file could be written, a normal connection with
    query_only (it removes its -wal / -shm on close, which a mode=ro one cannot); otherwise mode=ro,
    and immutable for a WAL store in a read-only directory (no -shm can be made there)."""
    uri = path.resolve().as_uri()
    if why_not_writable(path) is None:
        try:
            conn = _probed(f"{uri}?mode=rw")
            conn.execute("PRAGMA query_only = ON")
            return conn
        except sqlite3.DatabaseError as exc:
            raise _unreadable(path, exc) from exc
    try:
        return _probed(f"{uri}?mode=ro")
    except sqlite3.DatabaseError as exc:
        cannot_share = "unable to open" in str(exc) or is_read_only_failure(exc)
        if Path(f"{path}-wal").exists() or not cannot_share:
            raise _unreadable(path, exc) from exc
    try:  # nothing can be writing: there is no WAL and the directory cannot hold one
        return _probed(f"{uri}?immutable=1")
    except sqlite3.DatabaseError as exc:
        raise _unreadable(path, exc) from exc


def _probed(uri: str) -> sqlite3.Connection:
    """Connect to `uri` and read the schema once, so a file SQLite cannot open fails here."""
    conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    try:
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except BaseException:
        conn.close()
        raise
    return conn


def _unreadable(where: StoreLocation, exc: BaseException) -> EvalkitError:
    if is_busy_failure(exc):
        return busy_error(where)
    kind = "SQLite" if isinstance(where, Path) else "PostgreSQL"
    return StoreError(f"'{where}' is not a readable {kind} database ({exc}); it was left untouched.",
                      hint="Pass --store with a different path, or restore the file from a backup.")


def check_identity(conn: Any, where: StoreLocation) -> int:
    """The schema version (0 for an empty new database); refuse foreign, newer or malformed ones."""
    dialect = dialect_of(conn)
    try:
        identity = dialect.identity(conn)
    except database_errors() as exc:
        raise _unreadable(where, exc) from exc
    if identity.empty:
        return 0
    if not identity.marked:
        raise StoreError(f"'{where}' is {_a(dialect.name)} database but not an evalkit results store; it was left "
                         "untouched.", hint="Pass --store with a different path or database.")
    version = _stored_version(conn, where, identity.tables)
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"Results database '{where}' has schema version {version}, newer than this evalkit "
            f"understands ({SCHEMA_VERSION}); it was left untouched.",
            hint="Upgrade evalkit (pip install -U evalkit) to read it.")
    return version


def _a(name: str) -> str:
    return "an SQLite" if name == "SQLite" else f"a {name}"


def _stored_version(conn: Any, where: StoreLocation, tables: set[str]) -> int:
    """meta.schema_version as a positive integer; StoreError when it is missing or malformed."""
    if "meta" not in tables:
        raise _damaged(where, "it is marked as an evalkit store but has no 'meta' table")
    try:
        rows = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
    except database_errors() as exc:
        raise _damaged_or_busy(where, f"its 'meta' table cannot be read ({exc})", exc) from exc
    if len(rows) != 1:
        raise _damaged(where, "its 'meta' table has no schema_version")
    text = str(rows[0][0]).strip()
    if not re.fullmatch(r"[0-9]+", text) or int(text) < 1:  # isdigit() takes '³' and '٩', int() not both
        raise _damaged(where, f"its schema_version is {rows[0][0]!r}, not a version number")
    return int(text)


def _damaged(where: StoreLocation | str, why: str) -> StoreError:
    return StoreError(f"Results database '{where}' is damaged: {why}; it was left untouched.", hint=_RESTORE)


def _damaged_or_busy(where: StoreLocation | str, why: str, exc: BaseException) -> EvalkitError:
    return busy_error(where) if is_busy_failure(exc) else _damaged(where, why)


def _check_integrity(conn: Any, where: StoreLocation) -> None:
    """The database's own integrity check before the first write: a damaged store is never written to."""
    try:
        problems = dialect_of(conn).integrity_problems(conn)
    except database_errors() as exc:
        raise _damaged_or_busy(where, f"its integrity check failed ({exc})", exc) from exc
    if problems:
        raise _damaged(where, f"its integrity check found: {'; '.join(problems)[:300]}")


def check_structure(conn: Any, where: StoreLocation | str) -> None:
    """Every table and column of the description is present (a store with one dropped is damaged)."""
    dialect = dialect_of(conn)
    for table in RESULT_TABLES:
        try:
            present = dialect.column_names(conn, table.name)
        except database_errors() as exc:
            raise _damaged_or_busy(where, f"its table '{table.name}' cannot be read ({exc})", exc) from exc
        missing = [n for n in table.names if n not in present]
        if missing:
            what = "table" if not present else f"column(s) {', '.join(missing)} of table"
            raise _damaged(where, f"it lacks the {what} '{table.name}'")


def _create(conn: Any) -> None:
    dialect = dialect_of(conn)
    for statement in dialect.ddl() + dialect.mark_statements():
        conn.execute(statement)
    conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
                 "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (str(SCHEMA_VERSION),))


def _initialise(conn: Any, where: StoreLocation) -> None:
    """Create the schema under the schema lock, unless another process created it meanwhile."""
    dialect = dialect_of(conn)
    try:
        dialect.begin_schema_change(conn)
        if dialect.is_empty(conn):
            _create(conn)
        conn.execute("COMMIT")
    except database_errors() as exc:
        _roll_back_and_name(conn, where, exc)
        raise StoreError(f"Cannot write results database '{where}': {exc}.",
                         hint="Check that the location is writable, or pass --store PATH.") from exc


def migrate(conn: Any, where: StoreLocation | str, version: int) -> None:
    """Every pending migration in one transaction (none if another process migrated meanwhile);
    the structure is checked before COMMIT."""
    dialect = dialect_of(conn)
    try:
        dialect.begin_schema_change(conn)
        version = _stored_version(conn, where, {"meta"})
        for _, step in pending(version):
            step(conn)
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))
        check_structure(conn, where)
        conn.execute("COMMIT")
    except BaseException as exc:
        _roll_back_and_name(conn, where, exc)
        if isinstance(exc, database_errors()):
            raise _damaged(where, f"migrating it from version {version} failed ({exc})") from exc
        raise


def _roll_back_and_name(conn: Any, where: StoreLocation | str, exc: BaseException) -> None:
    """Undo the failed write transaction; raise the read-only or locked store's own error when it is one."""
    if conn.in_transaction:
        conn.execute("ROLLBACK")
    if is_read_only_failure(exc):
        raise read_only_error(where) from exc
    if is_busy_failure(exc):
        raise busy_error(where) from exc


def _migrated_copy(conn: sqlite3.Connection, path: Path, version: int) -> sqlite3.Connection:
    """An older store read through an in-memory copy migrated to the current schema (file untouched)."""
    memory = sqlite3.connect(":memory:", isolation_level=None)
    try:
        conn.backup(memory)
        migrate(memory, path, version)
    except BaseException:
        memory.close()
        raise
    finally:
        conn.close()
    memory.execute("PRAGMA foreign_keys = ON")
    return memory
