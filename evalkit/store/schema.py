"""The results database: an SQLite file with a versioned schema (tables: `evalkit.store.columns`).

Two doors: `open_for_reading` never writes (it refuses a missing, empty or foreign file and reads
an older store through a migrated in-memory copy), and `open_for_writing` creates a new store or
checks an existing one (identity, integrity, structure) before its first write and migrates it.
Neither modifies a file that is not an evalkit store, a damaged one, or one from a newer evalkit.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from evalkit.errors import EvalkitError, StoreError
from evalkit.store.columns import RESULT_TABLES, ddl_statements
from evalkit.store.migrations import MIGRATIONS, pending

SCHEMA_VERSION = MIGRATIONS[-1][0]
APPLICATION_ID = 0x45564B54  # "EVKT": marks the file as an evalkit store
_RESTORE = "Restore the file from a backup, or pass --store with another path."
BUSY_TIMEOUT_S = 60.0  # how long a command waits for another process's lock on the store


class StoreBusyError(EvalkitError):
    """The store stayed locked by another process for longer than BUSY_TIMEOUT_S. Exit 1: nothing is
    wrong with the input or the file, the same command succeeds once the other process is done."""

    exit_code = 1


def is_busy_failure(exc: BaseException | None) -> bool:
    """SQLite's ways of saying another connection holds the lock (after the busy timeout ran out)."""
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("database is locked" in text or "is busy" in text)


def busy_error(path: Path | str) -> StoreBusyError:
    """The one message for a store another process keeps locked."""
    return StoreBusyError(f"Results database '{path}' is locked by another process (still locked after "
                          f"{BUSY_TIMEOUT_S:g} s); it was left untouched.",
                          hint="Wait for the other process (an `evalkit run` writing to this store?) to finish, "
                               "then run the command again.")


def open_for_reading(path: Path) -> sqlite3.Connection:
    """A read-only connection to an existing store (works on read-only files and directories)."""
    path = Path(path)
    _require_store_file(path)
    conn = _open_read_only(path)
    try:
        version = _check_identity(conn, path)
        if version == 0:
            raise StoreError(f"'{path}' is an empty SQLite database, not an evalkit results store; "
                             "it was left untouched.", hint=_NEW_STORE_HINT)
        if version < SCHEMA_VERSION:
            conn = _migrated_copy(conn, path, version)
        _check_structure(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


def open_for_writing(path: Path) -> sqlite3.Connection:
    """A read-write connection: a new store is created; an existing one is checked (ours, not newer,
    intact, complete) and migrated before anything is written to it."""
    path = Path(path)
    if path.is_dir():
        raise StoreError(f"Results database '{path}' is a directory.", hint="Pass --store with a file path.")
    if not path.exists():
        _ensure_parent(path)
    _require_writable(path)
    conn = _open(path)
    try:
        version = _check_identity(conn, path)
        if version == 0:
            _initialise(conn, path)
            return conn
        _check_integrity(conn, path)
        if version < SCHEMA_VERSION:
            _migrate(conn, path, version)
        else:
            _check_structure(conn, path)
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


def read_only_error(path: Path | str, why: str = "it is read-only") -> StoreError:
    """The one message for a store that cannot be written."""
    return StoreError(f"Cannot write results database '{path}': {why}; it was left untouched.",
                      hint="Make it writable (chmod u+w), or pass --store with a writable path. "
                           "Reading it (results list/show, compare) works as it is.")


def is_read_only_failure(exc: BaseException) -> bool:
    """SQLite's ways of saying a write was refused because the file or directory is read-only."""
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and ("readonly" in text or "read-only" in text)


def store_file(conn: sqlite3.Connection) -> str:
    """The file behind a connection ('<memory>' for an in-memory store), for messages."""
    try:
        row = conn.execute("PRAGMA database_list").fetchone()
    except sqlite3.Error:
        return "<unknown>"
    return row[2] or "<memory>"


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


def _unreadable(path: Path, exc: BaseException) -> EvalkitError:
    if is_busy_failure(exc):
        return busy_error(path)
    return StoreError(f"'{path}' is not a readable SQLite database ({exc}); it was left untouched.",
                      hint="Pass --store with a different path, or restore the file from a backup.")


def _check_identity(conn: sqlite3.Connection, path: Path) -> int:
    """The schema version (0 for an empty new file); refuse foreign, newer or malformed files."""
    try:
        app_id, tables = _identity_snapshot(conn)
    except sqlite3.DatabaseError as exc:
        raise _unreadable(path, exc) from exc
    if app_id == 0 and not tables:
        return 0
    if app_id != APPLICATION_ID:
        raise StoreError(f"'{path}' is an SQLite database but not an evalkit results store; it was left untouched.",
                         hint="Pass --store with a different path.")
    version = _stored_version(conn, path, tables)
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"Results database '{path}' has schema version {version}, newer than this evalkit "
            f"understands ({SCHEMA_VERSION}); it was left untouched.",
            hint="Upgrade evalkit (pip install -U evalkit) to read it.")
    return version


