from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from evalkit.errors import StoreError
from evalkit.store.schema import SCHEMA_VERSION, open_for_reading, open_for_writing, open_memory_store
from evalkit.store.writer import begin_run, finish_run, write_cell
from tests.store.synthetic import synthetic_run

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tasks"


def _filled_store(path: Path, *, n_docs: int = 400) -> Path:
    conn = open_for_writing(path)
    info, cells = synthetic_run("r1", n_cells=3, n_docs=n_docs)
    begin_run(conn, info)
    for cell in cells:
        write_cell(conn, "r1", cell)
    finish_run(conn, "r1", "complete")
    conn.close()  # checkpoints the WAL into the file
    return path


def _damage_the_middle(path: Path) -> Path:
    """Overwrite three pages in the middle of the file; the header (page 1) stays valid."""
    data = bytearray(path.read_bytes())
    start = (len(data) // 4096 // 2) * 4096
    data[start:start + 3 * 4096] = b"\xff" * (3 * 4096)
    path.write_bytes(bytes(data))
    return path


def _sql(path: Path, *statements: str) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    for statement in statements:
        conn.execute(statement)
    conn.close()


def test_new_store_is_created_with_current_version(tmp_path: Path) -> None:
    conn = open_for_writing(tmp_path / "sub" / "r.db")
    version = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0]
    assert int(version) == SCHEMA_VERSION == 3


def test_newer_schema_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    conn = open_for_writing(path)
    conn.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    conn.close()  # checkpoints the WAL into the file
    before = path.read_bytes()
    for door in (open_for_writing, open_for_reading):
        with pytest.raises(StoreError, match="schema version 99, newer"):
            door(path)
    assert path.read_bytes() == before


def test_corrupt_file_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    path.write_bytes(b"this is not a database" * 100)
    before = path.read_bytes()
    for door in (open_for_writing, open_for_reading):
        with pytest.raises(StoreError, match="not a readable SQLite database"):
            door(path)
    assert path.read_bytes() == before


def test_foreign_sqlite_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE x (y)")
    other.commit()
    other.close()
    with pytest.raises(StoreError, match="not an evalkit results store"):
        open_for_writing(path)


