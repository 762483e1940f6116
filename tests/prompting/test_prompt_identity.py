"""Prompt identity: with a chat template, a system instruction and few-shot examples as multi-turn,
the requests `evalkit run` sends its backend equal, byte for byte, those lm-eval's own HFLM gets
from `lm_eval.simple_evaluate` with the same options, on the same tiny model and task YAML."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.prompting.conftest import FIXTURES
from tests.prompting.recording import record_requests

SYSTEM = "You are a careful rater."


def _lm_eval_requests(monkeypatch: pytest.MonkeyPatch, model_dir: Path, task: str, k: int, limit: int,
                      **options: Any) -> dict[str, list[tuple[Any, ...]]]:
    """What HFLM is asked under lm_eval.simple_evaluate (lm-eval resolves data files from the cwd)."""
    from lm_eval import simple_evaluate
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    seen = record_requests(monkeypatch, HFLM)
    monkeypatch.chdir(FIXTURES / task)
    simple_evaluate(model=HFLM(pretrained=str(model_dir), batch_size=4, device="cpu"), tasks=[task], num_fewshot=k, limit=limit,
                    task_manager=TaskManager(include_path=str(FIXTURES), include_defaults=False),
                    fewshot_random_seed=1234, **options)
    monkeypatch.undo()
    return seen


def _evalkit_requests(monkeypatch: pytest.MonkeyPatch, evalkit_cli: Any, tmp_path: Path, model_dir: Path,
                      task: str, k: int, limit: int, *flags: str) -> dict[str, list[tuple[Any, ...]]]:
    from evalkit.scoring.backend import EvalkitLM

    seen = record_requests(monkeypatch, EvalkitLM)
    result = evalkit_cli("run", "-m", model_dir, "--include-path", FIXTURES, "-t", task, "-k", k, "--limit", limit,
                         "--no-cache", "--store", tmp_path / "r.db", *flags)
    assert result.exit_code == 0, result.output
    return seen


@pytest.mark.parametrize("task, kind", [("toy_sentiment", "loglikelihood"), ("toy_gen", "generate_until")])
def test_chat_templated_multiturn_requests_equal_lm_evals(monkeypatch: pytest.MonkeyPatch, evalkit_cli: Any,
                                                          tmp_path: Path, chat_model_dir: Path,
                                                          task: str, kind: str) -> None:
    ours = _evalkit_requests(monkeypatch, evalkit_cli, tmp_path, chat_model_dir, task, 2, 3,
                             "--apply-chat-template", "--system-instruction", SYSTEM, "--fewshot-as-multiturn")
    theirs = _lm_eval_requests(monkeypatch, chat_model_dir, task, 2, 3, apply_chat_template=True,
                               system_instruction=SYSTEM, fewshot_as_multiturn=True)
    assert ours[kind] and ours[kind] == theirs[kind]
    context = ours[kind][0][0]
    assert context.startswith(f"<|system|>{SYSTEM}<|end|>") and context.count("<|assistant|>") == 3  # 2 shots + turn


def test_without_multiturn_the_examples_share_one_user_turn(monkeypatch: pytest.MonkeyPatch, evalkit_cli: Any,
                                                            tmp_path: Path, chat_model_dir: Path) -> None:
    ours = _evalkit_requests(monkeypatch, evalkit_cli, tmp_path, chat_model_dir, "toy_sentiment", 2, 2,
                             "--apply-chat-template", "--no-fewshot-as-multiturn")
    theirs = _lm_eval_requests(monkeypatch, chat_model_dir, "toy_sentiment", 2, 2, apply_chat_template=True,
                               fewshot_as_multiturn=False)
    assert ours["loglikelihood"] == theirs["loglikelihood"]
    assert ours["loglikelihood"][0][0].count("<|user|>") == 1


def test_a_named_template_is_used_and_hashed_as_lm_eval_hashes_it(monkeypatch: pytest.MonkeyPatch, evalkit_cli: Any,
                                                                  tmp_path: Path, named_templates_dir: Path) -> None:
    import json
    import sqlite3

    from lm_eval.models.huggingface import HFLM
    from lm_eval.utils import hash_string

    ours = _evalkit_requests(monkeypatch, evalkit_cli, tmp_path, named_templates_dir, "toy_sentiment", 0, 2,
                             "--apply-chat-template", "terse")
    assert ours["loglikelihood"][0][0].startswith("[u] ")
    with sqlite3.connect(tmp_path / "r.db") as conn:
        details = json.loads(conn.execute("SELECT details_json FROM cells").fetchone()[0])
    reference = HFLM(pretrained=str(named_templates_dir), batch_size=1, device="cpu")
    assert details["prompt"]["apply_chat_template"] == "terse"
    assert details["prompt"]["chat_template_sha"] == hash_string(reference.chat_template("terse"))
