"""Fractional --limit, --gen-kwargs (they change generation and are stored) and bad values of every
new option: exit 2 before anything runs, naming the culprit, nothing stored."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.prompting.conftest import FIXTURES
from tests.prompting.recording import record_requests


def _docs(path: Path) -> int:
    return len(path.read_text().splitlines())


def test_a_fractional_limit_is_that_fraction_of_each_task(evalkit_cli: Any, tiny_model_dir: Path,
                                                          tmp_path: Path) -> None:
    store = tmp_path / "r.db"
    result = evalkit_cli("run", "-m", tiny_model_dir, "--include-path", FIXTURES, "-t", "toy_sentiment",
                         "-t", "toy_gen", "--limit", "0.3", "--limit", "toy_gen=0.5", "--store", store)
    assert result.exit_code == 0, result.output
    with sqlite3.connect(store) as conn:
        n = dict(conn.execute("SELECT task, n FROM cells").fetchall())
        config = json.loads(conn.execute("SELECT config_json FROM runs").fetchone()[0])
    assert n == {"toy_sentiment": math.ceil(_docs(FIXTURES / "toy_sentiment/data/validation.jsonl") * 0.3),
                 "toy_gen": math.ceil(_docs(FIXTURES / "toy_gen/test.jsonl") * 0.5)}
    assert config["limit"] == {"*": 0.3, "toy_gen": 0.5}


def test_gen_kwargs_change_generation_and_are_stored(monkeypatch: pytest.MonkeyPatch, evalkit_cli: Any,
                                                     tiny_model_dir: Path, tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    from evalkit.scoring.backend import EvalkitLM

    seen = record_requests(monkeypatch, EvalkitLM)
    store = tmp_path / "r.db"
    result = evalkit_cli("run", "-m", tiny_model_dir, "--include-path", FIXTURES, "-t", "toy_gen", "-t",
                         "toy_sentiment", "--limit", "3", "--gen-kwargs", 'max_gen_toks=1,until=["@@", "##"]',
                         "--store", store, "--no-cache")
    assert result.exit_code == 0, result.output
    assert {json.dumps(args[1], sort_keys=True) for args in seen["generate_until"]} == \
        {json.dumps({"do_sample": False, "max_gen_toks": 1, "until": ["@@", "##"]}, sort_keys=True)}
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    with sqlite3.connect(store) as conn:
        cells = dict(conn.execute("SELECT task, details_json FROM cells").fetchall())
        predictions = [p for (p,) in conn.execute("SELECT prediction FROM samples s JOIN cells c "
                                                  "USING (run_id, cell_id) WHERE c.task = 'toy_gen'")]
    assert all(len(tokenizer.encode(p, add_special_tokens=False)) <= 1 for p in predictions)
    assert json.loads(cells["toy_gen"])["prompt"]["gen_kwargs"] == {"max_gen_toks": 1, "until": ["@@", "##"]}
    assert json.loads(cells["toy_sentiment"])["prompt"]["gen_kwargs"] == {}  # not a generation task


@pytest.mark.parametrize("flags, culprit", [
    (("--gen-kwargs", "temperature=abc"), "temperature"),
    (("--gen-kwargs", "max_gen_tokens=5"), "max_gen_toks"),          # a typo, with a suggestion
    (("--gen-kwargs", "max_gen_toks=0"), "max_gen_toks"),
    (("--limit", "1.5"), "1.5"),
    (("--limit", "0"), "at least 1"),
    (("--limit", "-0.1"), "-0.1"),
    (("--limit", "toy_gen=1.5"), "toy_gen=1.5"),
    (("--fewshot-as-multiturn",), "--apply-chat-template"),
    (("--apply-chat-template",), "has no chat template"),            # the plain tiny tokenizer has none
])
def test_bad_values_exit_2_before_anything_runs(evalkit_cli: Any, tiny_model_dir: Path, tmp_path: Path,
                                                flags: tuple[str, ...], culprit: str) -> None:
    store = tmp_path / "r.db"
    result = evalkit_cli("run", "-m", tiny_model_dir, "--include-path", FIXTURES, "-t", "toy_gen", *flags,
                         "--store", store)
    assert result.exit_code == 2, result.output
    assert culprit in result.output and "Traceback" not in result.output
    assert not store.exists()


@pytest.mark.parametrize("name, culprit", [("tersee", "Did you mean: terse"), ("", "empty template name")])
def test_an_unknown_template_name_exits_2(evalkit_cli: Any, named_templates_dir: Path, tmp_path: Path,
                                          name: str, culprit: str) -> None:
    store = tmp_path / "r.db"
    result = evalkit_cli("run", "-m", named_templates_dir, "--include-path", FIXTURES, "-t", "toy_gen",
                         f"--apply-chat-template={name}", "--store", store)
    assert result.exit_code == 2, result.output
    assert culprit in result.output and "Traceback" not in result.output
    assert not store.exists()


def test_gen_kwargs_are_parsed_as_lm_evals_command_line_parses_them() -> None:
    from lm_eval._cli.utils import key_val_to_dict

    from evalkit.plan.prompts import make_prompt_options, parse_gen_kwargs

    text = 'until=["\\n\\n","Question:"],max_gen_toks=64,temperature=0,do_sample=false'
    assert parse_gen_kwargs(text) == key_val_to_dict(text)
    options = make_prompt_options(gen_kwargs=text)
    assert options.generation_kwargs == {"do_sample": False, "max_gen_toks": 64, "temperature": 0.0,
                                         "until": ["\n\n", "Question:"]}
    hash(options)  # part of a hashable Cell
