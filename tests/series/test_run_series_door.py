"""Every bad checkpoint series given to `evalkit run` stops at the door: exit 2, the folder named,
a hint, no traceback, no model loaded and nothing stored."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Callable

import pytest

from tests.executors.store_rows import run_count
from tests.series.trainer_dirs import TrainerRun, copy_run, edit_json, trainer_state, write_state

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tasks"
Case = Callable[[TrainerRun, TrainerRun, Path], tuple[list[str], list[str]]]


@pytest.fixture
def no_model_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if any model is loaded: a bad series must be found before that."""
    import evalkit.models.loading as loading

    def refuse(spec: Any) -> Any:
        raise AssertionError(f"model {spec.name} was loaded before the series was checked")

    monkeypatch.setattr(loading, "load_model", refuse)


def _glob_matching_nothing(full: TrainerRun, adapter: TrainerRun, tmp: Path) -> tuple[list[str], list[str]]:
    pattern = f"{full.out}/checkpoint-99*"
    return ["-m", pattern], [pattern, "No checkpoint folder matches"]


def _no_weights(full: TrainerRun, adapter: TrainerRun, tmp: Path) -> tuple[list[str], list[str]]:
    run = copy_run(full, tmp)
    (run.checkpoint(9) / "model.safetensors").unlink()
    return ["-m", str(run.out)], [str(run.checkpoint(9)), "no weights"]


def _different_tokenizer(full: TrainerRun, adapter: TrainerRun, tmp: Path) -> tuple[list[str], list[str]]:
    run = copy_run(full, tmp)
    path = run.checkpoint(9) / "tokenizer.json"
    data = json.loads(path.read_text())
    vocab = data["model"]["vocab"]
    vocab["zz-not-in-the-series"] = vocab.pop(next(iter(vocab)))
    path.write_text(json.dumps(data))
    return ["-m", str(run.out)], [str(run.checkpoint(9)), "different tokenizer"]


def _mixed_architectures(full: TrainerRun, adapter: TrainerRun, tmp: Path) -> tuple[list[str], list[str]]:
    run = copy_run(full, tmp)
    edit_json(run.checkpoint(10) / "config.json", model_type="gpt2", architectures=["GPT2LMHeadModel"])
    return ["-m", f"{run.out}/checkpoint-*"], [str(run.checkpoint(10)), "GPT2LMHeadModel"]


def _full_and_adapter(full: TrainerRun, adapter: TrainerRun, tmp: Path) -> tuple[list[str], list[str]]:
    run = copy_run(full, tmp)
    shutil.copytree(adapter.checkpoint(9), run.out / "checkpoint-7")
    write_state(run.out / "checkpoint-7", trainer_state(7, tokens_in_state=True))
    return ["-m", str(run.out)], [str(run.out / "checkpoint-7"), "PEFT adapter"]


def _two_bases(full: TrainerRun, adapter: TrainerRun, tmp: Path) -> tuple[list[str], list[str]]:
    run = copy_run(adapter, tmp)
    edit_json(run.checkpoint(10) / "adapter_config.json", base_model_name_or_path="org/another-model")
    return ["-m", str(run.out)], [str(run.checkpoint(10)), "org/another-model"]


def _same_step_twice(full: TrainerRun, adapter: TrainerRun, tmp: Path) -> tuple[list[str], list[str]]:
    run = copy_run(full, tmp)
    shutil.copytree(run.checkpoint(10), run.out / "checkpoint-11")  # its trainer_state says step 10
    return ["-m", str(run.out)], [str(run.out / "checkpoint-11"), "step 10"]


def _smaller_model_mid_series(full: TrainerRun, adapter: TrainerRun, tmp: Path) -> tuple[list[str], list[str]]:
    from transformers import LlamaConfig, LlamaForCausalLM

    run = copy_run(full, tmp)
    shutil.rmtree(run.checkpoint(9))
    small = LlamaConfig(vocab_size=400, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                        num_attention_heads=2, num_key_value_heads=1)
    LlamaForCausalLM(small).save_pretrained(run.checkpoint(9))  # hidden 32 x 1 layer among 64 x 2
    write_state(run.checkpoint(9), trainer_state(9, tokens_in_state=False))
    return ["-m", str(run.out)], [str(run.checkpoint(5)), str(run.checkpoint(9)), "hidden_size 64 vs 32",
                                  "num_hidden_layers 2 vs 1", "intermediate_size 128 vs 64"]


def _adapter_of_another_rank(full: TrainerRun, adapter: TrainerRun, tmp: Path) -> tuple[list[str], list[str]]:
    run = copy_run(adapter, tmp)
    edit_json(run.checkpoint(9) / "adapter_config.json", r=8, target_modules=["q_proj", "k_proj"])
    return ["-m", str(run.out)], [str(run.checkpoint(5)), str(run.checkpoint(9)), "r 4 vs 8", "target_modules"]


def _global_step_as_text(full: TrainerRun, adapter: TrainerRun, tmp: Path) -> tuple[list[str], list[str]]:
    run = copy_run(full, tmp)
    edit_json(run.checkpoint(9) / "trainer_state.json", global_step="9")
    return ["-m", str(run.out)], [str(run.checkpoint(9) / "trainer_state.json"), "'global_step'", "not a training step"]


def _global_step_beyond_tensorboard(full: TrainerRun, adapter: TrainerRun, tmp: Path) -> tuple[list[str], list[str]]:
    run = copy_run(full, tmp)
    shutil.move(run.checkpoint(10), run.out / f"checkpoint-{10**30}")
    edit_json(run.out / f"checkpoint-{10**30}" / "trainer_state.json", global_step=10**30)
    return ["-m", str(run.out)], [f"checkpoint-{10**30}", str(10**30), "not a training step"]


def _with_adapter_option(full: TrainerRun, adapter: TrainerRun, tmp: Path) -> tuple[list[str], list[str]]:
    return ["-m", str(full.out), "--adapter", str(adapter.checkpoint(5))], ["--adapter", full.out.name]


def _with_revision_option(full: TrainerRun, adapter: TrainerRun, tmp: Path) -> tuple[list[str], list[str]]:
    return ["-m", "org/model@step100", "--revision", "main"], ["--revision", "org/model"]


def _fine_tuned_adapters(full: TrainerRun, adapter: TrainerRun, tmp: Path) -> tuple[list[str], list[str]]:
    return ["-m", str(adapter.out), "--setting", "zero-shot", "--setting", "fine-tuned"], \
        ["fine-tuned", "adapter checkpoint series", adapter.out.name]


@pytest.mark.parametrize("case", [
    _glob_matching_nothing, _no_weights, _different_tokenizer, _mixed_architectures, _full_and_adapter,
    _two_bases, _same_step_twice, _with_adapter_option, _with_revision_option, _fine_tuned_adapters,
    _smaller_model_mid_series, _adapter_of_another_rank, _global_step_as_text, _global_step_beyond_tensorboard,
], ids=lambda case: case.__name__.strip("_"))
def test_bad_series_exits_2_before_anything(case: Case, full_run: TrainerRun, adapter_run: TrainerRun,
                                            tmp_path: Path, evalkit_cli: Any, no_model_load: None,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    args, fragments = case(full_run, adapter_run, tmp_path)
    store = tmp_path / "r.db"
    result = evalkit_cli("run", *args, "--include-path", FIXTURES, "-t", "toy_sentiment", "--limit", "4",
                         "--store", store)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
    assert run_count(store) == 0
    assert not (tmp_path / "reports").exists() and not (tmp_path / "tensorboard").exists()
