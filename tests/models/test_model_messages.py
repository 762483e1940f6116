"""A --model that is not a loadable checkpoint is named with what it is and what to pass instead."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tasks"
SENTIMENT = str(FIXTURES / "toy_sentiment" / "toy_sentiment.yaml")


def test_a_weights_file_is_named_and_its_folder_suggested(tiny_model_dir: Path, tmp_path: Path, evalkit_cli) -> None:
    r = evalkit_cli("run", "-m", tiny_model_dir / "model.safetensors", "-t", SENTIMENT, "--store", tmp_path / "r.db")
    assert r.exit_code == 2
    assert "is a weights file" in r.stderr and f"--model {tiny_model_dir.resolve()}" in r.stderr
    assert "does not exist" not in r.stderr and "no such" not in r.stderr
    assert not (tmp_path / "r.db").exists()


def test_a_folder_that_is_no_checkpoint_is_named(tmp_path: Path, evalkit_cli) -> None:
    (tmp_path / "empty").mkdir()
    r = evalkit_cli("run", "-m", tmp_path / "empty", "-t", SENTIMENT, "--store", tmp_path / "r.db")
    assert r.exit_code == 2
    assert "is not a model checkpoint" in r.stderr and "config.json" in r.stderr


def test_an_adapter_folder_passed_as_model_points_at_adapter(tmp_path: Path) -> None:
    from evalkit.errors import ModelError
    from evalkit.models.spec import resolve_model_spec

    (tmp_path / "adapter_config.json").write_text("{}")
    (tmp_path / "adapter_model.safetensors").write_bytes(b"")
    with pytest.raises(ModelError, match="PEFT adapter") as info:
        resolve_model_spec(str(tmp_path))
    assert "--adapter" in info.value.render()


def test_remote_code_refusal_names_the_option(tmp_path: Path, evalkit_cli) -> None:
    model = tmp_path / "custom"
    model.mkdir()
    (model / "config.json").write_text(json.dumps({"model_type": "custom-llm", "auto_map": {
        "AutoConfig": "configuration_custom.CustomConfig", "AutoModelForCausalLM": "modeling_custom.CustomLM"}}))
    (model / "model.safetensors").write_bytes(b"")
    r = evalkit_cli("run", "-m", model, "-t", SENTIMENT, "--store", tmp_path / "r.db")
    assert r.exit_code == 2, r.output
    assert "--trust-remote-code" in r.stderr and "Traceback" not in r.output
    assert not (tmp_path / "r.db").exists()
