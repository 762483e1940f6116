"""`evalkit results show`: a cell whose documents carry clusters says how many clusters they form."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from evalkit.store.export import export_run
from evalkit.store.schema import open_for_reading, open_for_writing
from evalkit.store.writer import begin_run, finish_run, write_cell
from tests.store.synthetic import synthetic_run


def _store(path: Path) -> Path:
    conn = open_for_writing(path)
    info, cells = synthetic_run("r1", n_cells=3, n_docs=10, clusters=3)
    plain = dataclasses.replace(cells[1], samples=[dataclasses.replace(s, cluster=None) for s in cells[1].samples])
    partly = dataclasses.replace(cells[2], samples=[dataclasses.replace(s, cluster=None if s.doc_id < 4 else s.cluster)
                                                    for s in cells[2].samples])
    begin_run(conn, info)
    for cell in (cells[0], plain, partly):
        write_cell(conn, "r1", cell)
    finish_run(conn, "r1", "complete")
    conn.close()
    return path


def test_show_counts_the_clusters_of_each_clustered_cell(tmp_path: Path, evalkit_cli) -> None:
    store = _store(tmp_path / "r.db")
    result = evalkit_cli("results", "show", "r1", "--store", store)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith("Clusters:")]
    assert lines == ["Clusters: m · task0 · zero-shot: 10 documents in 3 clusters",
                     "Clusters: m · task2 · zero-shot: 10 documents in 3 clusters (4 without one)"]


def test_show_of_an_exported_file_counts_the_same_clusters(tmp_path: Path, evalkit_cli) -> None:
    conn = open_for_reading(_store(tmp_path / "r.db"))
    try:
        (path,) = export_run(conn, "r1", tmp_path / "r1.json", "json")
    finally:
        conn.close()
    result = evalkit_cli("results", "show", path)
    assert result.exit_code == 0, result.output
    assert "Clusters: m · task0 · zero-shot: 10 documents in 3 clusters" in result.stdout
    assert "task1" not in " ".join(line for line in result.stdout.splitlines() if line.startswith("Clusters:"))
