"""The Every Eval Ever export of a stored run validates against the schemas kept in the repository."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

jsonschema = pytest.importorskip("jsonschema")


@pytest.fixture(scope="module")
def imported_store(tmp_path_factory: pytest.TempPathFactory, lm_eval_output: Path) -> tuple[Path, str]:
    from tests.conftest import _run_entry_point
    from evalkit.cli import results
    from evalkit.cli.results_import import import_command

    results.command.commands.setdefault("import", import_command)
    db = tmp_path_factory.mktemp("eee") / "results.db"
    done = _run_entry_point("results", "import", lm_eval_output, "--store", db, "--name", "from-lm-eval")
    assert done.exit_code == 0, done.output
    return db, "from-lm-eval"


def _export(db: Path, ref: str, directory: Path, force: bool = False) -> list[Path]:
    from evalkit.interop.eee import export_eee
    from evalkit.store.reader import resolve_run_ref
    from evalkit.store.schema import open_for_reading

    conn = open_for_reading(db)
    try:
        return export_eee(conn, resolve_run_ref(conn, ref), directory, force=force)
    finally:
        conn.close()


def _validator(name: str):
    from evalkit.interop.eee import SCHEMA_DIR

    schema = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def test_aggregate_and_instance_files_validate(imported_store, tmp_path: Path) -> None:
    aggregate_path, samples_path = _export(*imported_store, tmp_path / "eee")
    aggregate = json.loads(aggregate_path.read_text(encoding="utf-8"))
    errors = sorted(_validator("eval.schema.json").iter_errors(aggregate), key=str)
    assert not errors, errors[0]
    instance = _validator("instance_level_eval.schema.json")
    lines = [json.loads(line) for line in samples_path.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 8 + 5  # one per document and per-document metric (acc, exact_match)
    for record in lines:
        problems = list(instance.iter_errors(record))
        assert not problems, problems[0]


def test_the_export_says_what_was_measured(imported_store, tmp_path: Path) -> None:
    aggregate_path, samples_path = _export(*imported_store, tmp_path / "eee")
    aggregate = json.loads(aggregate_path.read_text(encoding="utf-8"))
    assert aggregate["schema_version"] == "0.3.0" and aggregate["eval_library"]["name"] == "lm_eval"
    by_id = {r["evaluation_result_id"]: r for r in aggregate["evaluation_results"]}
    acc = by_id["toy_sentiment/zero-shot/acc"]
    assert acc["metric_config"]["lower_is_better"] is False and acc["metric_config"]["score_type"] == "binary"
    uncertainty = acc["score_details"]["uncertainty"]
    assert uncertainty["num_samples"] == 8 and uncertainty["standard_error"]["value"] > 0
    records = [json.loads(line) for line in samples_path.read_text(encoding="utf-8").splitlines()]
    assert {r["evaluation_result_id"] for r in records} == set(by_id)
    scores = [r["evaluation"]["score"] for r in records if r["evaluation_result_id"] == "toy_sentiment/zero-shot/acc"]
    assert sum(scores) / len(scores) == acc["score_details"]["score"]
    detail = aggregate["detailed_evaluation_results"]
    assert samples_path.as_posix().endswith("/" + detail["file_path"]) and detail["total_rows"] == len(records)
    assert aggregate_path.name == samples_path.name.replace("_samples.jsonl", ".json")
    assert detail["checksum"] == hashlib.sha256(samples_path.read_bytes()).hexdigest()


def test_an_existing_export_needs_force(imported_store, tmp_path: Path) -> None:
    from evalkit.errors import InputError

    first = _export(*imported_store, tmp_path / "eee")
    with pytest.raises(InputError, match="already exists"):
        _export(*imported_store, tmp_path / "eee")
    assert _export(*imported_store, tmp_path / "eee", force=True) == first


def test_results_export_format_eee_writes_the_folder(imported_store, tmp_path: Path, evalkit_cli) -> None:
    db, ref = imported_store
    out = tmp_path / "eee-cli"
    result = evalkit_cli("results", "export", ref, "--format", "eee", "-o", out, "--store", db)
    assert result.exit_code == 0, result.output
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert len(written) == 2 and written[0].endswith(".json") and written[1].endswith("_samples.jsonl")
    assert written[0].startswith("data/from-lm-eval/local/")  # two tasks: the benchmark is the run
    again = evalkit_cli("results", "export", ref, "--format", "eee", "-o", out, "--store", db)
    assert again.exit_code == 2 and "--force" in again.output
    (tmp_path / "a-file").write_text("x")
    into_file = evalkit_cli("results", "export", ref, "--format", "eee", "-o", tmp_path / "a-file", "--store", db)
    assert into_file.exit_code == 2 and "is a file" in into_file.output


def test_version_0_3_0_layout_and_model_info(imported_store, tmp_path: Path) -> None:
    """0.3.0: samples file_path data/<benchmark>/<developer>/<model>/<uuid4>_samples.jsonl, model_info's
    deployment_type and model_availability; the same run exported again names the same files."""
    import re
    import uuid

    aggregate_path, samples_path = _export(*imported_store, tmp_path / "eee")
    aggregate = json.loads(aggregate_path.read_text(encoding="utf-8"))
    path = aggregate["detailed_evaluation_results"]["file_path"]
    assert re.fullmatch(r"data/from-lm-eval/local/[^/]+/[0-9a-f-]{36}_samples\.jsonl", path), path
    assert uuid.UUID(path.split("/")[-1][:36]).version == 4
    assert (tmp_path / "eee" / path) == samples_path
    details = aggregate["model_info"]["additional_details"]
    assert details["deployment_type"] == "self_deployed" and details["model_availability"] in ("open_weights", "unknown")
    again = _export(*imported_store, tmp_path / "eee", force=True)
    assert again == [aggregate_path, samples_path]


def test_results_import_reads_the_export_back(imported_store, tmp_path: Path, evalkit_cli) -> None:
    """Round trip: export as EEE 0.3.0, import the folder into a new store; the same metrics and the
    same per-document scores, and the usual paired comparison pairs every document."""
    from evalkit.cli import results
    from evalkit.cli.results_import import import_command
    from evalkit.store.reader import resolve_run_ref
    from evalkit.store.schema import open_for_reading

    results.command.commands.setdefault("import", import_command)
    db, ref = imported_store
    out = tmp_path / "eee"
    assert evalkit_cli("results", "export", ref, "--format", "eee", "-o", out, "--store", db).exit_code == 0
    back = tmp_path / "back.db"
    done = evalkit_cli("results", "import", out, "--store", back, "--name", "from-eee")
    assert done.exit_code == 0, done.output
    query = ("SELECT c.task, m.metric, m.value, m.n FROM metrics m JOIN cells c ON c.cell_id = m.cell_id "
             "WHERE m.run_id = ? ORDER BY c.task, m.metric")
    sample_query = ("SELECT c.task, s.doc_id, s.scores_json FROM samples s JOIN cells c ON c.cell_id = s.cell_id "
                    "WHERE s.run_id = ? ORDER BY c.task, s.doc_id")
    got = {}
    for path, name in ((db, ref), (back, "from-eee")):
        conn = open_for_reading(path)
        try:
            run_id = resolve_run_ref(conn, name)
            got[name] = (conn.execute(query, (run_id,)).fetchall(),
                         [(t, d, json.loads(s)) for t, d, s in conn.execute(sample_query, (run_id,)).fetchall()])
        finally:
            conn.close()
    assert got["from-eee"][0] == got[ref][0]
    assert [(t, d) for t, d, _ in got["from-eee"][1]] == [(t, d) for t, d, _ in got[ref][1]]
    for (_, _, new), (_, _, old) in zip(got["from-eee"][1], got[ref][1]):
        assert new == {k: v for k, v in old.items() if k in new} and new
