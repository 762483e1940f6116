"""A chat-templated run and a plain one are not comparable item by item: `evalkit compare` refuses
(exit 2) naming the option that differs, and with --allow-incomparable compares with a warning."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.prompting.conftest import FIXTURES


@pytest.fixture
def chat_and_plain(evalkit_cli: Any, chat_model_dir: Path, tmp_path: Path) -> Path:
    store = tmp_path / "r.db"
    for name, flags in (("plain", ()), ("chat", ("--apply-chat-template",))):
        result = evalkit_cli("run", "-m", chat_model_dir, "--include-path", FIXTURES, "-t", "toy_sentiment",
                             "--limit", "4", "--name", name, "--store", store, *flags)
        assert result.exit_code == 0, result.output
    return store


def test_chat_vs_plain_is_refused_naming_the_option(evalkit_cli: Any, chat_and_plain: Path) -> None:
    result = evalkit_cli("compare", "plain", "chat", "--store", chat_and_plain)
    assert result.exit_code == 2, result.output
    assert "chat template differs" in result.output and "--apply-chat-template" in result.output
    assert "not applied" in result.output and "Traceback" not in result.output


def test_allow_incomparable_compares_with_a_warning(evalkit_cli: Any, chat_and_plain: Path) -> None:
    result = evalkit_cli("compare", "plain", "chat", "--store", chat_and_plain, "--allow-incomparable")
    assert result.exit_code == 0, result.output
    assert "chat template differs" in result.output


def test_same_options_are_comparable(evalkit_cli: Any, chat_model_dir: Path, tmp_path: Path) -> None:
    store = tmp_path / "r.db"
    for name in ("one", "two"):
        result = evalkit_cli("run", "-m", chat_model_dir, "--include-path", FIXTURES, "-t", "toy_sentiment",
                             "--limit", "4", "--name", name, "--store", store, "--apply-chat-template",
                             "--system-instruction", "Rate it.")
        assert result.exit_code == 0, result.output
    result = evalkit_cli("compare", "one", "two", "--store", store)
    assert result.exit_code == 0, result.output
    assert "differs" not in result.output


def test_each_option_is_named(chat_model_dir: Path) -> None:
    """The check over stored identities directly: every option, one message naming it."""
    import json

    import pandas as pd

    from evalkit.compare.prompt_options import prompt_mismatches

    def side(prompt: dict[str, Any], k: int) -> Any:
        cell = pd.Series({"details_json": json.dumps({"prompt": prompt}), "num_fewshot": k})
        return type("Side", (), {"run": {"seed": 1}})(), cell

    base = {"chat_template_sha": "a" * 64, "system_instruction_sha": None, "fewshot_as_multiturn": True,
            "gen_kwargs": {}, "fewshot_seed": 1}
    for key, value, option in (("chat_template_sha", "b" * 64, "--apply-chat-template"),
                               ("system_instruction_sha", "c" * 64, "--system-instruction"),
                               ("fewshot_as_multiturn", False, "--fewshot-as-multiturn"),
                               ("gen_kwargs", {"max_gen_toks": 4}, "--gen-kwargs"),
                               ("fewshot_seed", 2, "--fewshot-seed")):
        (sa, ca), (sb, cb) = side(base, 2), side({**base, key: value}, 2)
        pair = type("Pair", (), dict(a=sa, b=sb, cell_a=ca, cell_b=cb, label_a="A", label_b="B", model="m",
                                     task="t", setting="few-shot:2"))()
        found = prompt_mismatches(pair)
        assert len(found) == 1 and option in found[0], (key, found)


def test_results_show_names_the_prompt_options(evalkit_cli: Any, chat_and_plain: Path) -> None:
    chat = evalkit_cli("results", "show", "chat", "--store", chat_and_plain)
    plain = evalkit_cli("results", "show", "plain", "--store", chat_and_plain)
    assert chat.exit_code == 0 and plain.exit_code == 0, chat.output + plain.output
    assert "toy_sentiment · zero-shot (task default) · chat template sha " in chat.output
    assert "toy_sentiment · zero-shot (task default) · no chat template" in plain.output
