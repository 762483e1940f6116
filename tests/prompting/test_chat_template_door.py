"""A chat template that raises, does not parse or never ends is found at the door (issue 24 item
10): exit 2 naming the template's model and tokenizer folder, before any model loads, no run stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.prompting.conftest import FIXTURES, _with_templates

BROKEN = {
    "raises": ("{{ raise_exception('this template refuses every conversation') }}",
               "this template refuses every conversation"),
    "syntax": ("{% for message in messages %}{{ message['content'] }", "TemplateSyntaxError"),
    "endless": ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
                "did not finish rendering"),
}


@pytest.fixture
def no_model_load(monkeypatch: pytest.MonkeyPatch) -> None:
    import evalkit.models.loading as loading

    def refuse(spec):  # noqa: ANN001
        raise AssertionError(f"model {spec.name} was loaded before the input was checked")

    monkeypatch.setattr(loading, "load_model", refuse)


@pytest.mark.parametrize("how", list(BROKEN))
def test_a_broken_chat_template_is_bad_input_before_the_model_loads(how: str, tiny_model_dir: Path, tmp_path: Path,
                                                                    evalkit_cli, no_model_load,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    template, needle = BROKEN[how]
    model = _with_templates(tiny_model_dir, tmp_path / "model", template)
    monkeypatch.setenv("EVALKIT_RENDER_TIMEOUT", "1")
    store = tmp_path / "r.db"
    r = evalkit_cli("run", "-m", model, "-t", FIXTURES / "toy_sentiment" / "toy_sentiment.yaml", "--limit", 2,
                    "--apply-chat-template", "--store", store)
    assert r.exit_code == 2, r.output
    assert "--apply-chat-template: the chat template of model" in r.stderr and str(model) in r.stderr
    assert needle in r.stderr and "fewshot_context" not in r.output
    assert not store.exists()


def test_a_working_chat_template_passes_the_door(chat_model_dir: Path) -> None:
    from transformers import AutoTokenizer

    from evalkit.plan.prompts import PromptOptions
    from evalkit.scoring.chat import check_chat_template

    tokenizer = AutoTokenizer.from_pretrained(chat_model_dir)
    check_chat_template(tokenizer, PromptOptions(chat_template=True, fewshot_as_multiturn=True,
                                                 system_instruction="Be brief."), model="tiny-chat")
