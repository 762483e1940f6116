"""The reader is the store's door for per-document JSON: the writer stores strict JSON only, so text
that does not parse means the file was edited or damaged, named down to the document."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from evalkit.errors import StoreError
from evalkit.store.reader import samples_frame
from evalkit.store.schema import open_for_reading
from tests.compare.synthetic import standard_store


@pytest.mark.parametrize("column", ["scores_json", "outputs_json"])
def test_sample_json_that_does_not_parse_is_a_store_error_naming_the_document(tmp_path: Path, column: str) -> None:
    store = standard_store(tmp_path / "s.db")
    with sqlite3.connect(store) as raw:
        raw.execute(f"UPDATE samples SET {column} = '{{not json' WHERE run_id = '00000000-base' AND doc_id = 7 "
                    "AND cell_id = 'c0'")
    conn = open_for_reading(store)
    try:
        with pytest.raises(StoreError, match=rf"is damaged: {column[:-5]} of run 00000000-base, cell c0, doc_id 7 "
                                             "is not valid JSON"):
            samples_frame(conn, "00000000-base")
        assert len(samples_frame(conn, "11111111-noise")) > 0  # other runs still read
    finally:
        conn.close()


def test_a_damaged_sample_reaches_the_user_as_exit_2(tmp_path: Path, evalkit_cli) -> None:
    store = standard_store(tmp_path / "s.db")
    with sqlite3.connect(store) as raw:
        raw.execute("UPDATE samples SET scores_json = '{' WHERE run_id = '22222222-drop' AND doc_id = 0")
    result = evalkit_cli("compare", "base", "drop", "--store", store)
    assert result.exit_code == 2, result.output
    assert f"Results database '{store}' is damaged: scores of run 22222222-drop" in result.stderr
    assert "Traceback" not in result.output
