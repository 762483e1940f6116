"""The team store: the same schema in a PostgreSQL database, through the same readers and writers.

`PostgresConnection` wraps a psycopg 3 connection so that it takes the store's SQL as SQLite does
(`?` and `:name` placeholders, explicit BEGIN / COMMIT, `.in_transaction`); `PostgresDialect` is
what PostgreSQL does differently (types, the identity row in `meta`, information_schema, an
advisory lock for schema changes). psycopg is imported only here, when a PostgreSQL store is
opened: the light install reads a team store with just the `postgres` extra.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Iterable, Mapping, Sequence

from evalkit.errors import StoreError
from evalkit.store.dialect import APPLICATION_ID, Dialect, Identity
from evalkit.store.location import PostgresURL

BUSY_TIMEOUT_MS = 60_000  # how long a command waits for another session's lock (the schema lock)
CONNECT_TIMEOUT_S = 10
_MARK = "application_id"


class PostgresDialect(Dialect):
    name = "PostgreSQL"
    types = {"TEXT": "TEXT", "INTEGER": "BIGINT", "REAL": "DOUBLE PRECISION"}
    # PostgreSQL has no rowid: an identity column under that name keeps insertion order (ORDER BY rowid).
    row_id_column = "rowid BIGINT GENERATED ALWAYS AS IDENTITY"
    begin_write = "BEGIN"  # MVCC: writers of different cells never wait for each other

    def identity(self, conn: Any) -> Identity:
        """The identity row in `meta` (PostgreSQL has no application_id) and the schema's tables.
        DDL is transactional: the tables and the row appear together when their creator commits."""
        tables = {r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")}
        marked = "meta" in tables and conn.execute(
            "SELECT value FROM meta WHERE key = ?", (_MARK,)).fetchall() == [(str(APPLICATION_ID),)]
        return Identity(marked=marked, empty=not tables, tables=tables)

    def is_empty(self, conn: Any) -> bool:
        return not conn.execute("SELECT 1 FROM information_schema.tables "
                                "WHERE table_schema = current_schema()").fetchall()

    def mark_statements(self) -> list[str]:
        return [f"INSERT INTO meta (key, value) VALUES ('{_MARK}', '{APPLICATION_ID}')"]

    def column_names(self, conn: Any, table: str) -> set[str]:
        return {r[0] for r in conn.execute("SELECT column_name FROM information_schema.columns "
                                           "WHERE table_schema = current_schema() AND table_name = ?", (table,))}

    def integrity_problems(self, conn: Any) -> list[str]:
        """The server keeps its own pages intact (checksums, WAL); nothing for a client to check."""
        return []

    def begin_schema_change(self, conn: Any) -> None:
        """A transaction holding the store's advisory lock: concurrent creators and migrators queue."""
        conn.execute("BEGIN")
        conn.execute("SELECT pg_advisory_xact_lock(?)", (APPLICATION_ID,))


POSTGRES = PostgresDialect()


class PostgresConnection:
    """A psycopg connection speaking the store's SQL: the DB-API surface the store uses of sqlite3."""

    dialect = POSTGRES

    def __init__(self, raw: Any, location: PostgresURL) -> None:
        self.raw, self.location = raw, location

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Any:
        cursor = self.raw.cursor()
        cursor.execute(pyformat(sql), _params(params))
        return cursor

    def executemany(self, sql: str, rows: Iterable[Sequence[Any] | Mapping[str, Any]]) -> Any:
        cursor = self.raw.cursor()
        rows = [_params(r) for r in rows]
        if rows:
            cursor.executemany(pyformat(sql), rows)
        return cursor

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return self.raw.info.transaction_status != TransactionStatus.IDLE

    def close(self) -> None:
        self.raw.close()


def _params(params: Sequence[Any] | Mapping[str, Any]) -> Any:
    return dict(params) if isinstance(params, Mapping) else list(params)


_TOKENS = re.compile(r"'(?:[^']|'')*'|\?|(?<![:\w]):([A-Za-z_]\w*)|%")


@lru_cache(maxsize=256)
def pyformat(sql: str) -> str:
    """The store's SQL with psycopg's placeholders: ? -> %s, :name -> %(name)s, a literal % -> %%."""
    def token(match: re.Match[str]) -> str:
        text = match.group(0)
        if text.startswith("'"):
            return text.replace("%", "%%")
        if text == "?":
            return "%s"
        return "%%" if text == "%" else f"%({match.group(1)})s"

    return _TOKENS.sub(token, sql)


def open_postgres(location: PostgresURL, *, write: bool) -> PostgresConnection:
    """A connection to a PostgreSQL store, checked (and created or migrated when `write`) as the SQLite
    door checks a file; a reading connection's session is read-only."""
    from evalkit.store.schema import SCHEMA_VERSION, check_identity, check_structure, prepare_for_writing

    conn = connect(location, read_only=not write)
    if write:
        return prepare_for_writing(conn, location)
    try:
        version = check_identity(conn, location)
        if version == 0:
            raise StoreError(f"PostgreSQL database '{location}' holds no tables: it is not an evalkit results store "
                             "yet; it was left untouched.",
                             hint="Create the store by writing to it: `evalkit run --store URL` or "
                                  "`evalkit results push RUN --to URL`.")
        if version < SCHEMA_VERSION:
            raise StoreError(f"Results database '{location}' has schema version {version}; this evalkit reads "
                             f"version {SCHEMA_VERSION} and does not migrate a server store on a read.",
                             hint="Migrate it once by writing to it (e.g. `evalkit results push RUN --to URL`).")
        check_structure(conn, location)
    except BaseException:
        conn.close()
        raise
    return conn


def connect(location: PostgresURL, *, read_only: bool) -> PostgresConnection:
    """psycopg in autocommit mode (the store issues its own BEGIN / COMMIT, as with sqlite3); a missing
    driver, an unreachable server or a refused login is a StoreError naming host:port/database."""
    try:
        import psycopg
    except ImportError as exc:
        raise StoreError(f"The store '{location}' is a PostgreSQL database, and its driver (psycopg) is not "
                         "installed: install evalkit[postgres].",
                         hint="pip install 'evalkit[postgres]' (or pip install 'psycopg[binary]').") from exc
    options = f"-c lock_timeout={BUSY_TIMEOUT_MS} -c client_min_messages=warning"
    if read_only:
        options += " -c default_transaction_read_only=on"
    try:
        raw = psycopg.connect(location.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S, options=options,
                              application_name="evalkit")
    except psycopg.Error as exc:
        raise StoreError(f"Cannot connect to the PostgreSQL results store at {location.where} "
                         f"({_masked(exc, location)}); nothing was read or written.",
                         hint="Check the URL (user, password, host, port, database), that the server is running "
                              "and reachable, and that the database exists (createdb).") from exc
    return PostgresConnection(raw, location)


def _masked(exc: BaseException, location: PostgresURL) -> str:
    """The driver's message, on one line, never showing the password."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    password = location.password
    if not password:
        return text
    if len(password) >= 8:
        return text.replace(password, "***")
    # A short password is masked only where it stands alone, so that 'p' does not turn 'port' into '***ort'.
    return re.sub(rf"(?<![A-Za-z0-9]){re.escape(password)}(?![A-Za-z0-9])", "***", text)
