"""Where a results store lives: an SQLite file (a path), or a PostgreSQL database (a URL), the team store.

A text starting with postgresql:// or postgres:// is a URL; anything else is a path. A URL is
shown everywhere with its password masked: `str(location)` never prints it.
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
    text = os.fspath(value)
    return PostgresURL(text.strip()) if is_postgres_url(text) else Path(text)


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
