"""The results database: an SQLite file with a versioned schema.

Tables: runs (one per `evalkit run`), cells (one per model x task x setting in a run),
metrics (tidy aggregates), samples (per-document records). Opening never modifies a file
that is not an evalkit store, nor one written by a newer evalkit.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from evalkit.errors import StoreError

SCHEMA_VERSION = 1
APPLICATION_ID = 0x45564B54  # "EVKT": marks the file as an evalkit store

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    name TEXT,
    created_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'failed')),
    evalkit_version TEXT, lm_eval_version TEXT, transformers_version TEXT, torch_version TEXT,
    git_commit TEXT, host TEXT, command TEXT, seed INTEGER, config_json TEXT
);
CREATE TABLE IF NOT EXISTS cells (
    run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,
    cell_id TEXT NOT NULL,
    model TEXT NOT NULL,
    model_spec_json TEXT NOT NULL,
    model_fingerprint TEXT NOT NULL,
    adapter TEXT,
    task TEXT NOT NULL,
    task_config_hash TEXT NOT NULL,
    task_source TEXT,
    setting TEXT NOT NULL,
    num_fewshot INTEGER NOT NULL,
    n INTEGER NOT NULL,
    duration_s REAL,
    details_json TEXT,
    PRIMARY KEY (run_id, cell_id)
);
CREATE TABLE IF NOT EXISTS metrics (
    run_id TEXT NOT NULL, cell_id TEXT NOT NULL,
    model TEXT NOT NULL, task TEXT NOT NULL, setting TEXT NOT NULL,
    metric TEXT NOT NULL, value REAL, stderr REAL, ci_low REAL, ci_high REAL,
    n INTEGER NOT NULL, higher_is_better INTEGER NOT NULL,
    PRIMARY KEY (run_id, cell_id, metric),
    FOREIGN KEY (run_id, cell_id) REFERENCES cells(run_id, cell_id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS samples (
    run_id TEXT NOT NULL, cell_id TEXT NOT NULL,
    doc_id INTEGER NOT NULL, doc_hash TEXT NOT NULL, prompt_hash TEXT NOT NULL,
    prompt TEXT, target TEXT, prediction TEXT,
    scores_json TEXT NOT NULL, outputs_json TEXT,
    PRIMARY KEY (run_id, cell_id, doc_id),
    FOREIGN KEY (run_id, cell_id) REFERENCES cells(run_id, cell_id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS metrics_by_task ON metrics(task, metric);
"""

# Migrations from version v to v+1, applied in order inside one transaction.
MIGRATIONS: dict[int, str] = {}


def connect(path: Path, *, create: bool = True) -> sqlite3.Connection:
    """Open (or create) a store, check it is ours and not newer, migrate older versions."""
    path = Path(path)
    if not path.exists():
        if not create:
            raise StoreError(f"Results database '{path}' does not exist.",
                             hint="Run `evalkit run` first, or pass --store PATH.")
        _ensure_parent(path)
    conn = _open(path)
    try:
        version = _check_identity(conn, path)
        if version == 0:
            _initialise(conn, path)
        elif version < SCHEMA_VERSION:
            _migrate(conn, version)
    except BaseException:
        conn.close()
        raise
    return conn


def _ensure_parent(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"Cannot create the folder for results database '{path}': {exc.strerror}.",
                         hint="Pass --store with a writable location.") from exc


def _open(path: Path) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(path, timeout=60, isolation_level=None)
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA busy_timeout = 60000")
        return conn
    except sqlite3.Error as exc:
        raise StoreError(f"Cannot open results database '{path}': {exc}.",
                         hint="Check the path and its permissions, or pass --store PATH.") from exc


def _check_identity(conn: sqlite3.Connection, path: Path) -> int:
    """Return the schema version (0 for an empty new file); refuse foreign or newer files."""
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"'{path}' is not a readable SQLite database ({exc}); it was left untouched.",
                         hint="Pass --store with a different path, or restore the file from a backup.") from exc
    if app_id == 0 and not tables:
        return 0
    if app_id != APPLICATION_ID:
        raise StoreError(f"'{path}' is an SQLite database but not an evalkit results store; it was left untouched.",
                         hint="Pass --store with a different path.")
    row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    version = int(row[0]) if row else 0
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"Results database '{path}' has schema version {version}, newer than this evalkit "
            f"understands ({SCHEMA_VERSION}); it was left untouched.",
            hint="Upgrade evalkit (pip install -U evalkit) to read it.")
    return version


def _initialise(conn: sqlite3.Connection, path: Path) -> None:
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("BEGIN IMMEDIATE")
        if conn.execute("PRAGMA application_id").fetchone()[0] == 0:
            for statement in _statements(_DDL):
                conn.execute(statement)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        conn.execute("COMMIT")
    except sqlite3.OperationalError as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise StoreError(f"Cannot write results database '{path}': {exc}.",
                         hint="Check that the location is writable, or pass --store PATH.") from exc


def _migrate(conn: sqlite3.Connection, version: int) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        for v in range(version, SCHEMA_VERSION):
            for statement in _statements(MIGRATIONS[v]):
                conn.execute(statement)
        conn.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION),))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _statements(script: str) -> list[str]:
    """Split a DDL script into statements so they run inside our own transaction
    (executescript would commit it)."""
    return [s.strip() for s in script.split(";") if s.strip()]
