"""The tiny model with chat templates: one with a single template (with a system role), one with
named templates, as `tokenizer_config.json` holds them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tasks"

# A small ChatML-like template: system, user and assistant turns, and a generation prompt.
CHAT_TEMPLATE = (
    "{% for message in messages %}<|{{ message['role'] }}|>{{ message['content'] }}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
TERSE_TEMPLATE = "{% for message in messages %}[{{ message['role'][0] }}] {{ message['content'] }}\n{% endfor %}"


def _with_templates(source: Path, target: Path, template: str | dict[str, str]) -> Path:
    from transformers import AutoTokenizer

    shutil.copytree(source, target)
    tokenizer = AutoTokenizer.from_pretrained(target)
    tokenizer.chat_template = template
    tokenizer.save_pretrained(target)
    return target


@pytest.fixture(scope="session")
def chat_model_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny random Llama whose tokenizer has one chat template."""
    return _with_templates(tiny_model_dir, tmp_path_factory.mktemp("chat") / "tiny-chat", CHAT_TEMPLATE)


@pytest.fixture(scope="session")
def named_templates_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny random Llama whose tokenizer has named chat templates ('default' and 'terse')."""
    return _with_templates(tiny_model_dir, tmp_path_factory.mktemp("named") / "tiny-named",
                           {"default": CHAT_TEMPLATE, "terse": TERSE_TEMPLATE})
