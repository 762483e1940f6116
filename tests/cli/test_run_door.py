"""Bad input to `evalkit run` is found at the door: exit 2, the culprit named, no traceback,
no model loaded and nothing stored."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.executors.store_rows import run_count

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tasks"
SENTIMENT = str(FIXTURES / "toy_sentiment" / "toy_sentiment.yaml")
GEN = str(FIXTURES / "toy_gen" / "toy_gen.yaml")


@pytest.fixture
def no_model_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if any model is loaded: bad input must be found before that."""
    import evalkit.models.loading as loading

    def refuse(spec):  # noqa: ANN001
        raise AssertionError(f"model {spec.name} was loaded before the input was checked")

    monkeypatch.setattr(loading, "load_model", refuse)


@pytest.fixture(scope="module")
def tiny_t5_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An encoder-decoder checkpoint directory (tiny random T5 with the tiny tokenizer)."""
    import torch
    from transformers import AutoTokenizer, T5Config, T5ForConditionalGeneration

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    torch.manual_seed(0)
    config = T5Config(vocab_size=len(tokenizer), d_model=32, d_kv=8, d_ff=64, num_layers=1, num_heads=2,
                      pad_token_id=0, eos_token_id=0, decoder_start_token_id=0)
    directory = tmp_path_factory.mktemp("tiny-t5")
    T5ForConditionalGeneration(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def short_context_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model with a context of 8 tokens (toy_gen generates up to 8)."""
    directory = tmp_path_factory.mktemp("short-context")
    for path in tiny_model_dir.iterdir():
        shutil.copy(path, directory / path.name)
    config = json.loads((directory / "config.json").read_text())
    config["max_position_embeddings"] = 8
    (directory / "config.json").write_text(json.dumps(config))
    return directory


@pytest.mark.parametrize("task, extra, message", [
    ("boolq", [], "declares no training split"),
    (GEN, ["--ft-objective", "choice-ce"], "choice-ce needs a multiple-choice task"),
    (SENTIMENT, ["--train-split", "validation", "--limit", "24"], "nothing is left to fine-tune on"),
])
def test_fine_tuned_cell_inputs_are_checked_first(task, extra, message, tiny_model_dir, tmp_path, evalkit_cli,
                                                  no_model_load):
    store = tmp_path / "r.db"
    r = evalkit_cli("run", "-m", tiny_model_dir, "-t", task, "--setting", "zero-shot", "--setting", "fine-tuned",
                    *extra, "--store", store)
    assert r.exit_code == 2, r.output
    assert message in r.stderr and "Traceback" not in r.output
    assert run_count(store) == 0


def test_fine_tuning_an_encoder_decoder_model_is_refused_at_the_door(tiny_t5_dir, tmp_path, evalkit_cli,
                                                                     no_model_load):
    store = tmp_path / "r.db"
    r = evalkit_cli("run", "-m", tiny_t5_dir, "-t", SENTIMENT, "--setting", "fine-tuned", "--store", store)
    assert r.exit_code == 2, r.output
    assert "encoder-decoder" in r.stderr and tiny_t5_dir.name in r.stderr
    assert run_count(store) == 0


def test_unknown_fine_tuning_method_is_refused_before_anything_runs(tiny_model_dir, tmp_path):
    import evalkit
    from evalkit.errors import InputError
    from evalkit.plan import FineTuneOptions

    with pytest.raises(InputError, match="qlora"):
        evalkit.run([str(tiny_model_dir)], [SENTIMENT], settings=["fine-tuned"], store=tmp_path / "r.db",
                    finetune=FineTuneOptions(method="qlora"))
    assert run_count(tmp_path / "r.db") == 0


@pytest.mark.parametrize("args", [["-k", "49"], ["--setting", "few-shot:200"], ["--setting", "fine-tuned+few-shot:49"]])
def test_more_few_shot_examples_than_the_source_split(args, tiny_model_dir, tmp_path, evalkit_cli, no_model_load):
    store = tmp_path / "r.db"
    # toy_sentiment draws few-shot examples from its 48-document training split.
    r = evalkit_cli("run", "-m", tiny_model_dir, "-t", SENTIMENT, *args, "--store", store)
    assert r.exit_code == 2, r.output
    assert "few-shot examples" in r.stderr and "only 48 documents" in r.stderr and "Traceback" not in r.output
    assert run_count(store) == 0


def test_generation_longer_than_the_models_context(short_context_dir, tmp_path, evalkit_cli, no_model_load):
    store = tmp_path / "r.db"
    r = evalkit_cli("run", "-m", short_context_dir, "-t", GEN, "--store", store)
    assert r.exit_code == 2, r.output
    assert "generates up to 8 tokens" in r.stderr and "context of 8 tokens" in r.stderr
    assert run_count(store) == 0


@pytest.mark.parametrize("args, option", [
    (["--seed", "-1"], "--seed"),
    (["--seed", str(2**32)], "--seed"),
    (["--ft-lr", "nan"], "--ft-lr"),
    (["--ft-lr", "inf"], "--ft-lr"),
    (["--ft-lr", "0"], "--ft-lr"),
    (["--ft-epochs", "inf"], "--ft-epochs"),
    (["--ft-epochs", "nan"], "--ft-epochs"),
    (["--ft-epochs", "0"], "--ft-epochs"),
    (["--ft-epochs", "-1"], "--ft-epochs"),
    (["--ft-max-steps", "0"], "--ft-max-steps"),
    (["--ft-batch-size", "0"], "--ft-batch-size"),
    (["--ft-lora-r", "0"], "--ft-lora-r"),
    (["--ft-max-examples", "0"], "--ft-max-examples"),
])
def test_out_of_range_values_are_usage_errors(args, option, tiny_model_dir, tmp_path, evalkit_cli, no_model_load):
    store = tmp_path / "r.db"
    r = evalkit_cli("run", "-m", tiny_model_dir, "-t", SENTIMENT, "--setting", "fine-tuned", *args, "--store", store)
    assert r.exit_code == 2, r.output
    assert option in r.stderr and "Traceback" not in r.output
    assert not store.exists()


@pytest.mark.parametrize("options, name", [({"lr": float("nan")}, "--ft-lr"), ({"epochs": float("inf")}, "--ft-epochs"),
                                           ({"max_steps": 0}, "--ft-max-steps"), ({"objective": "mse"}, "--ft-objective")])
def test_fine_tune_options_validate_themselves(options, name):
    from evalkit.errors import InputError
    from evalkit.plan import FineTuneOptions

    with pytest.raises(InputError, match=name):
        FineTuneOptions(**options)


def test_python_api_seed_is_checked(tiny_model_dir):
    from evalkit.api import build_cells
    from evalkit.errors import InputError

    with pytest.raises(InputError, match="--seed"):
        build_cells([str(tiny_model_dir)], [SENTIMENT], seed=2**32)


def test_a_run_name_that_swallowed_the_next_option_is_refused(tiny_model_dir, tmp_path, evalkit_cli, no_model_load):
    store = tmp_path / "r.db"
    r = evalkit_cli("run", "-m", tiny_model_dir, "-t", SENTIMENT, "--store", store, "--name", "--rerun")
    assert r.exit_code == 2, r.output
    assert "Run name '--rerun' starts with '-'" in r.stderr and "Traceback" not in r.output
    assert run_count(store) == 0
