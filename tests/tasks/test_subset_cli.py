"""`evalkit tasks subset`: a power-sized, seed-pinned CI subset, stratified by cluster and gold label,
written as a task that `evalkit tasks validate` accepts; impossible requests refused (exit 2)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import yaml

from evalkit.store.schema import open_for_writing
from tests.compare.synthetic import CellSpec, add_run, binary

# 60 documents: clusters a (30), b (20), c (10); labels alternate within each cluster
DOCS = [{"text": f"doc {i}", "topic": topic, "label": i % 2}
        for i, topic in enumerate(["a"] * 30 + ["b"] * 20 + ["c"] * 10)]


def _task(folder: Path) -> Path:
    folder.mkdir()
    (folder / "docs.jsonl").write_text("".join(json.dumps(d) + "\n" for d in DOCS))
    path = folder / "topics.yaml"
    path.write_text("task: topics\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: docs.jsonl\n"
                    "output_type: multiple_choice\ntest_split: test\ndoc_to_text: '{{text}}'\ndoc_to_target: label\n"
                    "doc_to_choice: [nay, yea]\nmetric_list:\n  - metric: acc\n"
                    "metadata:\n  version: 1.0\n  cluster: topic\n")
    return path


def _chosen(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "topics_ci.jsonl").read_text().splitlines()]


def test_the_subset_is_power_sized_stratified_and_a_valid_task(tmp_path, evalkit_cli):
    task, out = _task(tmp_path / "task"), tmp_path / "ci"
    r = evalkit_cli("tasks", "subset", task, "--target-drop", "0.3", "--seed", "7", "-o", out)
    assert r.exit_code == 0, r.output
    assert "19 documents" in r.stdout and "assumed default" in r.stdout  # (1.645 √.3 + .842 √.21)² / .09 = 18.4
    docs = _chosen(out)
    assert len(docs) == 19 and all(d in DOCS for d in docs)
    assert Counter(d["topic"] for d in docs) == {"a": 10, "b": 6, "c": 3}  # 19 x 30/60, 20/60, 10/60
    assert abs(sum(d["label"] for d in docs) - 19 / 2) <= 2
    config = yaml.safe_load((out / "topics_ci.yaml").read_text())
    assert config["metadata"]["cluster"] == "topic"
    assert config["metadata"]["evalkit_subset"] == {"source_task": "topics", "target_drop": 0.3, "power": 0.8,
                                                    "alpha": 0.05, "discordance": 0.2, "n": 19, "seed": 7,
                                                    "tolerance": 0.0}
    r = evalkit_cli("tasks", "validate", out / "topics_ci.yaml")
    assert r.exit_code == 0 and "19 evaluation documents" in r.stdout, r.output
    again = evalkit_cli("tasks", "subset", task, "--target-drop", "0.3", "--seed", "7", "-o", tmp_path / "ci2")
    other = evalkit_cli("tasks", "subset", task, "--target-drop", "0.3", "--seed", "8", "-o", tmp_path / "ci3")
    assert again.exit_code == other.exit_code == 0
    assert _chosen(tmp_path / "ci2") == docs and _chosen(tmp_path / "ci3") != docs


def test_the_discordance_is_measured_from_two_runs(tmp_path, evalkit_cli):
    task, store = _task(tmp_path / "task"), tmp_path / "s.db"
    conn = open_for_writing(store)
    add_run(conn, "a", [CellSpec("topics", {"acc": binary(60, 30)})], name="a", created_at="2025-01-01")
    add_run(conn, "b", [CellSpec("topics", {"acc": binary(60, 30, first=12)})], name="b", created_at="2025-01-02")
    conn.close()  # b moves 24 documents' scores: discordance 0.4
    r = evalkit_cli("tasks", "subset", task, "--target-drop", "0.4", "--baseline", "a", "--against", "b",
                    "--store", store, "-o", tmp_path / "ci")
    assert r.exit_code == 0, r.output
    assert "14 documents" in r.stdout and "discordance 0.4 (measured: acc of a against b on 60 documents)" in r.stdout
    assert yaml.safe_load((tmp_path / "ci" / "topics_ci.yaml").read_text())["metadata"]["evalkit_subset"][
        "discordance"] == pytest.approx(0.4)


@pytest.mark.parametrize("args, message", [
    (["--target-drop", "0"], "0.0<x<1.0"),
    (["--target-drop", "1"], "0.0<x<1.0"),
    (["--target-drop", "0.05"], "the whole task gives only 0.2"),
    (["--target-drop", "0.3", "--baseline", "a"], "give both or neither"),
])
def test_impossible_subsets_are_refused(tmp_path, evalkit_cli, args, message):
    r = evalkit_cli("tasks", "subset", _task(tmp_path / "task"), *args, "-o", tmp_path / "ci")
    assert r.exit_code == 2 and message in r.output, r.output
    assert not (tmp_path / "ci").exists()
