"""The Every Eval Ever export validates against its shipped schema for metrics that are not 0/1
(perplexity, BLEU, F1, MCC, word perplexity: without a score_type the schema reads them as 'levels'),
and two models that share a label in one run are exported as two models, not merged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evalkit.store.records import CellRecord, MetricRecord, RunInfo, SampleRecord

jsonschema = pytest.importorskip("jsonschema")

RUN = "20261201-000000-eee001"
# metric -> (aggregate, per-document value of document i): corpus-level items are lists, as lm-eval logs them.
METRICS = {
    "perplexity": (12.5, lambda i: -2.5 - i / 10),
    "word_perplexity": (30.1, lambda i: [-2.5 - i / 10, 4]),
    "bleu": (21.4, lambda i: ["reference", "prediction"]),
    "f1": (0.62, lambda i: [i % 2, 1]),
    "mcc": (-0.2, lambda i: [i % 2, 0]),
    "acc": (0.5, lambda i: float(i % 2)),
}


def _cell(cell_id: str, model: str, fingerprint: str) -> CellRecord:
    samples = [SampleRecord(i, f"d{i}", f"p{i}", f"prompt {i}", "ref", "pred",
                            {name: per_doc(i) for name, (_, per_doc) in METRICS.items()}) for i in range(4)]
    metrics = [MetricRecord(name, value, None, None, None, 4, name not in ("perplexity", "word_perplexity"))
               for name, (value, _) in METRICS.items()]
    return CellRecord(cell_id, model, {"name": model, "kind": "local", "location": f"/models/{fingerprint}"},
                      fingerprint, "toy_lm", "hash", "src", "zero-shot", 0, metrics, samples)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """One run, two different models that share the label 'final' (two checkpoint folders of that name)."""
    from evalkit.store.schema import open_for_writing
    from evalkit.store.writer import begin_run, finish_run, write_cell

    db = tmp_path / "eee.db"
    conn = open_for_writing(db)
    try:
        begin_run(conn, RunInfo(RUN, "eee", "2026-12-01T00:00:00+00:00", "test", 0, {"evalkit": "0.1"}, None, "h"))
        write_cell(conn, RUN, _cell("c1", "final", "fp-a"))
        write_cell(conn, RUN, _cell("c2", "final", "fp-b"))
        finish_run(conn, RUN, "complete")
    finally:
        conn.close()
    return db


def _export(db: Path, directory: Path) -> list[Path]:
    from evalkit.interop.eee import export_eee
    from evalkit.store.schema import open_for_reading

    conn = open_for_reading(db)
    try:
        return export_eee(conn, RUN, directory)
    finally:
        conn.close()


def _validator(name: str):
    from evalkit.interop.eee import SCHEMA_DIR

    schema = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def test_non_binary_metrics_validate_against_the_shipped_schema(store: Path, tmp_path: Path) -> None:
    aggregates = [p for p in _export(store, tmp_path / "eee") if not p.name.endswith("_samples.jsonl")]
    validator = _validator("eval.schema.json")
    for path in aggregates:
        document = json.loads(path.read_text(encoding="utf-8"))
        errors = sorted(validator.iter_errors(document), key=str)
        assert not errors, errors[0]
        configs = {r["metric_config"]["metric_id"]: r["metric_config"] for r in document["evaluation_results"]}
        assert set(configs) == set(METRICS)
        assert configs["acc"]["score_type"] == "binary"
        assert (configs["mcc"]["min_score"], configs["mcc"]["max_score"]) == (-1.0, 1.0)
        assert configs["bleu"]["max_score"] == 100.0 and configs["perplexity"]["min_score"] == 1.0
        assert configs["perplexity"]["max_score"] == "Infinity" and "additional_details" not in configs["perplexity"]


def test_two_models_sharing_a_label_are_exported_separately(store: Path, tmp_path: Path) -> None:
    written = _export(store, tmp_path / "eee")
    aggregates = [p for p in written if not p.name.endswith("_samples.jsonl")]
    assert len(aggregates) == 2 and len(set(written)) == 4
    fingerprints = set()
    for path in aggregates:
        document = json.loads(path.read_text(encoding="utf-8"))
        fingerprints.add(document["model_info"]["additional_details"]["fingerprint"])
        assert len(document["evaluation_results"]) == len(METRICS)  # one cell's results, not both
    assert fingerprints == {"fp-a", "fp-b"}
