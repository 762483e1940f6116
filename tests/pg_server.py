"""A throw-away PostgreSQL server for the tests: initdb into a temporary folder, `postgres` on a free
local port (as the `postgres` OS user when the tests run as root: the server refuses root), one fresh
database per test, stopped at the end of the session. Without the server binaries the tests that need
it are skipped locally, and fail under CI (CI must never skip them silently: `make postgres` installs them).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

SERVER_FLAGS = ("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                "-c", "max_connections=60", "-c", "shared_buffers=32MB", "-c", "listen_addresses=127.0.0.1")


@dataclass(frozen=True)
class PgServer:
    port: int
    data_dir: Path

    def url(self, database: str = "postgres", *, password: str | None = None) -> str:
        secret = f":{password}" if password else ""
        return f"postgresql://postgres{secret}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database; its URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.url(name)


def server_binaries() -> Path | None:
    """The folder holding initdb and postgres (PATH first, then Debian's /usr/lib/postgresql/<ver>/bin)."""
    found = shutil.which("initdb")
    if found and shutil.which("postgres"):
        return Path(found).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4]))
    return Path(versions[-1]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _wait_until_ready(server: PgServer, process: subprocess.Popen, log: Path) -> None:
    import psycopg

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"postgres exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            psycopg.connect(server.url(), connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            time.sleep(0.1)
    raise RuntimeError(f"postgres did not accept connections within 30 s: {log.read_text()[-2000:]}")


@contextmanager
def running_server(binaries: Path) -> Iterator[PgServer]:
    """initdb + postgres in a temporary folder (as the postgres user under root), stopped and removed after."""
    root = Path(tempfile.mkdtemp(prefix="evalkit-pg-"))  # under /tmp: the server user must reach it
    data, log = root / "data", root / "server.log"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    subprocess.run(_as_server_user([str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                                    "-E", "UTF8", "--no-sync", "--no-instructions"]),
                   check=True, capture_output=True)
    server = PgServer(_free_port(), data)
    with open(log, "w") as out:
        if os.geteuid() == 0:
            shutil.chown(log, "postgres", "postgres")
        process = subprocess.Popen(_as_server_user([str(binaries / "postgres"), "-D", str(data), "-k", str(root),
                                                    "-h", "127.0.0.1", "-p", str(server.port), *SERVER_FLAGS]),
                                   stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_until_ready(server, process, log)
        yield server
    finally:
        subprocess.run(_as_server_user([str(binaries / "pg_ctl"), "stop", "-D", str(data), "-m", "fast", "-s"]),
                       capture_output=True, check=False)  # fast: connections a test left open do not hold it up
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One PostgreSQL server for the whole session (skipped without binaries, failed under CI)."""
    binaries = server_binaries()
    if binaries is None:
        reason = "PostgreSQL server binaries (initdb, postgres) are not installed; `make postgres` installs them"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    pytest.importorskip("psycopg", reason="the postgres extra is not installed: pip install -e '.[postgres]'")
    with running_server(binaries) as server:
        yield server


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """The URL of a fresh, empty database on the session's server."""
    return pg_server.create_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_at(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a new store is made, once per backend: an SQLite file path, or a fresh PostgreSQL database URL."""
    if request.param == "sqlite":
        return str(tmp_path / "store.db")
    return request.getfixturevalue("pg_url")
