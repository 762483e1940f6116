"""Where a results store lives: an SQLite file (a path), or a PostgreSQL database (a URL), the team store.

A text starting with postgresql:// or postgres:// is a PostgreSQL URL; sqlite:///PATH is the SQLite
file PATH (SQLAlchemy's spelling: sqlite:///relative.db, sqlite:////absolute.db); any other
scheme:// is refused (it would otherwise become a file called 'mysql:' or 'sqlite:' in the
current folder); anything else is a path, refused when it ends with a path separator (it names a
folder, which pathlib would silently drop: 'reports/' would become a database file 'reports'). A URL is shown everywhere with its password masked:
`str(location)` never prints it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union
from urllib.parse import unquote, urlsplit

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
DEFAULT_STORE = Path("reports") / "evalkit.db"
# The suffixes of a results database file: a store that a command may create is named by one of them.
STORE_SUFFIXES = (".db", ".sqlite", ".sqlite3")


@dataclass(frozen=True)
class PostgresURL:
    """A PostgreSQL store's connection URL (libpq syntax); its text form masks the password."""

    url: str = field(repr=False)

    def __str__(self) -> str:
        return mask_password(self.url)

    def __repr__(self) -> str:
        return f"PostgresURL({str(self)!r})"

    @property
    def where(self) -> str:
        """'host:port/database' for messages about reaching the server."""
        parts = urlsplit(self.url)
        host = parts.hostname or "localhost"
        return f"{host}:{parts.port or 5432}/{unquote(parts.path.lstrip('/')) or '(default database)'}"

    @property
    def password(self) -> str | None:
        parts = urlsplit(self.url)
        return unquote(parts.password) if parts.password else None


StoreLocation = Union[Path, PostgresURL]


def is_postgres_url(text: str) -> bool:
    return text.strip().lower().startswith(POSTGRES_SCHEMES)


def store_location(value: str | os.PathLike[str] | PostgresURL | None) -> StoreLocation:
    """The store named by `value` (a path or a URL), or by default $EVALKIT_STORE, else reports/evalkit.db."""
    if isinstance(value, PostgresURL):
        return value
    if value is None or str(value) == "":
        value = os.environ.get("EVALKIT_STORE") or DEFAULT_STORE
    return parse_store(os.fspath(value))


_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<rest>.*)$", re.DOTALL)


def parse_store(text: str) -> StoreLocation:
    """The store a text names (see the module's docstring); a StoreError (exit 2) for an empty text,
    an unknown URL scheme, or an in-memory SQLite database (it would keep nothing)."""
    from evalkit.errors import StoreError

    if not text.strip():
        raise StoreError("The results store is empty text: it names no file and no server.",
                         hint="Pass an SQLite file path (e.g. reports/evalkit.db) or a postgresql:// URL.")
    if is_postgres_url(text):
        return _postgres_url(text.strip())
    match = _SCHEME.match(text.strip())
    if not match:
        return _file_path(text)
    scheme, rest = match["scheme"].lower(), match["rest"]
    if scheme != "sqlite":
        raise StoreError(f"'{mask_password(text.strip())}' is a {scheme}:// URL; evalkit's results store is an "
                         "SQLite file or a PostgreSQL database.",
                         hint="Pass a file path, sqlite:///PATH, or postgresql://user:pass@host:port/db.")
    if not rest.startswith("/") or rest in ("/", "/:memory:") or "?" in rest or rest.endswith(("/", "\\")):
        raise StoreError(f"'{text.strip()}' is not an SQLite URL evalkit can store results in "
                         "(sqlite:///relative.db or sqlite:////absolute/path.db; no host, no in-memory "
                         "database, no query options, a file rather than a folder).",
                         hint="Pass the database file's path instead.")
    return _file_path(unquote(rest[1:]))


def _postgres_url(text: str) -> PostgresURL:
    """The URL with its scheme in lower case (libpq reads 'POSTGRESQL://' as a key=value string),
    its host and port checked (StoreError, exit 2: urllib's ValueError would be an unexpected error)."""
    from evalkit.errors import StoreError

    scheme, rest = text.split("://", 1)
    url = f"{scheme.lower()}://{rest}"
    try:
        parts = urlsplit(url)
        parts.hostname, parts.port  # noqa: B018 - both raise ValueError on a malformed URL
    except ValueError as exc:
        raise StoreError(f"'{mask_password(url)}' is not a PostgreSQL URL evalkit can connect to: {exc}.",
                         hint="Write postgresql://user:password@host:port/database (port 1-65535; an IPv6 host "
                              "in brackets, e.g. [::1]).") from exc
    return PostgresURL(url)


def _file_path(text: str) -> Path:
    from evalkit.errors import StoreError

    folder = text.rstrip("/\\")
    if folder != text:
        instead = (f"drop the trailing separator ('{folder}')" if folder and Path(folder).is_file()
                   else f"name a file in it (e.g. '{folder or text}{'/' if folder else ''}evalkit.db')")
        raise StoreError(f"'{text}' ends with a path separator, so it names a folder, but the results database "
                         f"is a file: {instead}.")
    return Path(text)


def require_store_name(location: StoreLocation, option: str) -> None:
    """StoreError (exit 2) unless `location` is a PostgreSQL URL, a path with a database suffix, or an
    existing non-empty file (its identity is checked when it is opened): `--to results.parquet` or
    `--to README.md` names an export or a document, and must not become a new SQLite database."""
    from evalkit.errors import StoreError

    if isinstance(location, PostgresURL) or location.suffix.lower() in STORE_SUFFIXES:
        return
    if location.is_file() and location.stat().st_size > 0:  # an empty file would become a new database
        return
    raise StoreError(f"{option} '{location}' is not a results store: a new store is an SQLite file named "
                     f"*{', *'.join(STORE_SUFFIXES)}, or a postgresql:// URL.",
                     hint="Pass the store to write to (e.g. team.db or postgresql://user:pass@host:port/db); "
                          "`evalkit results export RUN -o FILE` writes Parquet, CSV or JSON files.")


def location_files(location: StoreLocation) -> list[Path]:
    """The files a store is made of locally (none for a server), so that no output is written over them."""
    return [] if isinstance(location, PostgresURL) else [Path(location)]


_PASSWORD = re.compile(r"^(?P<head>[a-z]+://[^:/@]*:)(?P<password>[^@]*)(?P<tail>@.*)$", re.IGNORECASE | re.DOTALL)


def mask_password(url: str) -> str:
    """The URL with its password (the part between 'user:' and '@') replaced by ***."""
    match = _PASSWORD.match(url)
    if not match:
        return re.sub(r"(password=)[^&\s]*", r"\1***", url)
    return re.sub(r"(password=)[^&\s]*", r"\1***", f"{match['head']}***{match['tail']}")