def _identity_snapshot(conn: sqlite3.Connection) -> tuple[int, set[str]]:
    """application_id and the table names, read in one transaction: a store another process is
    creating at this moment is seen before or after its creation, never half-way (tables without
    the id would look like a foreign database)."""
    conn.execute("BEGIN")
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        conn.execute("COMMIT")
    return int(app_id), tables


def _stored_version(conn: sqlite3.Connection, path: Path, tables: set[str]) -> int:
    """meta.schema_version as a positive integer; StoreError when it is missing or malformed."""
    if "meta" not in tables:
        raise _damaged(path, "it is marked as an evalkit store but has no 'meta' table")
    try:
        rows = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
    except sqlite3.DatabaseError as exc:
        raise _damaged_or_busy(path, f"its 'meta' table cannot be read ({exc})", exc) from exc
    if len(rows) != 1:
        raise _damaged(path, "its 'meta' table has no schema_version")
    text = str(rows[0][0]).strip()
    if not text.isdigit() or int(text) < 1:
        raise _damaged(path, f"its schema_version is {rows[0][0]!r}, not a version number")
    return int(text)


def _damaged(path: Path, why: str) -> StoreError:
    return StoreError(f"Results database '{path}' is damaged: {why}; it was left untouched.", hint=_RESTORE)


def _damaged_or_busy(path: Path, why: str, exc: BaseException) -> EvalkitError:
    return busy_error(path) if is_busy_failure(exc) else _damaged(path, why)


def _check_integrity(conn: sqlite3.Connection, path: Path) -> None:
    """PRAGMA quick_check before the first write: a damaged store is never written to."""
    try:
        rows = [r[0] for r in conn.execute("PRAGMA quick_check(5)").fetchall()]
    except sqlite3.DatabaseError as exc:
        raise _damaged_or_busy(path, f"its integrity check failed ({exc})", exc) from exc
    if rows != ["ok"]:
        raise _damaged(path, f"its integrity check found: {'; '.join(rows)[:300]}")


def _check_structure(conn: sqlite3.Connection, path: Path) -> None:
    """Every table and column of the description is present (a store with one dropped is damaged)."""
    for table in RESULT_TABLES:
        try:
            present = {r[1] for r in conn.execute(f"PRAGMA table_info({table.name})")}
        except sqlite3.DatabaseError as exc:
            raise _damaged_or_busy(path, f"its table '{table.name}' cannot be read ({exc})", exc) from exc
        missing = [n for n in table.names if n not in present]
        if missing:
            what = "table" if not present else f"column(s) {', '.join(missing)} of table"
            raise _damaged(path, f"it lacks the {what} '{table.name}'")


def _create(conn: sqlite3.Connection) -> None:
    for statement in ddl_statements():
        conn.execute(statement)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))


def _initialise(conn: sqlite3.Connection, path: Path) -> None:
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("BEGIN IMMEDIATE")
        if conn.execute("PRAGMA application_id").fetchone()[0] == 0:
            _create(conn)
        conn.execute("COMMIT")
    except sqlite3.OperationalError as exc:
        _roll_back_and_name(conn, path, exc)
        raise StoreError(f"Cannot write results database '{path}': {exc}.",
                         hint="Check that the location is writable, or pass --store PATH.") from exc


def _migrate(conn: sqlite3.Connection, path: Path | str, version: int) -> None:
    """Every pending migration in one transaction; the structure is checked before COMMIT."""
    try:
        conn.execute("BEGIN IMMEDIATE")
        for _, step in pending(version):
            step(conn)
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION),))
        _check_structure(conn, Path(path))
        conn.execute("COMMIT")
    except BaseException as exc:
        _roll_back_and_name(conn, path, exc)
        if isinstance(exc, sqlite3.DatabaseError):
            raise _damaged(Path(path), f"migrating it from version {version} failed ({exc})") from exc
        raise


def _roll_back_and_name(conn: sqlite3.Connection, path: Path | str, exc: BaseException) -> None:
    """Undo the failed write transaction; raise the read-only or locked store's own error when it is one."""
    if conn.in_transaction:
        conn.execute("ROLLBACK")
    if is_read_only_failure(exc):
        raise read_only_error(path) from exc
    if is_busy_failure(exc):
        raise busy_error(path) from exc


def _migrated_copy(conn: sqlite3.Connection, path: Path, version: int) -> sqlite3.Connection:
    """An older store read through an in-memory copy migrated to the current schema (file untouched)."""
    memory = sqlite3.connect(":memory:", isolation_level=None)
    try:
        conn.backup(memory)
        _migrate(memory, path, version)
    except BaseException:
        memory.close()
        raise
    finally:
        conn.close()
    memory.execute("PRAGMA foreign_keys = ON")
    return memory
