"""A JSON export says what a per-document score is where it is not the metric: lm-eval keeps each
document's log-likelihood under `perplexity` (evalkit.metric_semantics), and the export still reads
back as a baseline by the metric's own key."""

from __future__ import annotations

import json
from pathlib import Path

from evalkit.store.baseline import load_baseline
from evalkit.store.export import export_run
from evalkit.store.schema import open_for_writing
from tests.compare.synthetic import CellSpec, add_run


def test_json_export_names_perplexity_documents_loglikelihood(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    conn = open_for_writing(store)
    try:
        add_run(conn, "00000000-lm", [CellSpec("lambada", {"acc": [1.0, 0.0, 1.0], "perplexity": [-1.5, -2.0, -0.5]},
                                               higher_is_better={"perplexity": False},
                                               aggregates={"perplexity": 3.79})])
        written = export_run(conn, "00000000-lm", tmp_path / "run.json", "json")
    finally:
        conn.close()
    doc = json.loads(written[0].read_text(encoding="utf-8"))
    assert doc["document_values"] == {"perplexity": "loglikelihood"}  # acc's documents are acc
    assert doc["samples"][0]["scores"]["perplexity"] == -1.5  # kept under the metric: baselines read it so
    assert load_baseline(written[0]) is not None
