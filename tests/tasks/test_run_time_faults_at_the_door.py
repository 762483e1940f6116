"""Faults lm-eval finds only after the model has answered (issue 24 item 9) are found by `tasks
validate` and by `run` before any model loads: an invalid filter regex, a corpus-level metric
declared with `aggregation: mean`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tasks.conftest import WriteTask

GEN_YAML = """\
task: g
dataset_path: json
dataset_kwargs:
  data_files:
    test: test.jsonl
output_type: generate_until
test_split: test
doc_to_text: "{{text}}"
doc_to_target: "{{label}}"
generation_kwargs:
  max_gen_toks: 4
"""
REGEX = """\
filter_list:
  - name: strict
    filter:
      - function: regex
        regex_pattern: "(["
      - function: take_first
metric_list:
  - metric: exact_match
"""


@pytest.fixture
def no_model_load(monkeypatch: pytest.MonkeyPatch) -> None:
    import evalkit.models.loading as loading

    def refuse(spec):  # noqa: ANN001
        raise AssertionError(f"model {spec.name} was loaded before the input was checked")

    monkeypatch.setattr(loading, "load_model", refuse)


def test_invalid_filter_regex_fails_validate_and_run_at_the_door(evalkit_cli, write_task: WriteTask, tiny_model_dir,
                                                                tmp_path: Path, no_model_load) -> None:
    path = write_task(body=GEN_YAML + REGEX)
    for args in (("tasks", "validate", path), ("run", "-m", tiny_model_dir, "-t", path, "--store", tmp_path / "r.db")):
        result = evalkit_cli(*args)
        assert result.exit_code == 2, result.output
        assert "filter_list[0].filter[0].regex_pattern" in result.output and "not a valid regular expression" in result.output
    assert not (tmp_path / "r.db").exists()


@pytest.mark.parametrize("metric", ["bleu", "chrf", "ter", "f1", "mcc"])
def test_corpus_metric_with_mean_aggregation_is_refused(evalkit_cli, write_task: WriteTask, metric: str) -> None:
    path = write_task(body=GEN_YAML + f"metric_list:\n  - metric: {metric}\n    aggregation: mean\n")
    result = evalkit_cli("tasks", "validate", path)
    assert result.exit_code == 2, result.output
    assert f"'{metric}' is a corpus-level metric" in result.output and "metric_list[0].aggregation" in result.output


def test_corpus_metric_with_its_own_aggregation_and_valid_regex_pass(evalkit_cli, write_task: WriteTask) -> None:
    body = GEN_YAML + REGEX.replace('"(["', '"(\\\\d+)"').replace("exact_match", "exact_match\n  - metric: bleu")
    result = evalkit_cli("tasks", "validate", write_task(body=body))
    assert result.exit_code == 0, result.output
