"""A read-only store (file mode 0444, or a read-only directory) is read normally and reported as
read-only when written, never as a damaged database.

Root ignores file modes, so the real chmod tests run the probe as user `nobody` when the suite
runs as root; the mapping of SQLite's own refusal is also tested in-process with mode=ro."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

from evalkit.errors import StoreError
from evalkit.store import schema
from evalkit.store.schema import open_for_reading, open_for_writing
from evalkit.store.writer import begin_run, finish_run, write_cell
from tests.store.synthetic import synthetic_run

ROOT = Path(__file__).resolve().parents[2]
NOBODY = 65534


def _store(path: Path) -> Path:
    conn = open_for_writing(path)
    info, cells = synthetic_run("r1", n_cells=1, n_docs=5)
    begin_run(conn, info)
    write_cell(conn, "r1", cells[0])
    finish_run(conn, "r1", "complete")
    conn.close()
    return path


def _probe_command() -> tuple[list[str], dict[str, object]] | None:
    """How to run the probe without root's privileges, or None when this machine cannot."""
    probe = [str(Path(__file__).with_name("read_only_probe.py"))]
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    if os.geteuid() != 0:
        return [sys.executable, *probe], {"env": {**os.environ, **env}}
    for python in (sys.executable, "/usr/bin/python3"):
        args = [python, "-c", "import evalkit.store.schema"]
        try:
            ok = subprocess.run(args, user=NOBODY, group=NOBODY, env=env, capture_output=True, cwd="/",
                                timeout=60).returncode == 0
        except (OSError, subprocess.SubprocessError):
            ok = False
        if ok:
            return [python, *probe], {"env": env, "user": NOBODY, "group": NOBODY}
    return None


@pytest.fixture(scope="module")
def probe_command() -> tuple[list[str], dict[str, object]]:
    found = _probe_command()
    if found is None:
        pytest.skip("cannot run a process without root's privileges here")
    return found


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory the unprivileged probe can reach (pytest's tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="evalkit-ro-"))
    folder.chmod(0o755)
    yield folder
    folder.chmod(0o755)
    shutil.rmtree(folder)


def _run_probe(command: tuple[list[str], dict[str, object]], path: Path) -> dict[str, object]:
    args, options = command
    result = subprocess.run([*args, str(path)], capture_output=True, text=True, timeout=120, cwd="/", **options)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _give_to_nobody(*paths: Path) -> None:
    if os.geteuid() == 0:
        for p in paths:
            os.chown(p, NOBODY, NOBODY)


def test_a_read_only_file_is_read_and_refused_for_writing_as_read_only(probe_command, shared_dir: Path) -> None:
    path = _store(shared_dir / "r.db")
    _give_to_nobody(shared_dir, path)
    path.chmod(0o444)
    before = path.read_bytes()
    out = _run_probe(probe_command, path)
    assert out["read"] == 1
    assert out["write"] == f"Cannot write results database '{path}': the file is read-only; it was left untouched."
    assert "read-only" in str(out["sqlite_write"]) and "damaged" not in str(out["sqlite_write"])
    assert path.read_bytes() == before


def test_a_store_in_a_read_only_directory_is_read_and_refused_for_writing(probe_command, shared_dir: Path) -> None:
    folder = shared_dir / "ro"
    folder.mkdir()
    path = _store(folder / "r.db")  # a WAL-mode store: reading needs -shm, which cannot be created here
    _give_to_nobody(shared_dir, folder, path)
    folder.chmod(0o555)
    before = path.read_bytes()
    out = _run_probe(probe_command, path)
    assert out["read"] == 1
    assert out["write"] == (f"Cannot write results database '{path}': the directory '{folder}' is read-only; "
                            "it was left untouched.")
    assert "read-only" in str(out["sqlite_write"]), out
    assert path.read_bytes() == before and sorted(os.listdir(folder)) == ["r.db"]


def test_sqlite_refusing_a_write_is_reported_as_read_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process, as any user: a connection SQLite opened read-only ('attempt to write a readonly
    database') gives the read-only message, for a new store and for a write to an existing one."""
    path = _store(tmp_path / "r.db")
    read_only = lambda p: sqlite3.connect(f"{Path(p).resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
    conn = read_only(path)
    with pytest.raises(StoreError, match="Cannot write results database .*r.db': it is read-only"):
        finish_run(conn, "r1", "failed")
    conn.close()
    monkeypatch.setattr(schema, "_open", read_only)
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    with pytest.raises(StoreError, match="Cannot write results database .*empty.db': it is read-only"):
        open_for_writing(empty)
    assert empty.read_bytes() == b""


def test_a_read_only_store_is_listed_through_the_cli(tmp_path: Path, evalkit_cli) -> None:
    path = _store(tmp_path / "r.db")
    path.chmod(0o444)
    before = path.read_bytes()
    result = evalkit_cli("results", "list", "--store", path)
    assert result.exit_code == 0 and "r1" in result.stdout, result.output
    assert path.read_bytes() == before


def test_reading_never_writes_through_the_connection(tmp_path: Path) -> None:
    conn = open_for_reading(_store(tmp_path / "r.db"))
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        conn.execute("DELETE FROM runs")
    conn.close()