def test_missing_store_when_reading(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        open_for_reading(tmp_path / "nope.db")
    assert not (tmp_path / "nope.db").exists()


def test_unwritable_location_is_a_clear_error() -> None:
    with pytest.raises(StoreError, match="Cannot create the folder for results database"):
        open_for_writing(Path("/proc/evalkit-cannot-write/r.db"))


def test_a_zero_byte_file_is_never_turned_into_a_store_by_a_read(tmp_path: Path, evalkit_cli) -> None:
    path = tmp_path / "zero.db"
    path.write_bytes(b"")
    result = evalkit_cli("results", "list", "--store", path)
    assert result.exit_code == 2, result.output
    assert f"'{path}' is an empty file (0 bytes), not an evalkit results store" in result.stderr
    assert "Traceback" not in result.output and path.stat().st_size == 0
    with pytest.raises(StoreError, match="empty file"):
        open_for_reading(path)
    assert path.stat().st_size == 0 and sorted(p.name for p in tmp_path.iterdir()) == ["zero.db"]


def test_an_empty_sqlite_database_is_not_a_store_for_reading(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    _sql(path, "PRAGMA user_version = 1")  # a valid, table-less SQLite file
    before = path.read_bytes()
    with pytest.raises(StoreError, match="empty SQLite database, not an evalkit results store"):
        open_for_reading(path)
    assert path.read_bytes() == before


def test_a_directory_is_not_a_store(tmp_path: Path) -> None:
    for door in (open_for_writing, open_for_reading):
        with pytest.raises(StoreError, match="is a directory|is not a file"):
            door(tmp_path)


def test_a_store_damaged_in_the_middle_is_never_written_to(tmp_path: Path) -> None:
    path = _damage_the_middle(_filled_store(tmp_path / "r.db"))
    before = path.read_bytes()
    with pytest.raises(StoreError) as caught:
        open_for_writing(path)
    assert caught.value.message.startswith(f"Results database '{path}' is damaged: its integrity check")
    assert "left untouched" in caught.value.message and "backup" in (caught.value.hint or "")
    assert path.read_bytes() == before


def test_run_on_a_damaged_store_exits_2_and_records_nothing(tmp_path: Path, evalkit_cli) -> None:
    """Through the real `evalkit run`: refused after the input checks, before any model is loaded."""
    path = _damage_the_middle(_filled_store(tmp_path / "r.db"))
    model = tmp_path / "fake-model"  # never loaded: the store is refused first
    model.mkdir()
    (model / "config.json").write_text(json.dumps({"model_type": "llama", "num_hidden_layers": 1, "hidden_size": 8,
                                                   "intermediate_size": 16, "num_attention_heads": 2,
                                                   "vocab_size": 64}))
    (model / "model.safetensors").write_bytes(b"not weights")
    before = path.read_bytes()
    result = evalkit_cli("run", "-m", model, "--include-path", FIXTURES, "-t", "toy_sentiment",
                         "--limit", "2", "--store", path)
    assert result.exit_code == 2, result.output
    assert f"Results database '{path}' is damaged" in result.stderr and "Traceback" not in result.output
    assert path.read_bytes() == before


@pytest.mark.parametrize(("statements", "fragment"), [
    (["UPDATE meta SET value = 'abc' WHERE key = 'schema_version'"], "its schema_version is 'abc', not a version"),
    (["UPDATE meta SET value = '0' WHERE key = 'schema_version'"], "its schema_version is '0'"),
    (["DELETE FROM meta"], "its 'meta' table has no schema_version"),
    (["DROP TABLE meta"], "has no 'meta' table"),
    (["ALTER TABLE meta RENAME TO meta_old", "CREATE TABLE meta (k TEXT)"], "its 'meta' table cannot be read"),
    (["DROP TABLE samples"], "it lacks the table 'samples'"),
    (["ALTER TABLE runs DROP COLUMN config_json"], "it lacks the column(s) config_json of table 'runs'"),
])
def test_malformed_store_metadata_is_refused_untouched(tmp_path: Path, statements: list[str], fragment: str,
                                                       evalkit_cli) -> None:
    path = _filled_store(tmp_path / "r.db", n_docs=3)
    _sql(path, *statements)
    before = path.read_bytes()
    for door in (open_for_writing, open_for_reading):
        with pytest.raises(StoreError) as caught:
            door(path)
        assert fragment in caught.value.message and "left untouched" in caught.value.message
    result = evalkit_cli("results", "list", "--store", path)
    assert result.exit_code == 2 and fragment in result.stderr and "Traceback" not in result.output
    assert path.read_bytes() == before


def test_a_store_damaged_past_the_checks_is_a_store_error_when_read(tmp_path: Path, evalkit_cli) -> None:
    path = _damage_the_middle(_filled_store(tmp_path / "r.db"))
    before = path.read_bytes()
    out = tmp_path / "out.json"
    result = evalkit_cli("results", "export", "r1", "-o", out, "--store", path)  # reads the damaged pages
    assert result.exit_code == 2, result.output
    assert f"Results database '{path}' cannot be read" in result.stderr and "Traceback" not in result.output
    assert path.read_bytes() == before and not out.exists()


def test_the_reading_door_never_creates_and_the_memory_store_is_current(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    with pytest.raises(StoreError, match="does not exist"):
        open_for_reading(path)
    assert not path.exists()
    memory = open_memory_store()
    assert memory.execute("SELECT value FROM meta").fetchone()[0] == str(SCHEMA_VERSION)
    assert not Path(":memory:").exists()


def test_store_writes_strict_json(tmp_path: Path) -> None:
    path = _filled_store(tmp_path / "r.db", n_docs=3)
    conn = sqlite3.connect(path)
    texts = [t for row in conn.execute("SELECT config_json FROM runs UNION ALL SELECT scores_json FROM samples")
             for t in row]
    conn.close()

    def refuse(token: str) -> None:
        raise ValueError(token)

    assert texts and all(json.loads(t, parse_constant=refuse) is not None for t in texts)


@pytest.mark.parametrize("version", ["\u00b3", "\u0669\u0669", "abc", "0"])
def test_a_schema_version_that_is_not_ascii_digits_is_a_damaged_store(tmp_path: Path, version: str) -> None:
    path = _filled_store(tmp_path / "s.db", n_docs=4)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (version,))
    before = path.read_bytes()
    for opener in (open_for_reading, open_for_writing):
        with pytest.raises(StoreError, match="not a version number"):
            opener(path)
    assert path.read_bytes() == before  # '³' was an unexpected ValueError, '٩٩' read as version 99
