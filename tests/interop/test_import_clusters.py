"""An imported lm-eval task whose recorded config names `metadata.cluster` stores each document's
cluster from the logged `doc`; without the key clusters are None; a logged doc without the field is
refused before the store is opened."""

from __future__ import annotations

import json
from pathlib import Path

from evalkit.store.reader import samples_frame
from evalkit.store.schema import open_for_reading
from tests.interop.conftest import results_file, samples_file


def _name_cluster(output: Path, field: str) -> Path:
    """lm-eval records the task's YAML `metadata` mapping in its results file: as if it named `cluster: FIELD`."""
    results = results_file(output)
    data = json.loads(results.read_text(encoding="utf-8"))
    data["configs"]["toy_sentiment"].setdefault("metadata", {})["cluster"] = field
    results.write_text(json.dumps(data), encoding="utf-8")
    return results


def _clusters_by_task(db: Path) -> dict[str, list[str | None]]:
    conn = open_for_reading(db)
    try:
        run_id = conn.execute("SELECT run_id FROM runs").fetchone()[0]
        tasks = dict(conn.execute("SELECT cell_id, task FROM cells").fetchall())
        frame = samples_frame(conn, run_id)
        return {task: frame[frame.cell_id == cell].cluster.tolist() for cell, task in tasks.items()}
    finally:
        conn.close()


def test_imported_documents_keep_the_cluster_field_the_task_names(output_copy: Path, tmp_path: Path,
                                                                  evalkit_cli) -> None:
    results = _name_cluster(output_copy, "label")
    db = tmp_path / "r.db"
    imported = evalkit_cli("results", "import", results, "--store", db)
    assert imported.exit_code == 0, imported.output
    logged = sorted((json.loads(line) for line in samples_file(output_copy, "toy_sentiment").read_text().splitlines()),
                    key=lambda s: s["doc_id"])
    expected = list({s["doc_id"]: str(s["doc"]["label"]) for s in logged}.values())
    clusters = _clusters_by_task(db)
    assert clusters["toy_sentiment"] == expected and set(expected) == {"0", "1"}
    assert set(clusters["toy_gen"]) == {None}  # its config names no cluster


def test_a_logged_doc_without_the_cluster_field_is_refused_before_the_store(output_copy: Path, tmp_path: Path,
                                                                            evalkit_cli) -> None:
    results = _name_cluster(output_copy, "subject")
    db = tmp_path / "r.db"
    imported = evalkit_cli("results", "import", results, "--store", db)
    assert imported.exit_code == 2, imported.output
    text = " ".join(imported.output.split())
    assert samples_file(output_copy, "toy_sentiment").name in text
    assert "key 'metadata.cluster' names the document field 'subject', which this document lacks" in text
    assert not db.exists() and "Traceback" not in imported.output
