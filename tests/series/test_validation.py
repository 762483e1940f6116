"""Every way a series can be wrong is a ModelError (exit 2) that names the folder and says what to do."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from evalkit.errors import ModelError
from evalkit.models.series import expand_model_refs
from tests.series.trainer_dirs import TrainerRun, copy_run, edit_json, trainer_state, write_state


def expect_error(refs: list[str], *fragments: str) -> ModelError:
    """Expanding `refs` fails with exit code 2, a hint, and every fragment in the message."""
    with pytest.raises(ModelError) as caught:
        expand_model_refs(refs)
    error = caught.value
    assert error.exit_code == 2 and error.hint
    for fragment in fragments:
        assert fragment in error.message, error.message
    return error


def test_glob_matching_nothing(full_run: TrainerRun) -> None:
    pattern = f"{full_run.out}/checkpoint-9999*"
    error = expect_error([pattern], pattern)
    assert "quoted" in (error.hint or "")


def test_full_checkpoint_without_weights(full_run: TrainerRun, tmp_path: Path) -> None:
    run = copy_run(full_run, tmp_path)
    (run.checkpoint(9) / "model.safetensors").unlink()
    expect_error([str(run.out)], str(run.checkpoint(9)), "no weights")


def test_adapter_checkpoint_without_weights(adapter_run: TrainerRun, tmp_path: Path) -> None:
    run = copy_run(adapter_run, tmp_path)
    (run.checkpoint(10) / "adapter_model.safetensors").unlink()
    expect_error([str(run.out)], str(run.checkpoint(10)), "no adapter weights")


def test_folder_that_is_no_checkpoint(full_run: TrainerRun, tmp_path: Path) -> None:
    run = copy_run(full_run, tmp_path)
    (run.out / "checkpoint-11").mkdir()
    expect_error([str(run.out)], str(run.checkpoint(11)), "neither config.json nor adapter_config.json")


def test_mixed_architectures(full_run: TrainerRun, tmp_path: Path) -> None:
    run = copy_run(full_run, tmp_path)
    edit_json(run.checkpoint(9) / "config.json", model_type="gpt2", architectures=["GPT2LMHeadModel"])
    expect_error([str(run.out)], str(run.checkpoint(9)), "gpt2", "GPT2LMHeadModel", "LlamaForCausalLM")


def test_mixed_model_sizes_name_both_checkpoints_and_the_keys(full_run: TrainerRun, tmp_path: Path) -> None:
    run = copy_run(full_run, tmp_path)
    edit_json(run.checkpoint(10) / "config.json", hidden_size=32, num_hidden_layers=1)
    expect_error([str(run.out)], str(run.checkpoint(5)), str(run.checkpoint(10)), "hidden_size 64 vs 32",
                 "num_hidden_layers 2 vs 1")
    edit_json(run.checkpoint(10) / "config.json", hidden_size=64, num_hidden_layers=2, vocab_size=999)
    expect_error([str(run.out)], "vocab_size")


def test_adapter_target_modules_in_another_order_are_the_same(adapter_run: TrainerRun, tmp_path: Path) -> None:
    run = copy_run(adapter_run, tmp_path)
    edit_json(run.checkpoint(9) / "adapter_config.json", target_modules=["v_proj", "q_proj"])
    assert [m.step for m in expand_model_refs([str(run.out)])] == [5, 9, 10]
    edit_json(run.checkpoint(9) / "adapter_config.json", target_modules=["v_proj"])
    expect_error([str(run.out)], str(run.checkpoint(9)), "target_modules")


def test_adapters_on_different_base_models(adapter_run: TrainerRun, tmp_path: Path) -> None:
    run = copy_run(adapter_run, tmp_path)
    edit_json(run.checkpoint(10) / "adapter_config.json", base_model_name_or_path="org/another-model")
    expect_error([str(run.out)], str(run.checkpoint(10)), "org/another-model")


def test_adapter_without_base_model(adapter_run: TrainerRun, tmp_path: Path) -> None:
    run = copy_run(adapter_run, tmp_path)
    edit_json(run.checkpoint(5) / "adapter_config.json", base_model_name_or_path=None)
    expect_error([str(run.out)], str(run.checkpoint(5)), "base_model_name_or_path")


def test_full_and_adapter_checkpoints_mixed(full_run: TrainerRun, adapter_run: TrainerRun, tmp_path: Path) -> None:
    run = copy_run(full_run, tmp_path)
    shutil.copytree(adapter_run.checkpoint(9), run.out / "checkpoint-7")
    write_state(run.out / "checkpoint-7", trainer_state(7, tokens_in_state=True))
    expect_error([str(run.out)], str(run.out / "checkpoint-7"), "PEFT adapter", "full checkpoint")


def _change_tokenizer(folder: Path) -> None:
    """Give the tokenizer in `folder` one different vocabulary entry."""
    path = folder / "tokenizer.json"
    data = json.loads(path.read_text())
    vocab = data["model"]["vocab"]
    token = next(iter(vocab))
    vocab["zz-not-in-the-series"] = vocab.pop(token)
    path.write_text(json.dumps(data))


def test_checkpoint_with_a_different_tokenizer(full_run: TrainerRun, tmp_path: Path) -> None:
    run = copy_run(full_run, tmp_path)
    _change_tokenizer(run.checkpoint(9))
    expect_error([str(run.out)], str(run.checkpoint(9)), "different tokenizer", "tokenizer.json")


def test_adapter_checkpoint_whose_tokenizer_differs_from_the_base(adapter_run: TrainerRun, tmp_path: Path) -> None:
    run = copy_run(adapter_run, tmp_path)
    _change_tokenizer(run.checkpoint(5))
    expect_error([str(run.out)], str(run.checkpoint(5)), "different tokenizer")


def test_tokenizer_resaved_or_reformatted_is_the_same(full_run: TrainerRun, tmp_path: Path) -> None:
    run = copy_run(full_run, tmp_path)
    path = run.checkpoint(9) / "tokenizer.json"
    path.write_text(json.dumps(json.loads(path.read_text()), indent=4, sort_keys=True))
    edit_json(run.checkpoint(9) / "tokenizer_config.json", name_or_path="/elsewhere", local_files_only=True)
    assert [m.step for m in expand_model_refs([str(run.out)])] == [5, 9, 10]


def test_full_series_without_any_tokenizer(full_run: TrainerRun, tmp_path: Path) -> None:
    run = copy_run(full_run, tmp_path)
    for folder in (run.out, run.checkpoint(9)):
        for name in ("tokenizer.json", "tokenizer_config.json"):
            (folder / name).unlink()
    expect_error([str(run.out)], str(run.out.resolve()), "no tokenizer")


def test_two_checkpoints_at_one_step(full_run: TrainerRun, tmp_path: Path) -> None:
    for name in ("snap-a", "snap-b"):  # names that do not say a step; both trainer_states say step 10
        shutil.copytree(full_run.checkpoint(10), tmp_path / "snaps" / name)
    snaps = (tmp_path / "snaps").resolve()
    expect_error([str(snaps / "snap-*")], str(snaps / "snap-a"), str(snaps / "snap-b"), "step 10")


def test_global_step_that_contradicts_the_folder_name(full_run: TrainerRun, tmp_path: Path) -> None:
    run = copy_run(full_run, tmp_path)
    shutil.copytree(run.checkpoint(10), run.out / "checkpoint-11")  # its trainer_state says step 10
    state = run.out / "checkpoint-11" / "trainer_state.json"
    expect_error([str(run.out)], str(state), "checkpoint-11", "step 10", "not 11")


@pytest.mark.parametrize("value", ["12", 12.7, 12.0, -3, True, None, 2**63])
def test_global_step_that_is_not_a_step(full_run: TrainerRun, tmp_path: Path, value: object) -> None:
    run = copy_run(full_run, tmp_path)
    edit_json(run.checkpoint(9) / "trainer_state.json", global_step=value)
    expect_error([str(run.out)], str(run.checkpoint(9) / "trainer_state.json"), "'global_step'", json.dumps(value),
                 "not a training step")


def test_folder_name_step_beyond_what_a_trajectory_holds(full_run: TrainerRun, tmp_path: Path) -> None:
    name = f"checkpoint-{10**30}"
    shutil.copytree(full_run.checkpoint(9), tmp_path / "out" / name)
    (tmp_path / "out" / name / "trainer_state.json").unlink()
    expect_error([str(tmp_path / "out")], name, "not a training step")
    expect_error([f"org/m@step{10**30}"], f"org/m@step{10**30}", "not a training step")


def test_hand_built_member_with_a_step_beyond_tensorboard(full_run: TrainerRun) -> None:
    from dataclasses import replace

    from evalkit.models.series import check_series_cells
    from evalkit.models.spec import member_spec
    from evalkit.plan import Cell
    from evalkit.plan.settings import parse_setting

    member = replace(expand_model_refs([str(full_run.out)])[0], step=10**30)  # as the Python API could pass it
    cell = Cell(member_spec(member), "toy_sentiment", parse_setting("zero-shot"), 4, 1234, 8)
    with pytest.raises(ModelError, match="not a training step") as caught:
        check_series_cells([cell])
    assert str(full_run.checkpoint(5)) in caught.value.message and caught.value.exit_code == 2


def test_symbolic_link_to_nothing(full_run: TrainerRun, tmp_path: Path) -> None:
    run = copy_run(full_run, tmp_path)
    (run.out / "checkpoint-12").symlink_to(tmp_path / "gone")
    expect_error([str(run.out)], str(run.out / "checkpoint-12"), "does not exist")


def test_same_checkpoint_given_twice(full_run: TrainerRun) -> None:
    expect_error([str(full_run.out), str(full_run.checkpoint(9)) + "*"], "checkpoint-9", "given twice")


def test_hub_revision_given_twice() -> None:
    expect_error(["org/m@step10", "org/m@step10"], "org/m@step10", "given twice")


def test_hub_revisions_at_one_step() -> None:
    expect_error(["org/m@step10", "org/m@ckpt10"], "org/m@step10", "org/m@ckpt10", "step 10")


def test_step_that_cannot_be_told(full_run: TrainerRun, tmp_path: Path) -> None:
    shutil.copytree(full_run.checkpoint(9), tmp_path / "snaps" / "final")
    (tmp_path / "snaps" / "final" / "trainer_state.json").unlink()
    expect_error([str(tmp_path / "snaps" / "fin*")], str((tmp_path / "snaps" / "final").resolve()), "training step")


def test_damaged_trainer_state(full_run: TrainerRun, tmp_path: Path) -> None:
    run = copy_run(full_run, tmp_path)
    (run.checkpoint(5) / "trainer_state.json").write_text('{"global_step": 5,')
    expect_error([str(run.out)], str(run.checkpoint(5) / "trainer_state.json"))
