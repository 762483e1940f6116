"""Two ways a task YAML used to run code from outside its folder, beside `!function` hooks: a Jinja
template reaching Python's builtins (lm-eval renders with a plain Environment), and a metric name
lm-eval does not know, which it hands to Hugging Face `evaluate.load` (it imports a metric script
from any path). Both are refused with exit 2 naming file and key, and the code never runs; a
misspelt metric, which used to give a run recorded complete with no metrics, is refused the same way."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tasks.conftest import WriteTask

ESCAPE = ("{{ cycler.__init__.__globals__.__builtins__.exec("
          "cycler.__init__.__globals__.__builtins__.open('EVIL').read()) }}{{text}}")


def _marker_script(tmp_path: Path) -> tuple[Path, Path]:
    marker = tmp_path / "RAN"
    script = tmp_path / "outside" / "evil.py"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(f"import pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\n")
    return script, marker


def _refused(evalkit_cli, path: Path, *needles: str) -> None:
    result = evalkit_cli("tasks", "validate", path)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.output, (needle, result.output)


@pytest.mark.parametrize("key", ["doc_to_text", "doc_to_target", "doc_to_choice"])
def test_a_template_cannot_reach_python_builtins(evalkit_cli, write_task: WriteTask, tmp_path: Path, key: str) -> None:
    script, marker = _marker_script(tmp_path)
    path = write_task(extra=f'{key}: "{ESCAPE.replace("EVIL", str(script))}"\n')
    _refused(evalkit_cli, path, "t.yaml", key, "SecurityError", "unsafe")
    assert not marker.exists()


def test_templates_that_read_the_document_render_as_before(write_task: WriteTask) -> None:
    from evalkit.tasks.discovery import TaskRegistry
    from evalkit.tasks.loading import load_task

    path = write_task(extra='doc_to_text: "{{ text | upper | regex_replace(\'O\', \'0\') }}{% if label %}!{% endif %}"\n')
    loaded = load_task(TaskRegistry.discover([path.parent]).resolve("t"))
    docs = list(loaded.task.eval_docs)
    assert [loaded.task.doc_to_text(d) for d in docs] == ["G00D!", "BAD"]


def test_a_metric_path_is_refused_and_never_imported(evalkit_cli, write_task: WriteTask, tmp_path: Path) -> None:
    script, marker = _marker_script(tmp_path)
    (script.parent / "outside.py").write_text(script.read_text())  # evaluate.load("…/outside") imports outside.py
    for name in (str(script.parent), str(script), "../../outside"):
        path = write_task(extra=f"metric_list:\n  - metric: {name}\n    aggregation: mean\n")
        _refused(evalkit_cli, path, "t.yaml", "metric_list[0].metric", "not a metric lm-eval registers")
    assert not marker.exists()


def test_a_misspelt_metric_or_aggregation_is_named_with_a_suggestion(evalkit_cli, write_task: WriteTask) -> None:
    _refused(evalkit_cli, write_task(extra="metric_list:\n  - metric: accc\n"), "metric_list[0].metric", "Did you mean: acc")
    _refused(evalkit_cli, write_task(extra="metric_list:\n  - metric: acc\n  - metric: f1\n    aggregation: meen\n"),
             "metric_list[1].aggregation", "'meen'", "mean")
    _refused(evalkit_cli, write_task(extra="metric_list:\n  - metric: bleu\n    hf_evaluate: true\n"),
             "metric_list[0].hf_evaluate")


def test_a_task_with_its_own_process_results_names_its_metrics_freely(write_task: WriteTask) -> None:
    from evalkit.tasks.discovery import TaskRegistry
    from evalkit.tasks.loading import resolved_config

    path = write_task(extra="process_results: !function utils.score\nmetric_list:\n  - metric: my_score\n"
                            "    aggregation: mean\n    higher_is_better: true\n")
    (path.parent / "utils.py").write_text("def score(doc, results):\n    return {'my_score': 1.0}\n")
    config = resolved_config(TaskRegistry.discover([path.parent]).resolve("t"))
    assert config["metric_list"][0]["metric"] == "my_score"


def test_a_task_whose_documents_report_no_metric_fails_and_records_no_complete_run(
        evalkit_cli, write_task: WriteTask, tiny_model_dir: Path, tmp_path: Path) -> None:
    path = write_task(extra="process_results: !function utils.score\nmetric_list:\n  - metric: my_score\n"
                            "    aggregation: mean\n")
    (path.parent / "utils.py").write_text("def score(doc, results):\n    return {}\n")
    store = tmp_path / "r.db"
    result = evalkit_cli("run", "-m", tiny_model_dir, "-t", path, "--store", store)
    assert result.exit_code == 2 and "computed no metrics" in result.output and "Traceback" not in result.output
    listed = evalkit_cli("results", "list", "--store", store)
    assert listed.exit_code == 0 and "complete" not in listed.output, listed.output
