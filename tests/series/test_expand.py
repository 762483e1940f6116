"""expand_model_refs: which -m values become series, their order and what each member records."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from evalkit.models.series import SeriesMember, expand_model_refs
from tests.series.trainer_dirs import (
    FLOS_PER_STEP, STEPS_PER_EPOCH, TOKENS_PER_STEP, TrainerRun, copy_run, edit_json,
)


def test_trainer_output_dir_is_ordered_by_step_not_by_name(full_run: TrainerRun) -> None:
    members = expand_model_refs([str(full_run.out)])
    assert [m.step for m in members] == [5, 9, 10]
    assert [Path(m.ref).name for m in members] == ["checkpoint-5", "checkpoint-9", "checkpoint-10"]
    assert {m.kind for m in members} == {"full"}
    assert {m.series for m in members} == {full_run.out.name}


def test_member_records_epoch_tokens_and_flos(full_run: TrainerRun, adapter_run: TrainerRun) -> None:
    # full_run counts tokens only in log_history (state counter 0); adapter_run in the state itself
    for run in (full_run, adapter_run):
        for member in expand_model_refs([str(run.out)]):
            assert member.epoch == pytest.approx(member.step / STEPS_PER_EPOCH)
            assert member.tokens_seen == member.step * TOKENS_PER_STEP
            assert member.flos == pytest.approx(member.step * FLOS_PER_STEP)


def test_trajectory_is_what_a_cell_stores(full_run: TrainerRun) -> None:
    last = expand_model_refs([str(full_run.out)])[-1]
    assert last.trajectory() == {"series": full_run.out.name, "step": 10, "epoch": 1.0,
                                 "tokens_seen": 10 * TOKENS_PER_STEP, "flos": 10 * FLOS_PER_STEP,
                                 "kind": "checkpoint"}
    assert SeriesMember(ref="smollm2-135m").trajectory() is None


def test_adapter_series_names_its_base(adapter_run: TrainerRun, tiny_model_dir: Path) -> None:
    members = expand_model_refs([str(adapter_run.out)])
    assert [m.step for m in members] == [5, 9, 10]
    assert {m.kind for m in members} == {"adapter"}
    assert {m.base_model for m in members} == {str(tiny_model_dir)}
    assert {m.tokenizer for m in members} == {str(tiny_model_dir)}  # the base's tokenizer is the series'


def test_full_series_reads_the_output_dirs_tokenizer(full_run: TrainerRun) -> None:
    members = expand_model_refs([str(full_run.out)])
    assert {m.tokenizer for m in members} == {str(full_run.out.resolve())}


def test_tokenizer_falls_back_to_the_first_checkpoint_that_has_one(full_run: TrainerRun, adapter_run: TrainerRun,
                                                                   tmp_path: Path) -> None:
    full = copy_run(full_run, tmp_path, name="full")
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (full.out / name).unlink()
    adapters = copy_run(adapter_run, tmp_path, name="adapters")
    for step in adapters.steps:  # a hub base model: nothing local to read its tokenizer from
        edit_json(adapters.checkpoint(step) / "adapter_config.json", base_model_name_or_path="org/base")
    assert {m.tokenizer for m in expand_model_refs([str(full.out)])} == {str(full.checkpoint(9))}
    assert {m.tokenizer for m in expand_model_refs([str(adapters.out)])} == {str(adapters.checkpoint(5))}


def test_glob_matches_checkpoints_and_orders_them(full_run: TrainerRun) -> None:
    members = expand_model_refs([f"{full_run.out}/checkpoint-[19]*"])
    assert [m.step for m in members] == [9, 10]
    assert {m.series for m in members} == {full_run.out.name}


def test_step_comes_from_trainer_state_before_the_folder_name(full_run: TrainerRun, tmp_path: Path) -> None:
    # folders not named checkpoint-N, whose lexical order is the reverse of their global_step
    out = tmp_path / "snapshots"
    shutil.copytree(full_run.checkpoint(10), out / "snap-a")
    shutil.copytree(full_run.checkpoint(5), out / "snap-b")
    shutil.copytree(full_run.checkpoint(9), out / "snap-c")  # holds a tokenizer
    members = expand_model_refs([str(out / "snap-*")])
    assert [(Path(m.ref).name, m.step) for m in members] == [("snap-b", 5), ("snap-c", 9), ("snap-a", 10)]


def test_folder_name_gives_the_step_without_trainer_state(full_run: TrainerRun, tmp_path: Path) -> None:
    run = copy_run(full_run, tmp_path)
    for step in run.steps:
        (run.checkpoint(step) / "trainer_state.json").unlink()
    members = expand_model_refs([str(run.out)])
    assert [m.step for m in members] == [5, 9, 10]
    assert {m.epoch for m in members} == {None} and {m.tokens_seen for m in members} == {None}


def test_symbolically_linked_checkpoints_count_by_the_links_name(full_run: TrainerRun, tmp_path: Path) -> None:
    # checkpoints kept elsewhere (another disk), linked into OUT; checkpoint-9's target is not named checkpoint-N
    run = copy_run(full_run, tmp_path)
    store = (tmp_path / "elsewhere").resolve()
    store.mkdir()
    (run.checkpoint(5) / "trainer_state.json").unlink()  # the step comes from the link's name alone
    for step, target in ((5, "kept-5"), (9, "snapshot")):
        shutil.move(run.checkpoint(step), store / target)
        run.checkpoint(step).symlink_to(store / target, target_is_directory=True)
    members = expand_model_refs([str(run.out)])
    assert [(m.ref, m.step) for m in members] == [(str(store / "kept-5"), 5), (str(store / "snapshot"), 9),
                                                  (str(run.checkpoint(10)), 10)]
    glob_members = expand_model_refs([str(run.out / "checkpoint-*")])
    assert [m.step for m in glob_members] == [5, 9, 10]


def test_hub_revisions_order_by_trailing_number_and_group_by_id() -> None:
    members = expand_model_refs(["org/pythia@step3000", "other/model", "org/pythia@step1000"])
    assert [(m.ref, m.revision, m.step, m.series) for m in members] == [
        ("org/pythia", "step1000", 1000, "org/pythia"),
        ("org/pythia", "step3000", 3000, "org/pythia"),
        ("other/model", None, None, None),
    ]


def test_hub_revisions_without_numbers_keep_order_of_appearance() -> None:
    members = expand_model_refs(["org/m@main", "org/m@step5", "org/m@v-final"])
    assert [(m.revision, m.step) for m in members] == [("main", 0), ("step5", 1), ("v-final", 2)]


def test_plain_models_pass_through_unchanged(tiny_model_dir: Path, full_run: TrainerRun) -> None:
    refs = ["smollm2-135m", str(tiny_model_dir), str(full_run.checkpoint(9)), "HuggingFaceTB/SmolLM2-135M"]
    members = expand_model_refs(refs)
    assert [m.ref for m in members] == refs
    assert all(not m.in_series and m.kind == "model" and m.step is None for m in members)


def test_series_and_plain_models_keep_the_users_order(full_run: TrainerRun, adapter_run: TrainerRun) -> None:
    members = expand_model_refs([str(adapter_run.out), "smollm2-135m", str(full_run.out)])
    assert [m.series for m in members] == [adapter_run.out.name] * 3 + [None] + [full_run.out.name] * 3


def test_two_runs_with_one_name_get_distinct_labels(full_run: TrainerRun, tmp_path: Path) -> None:
    first = copy_run(full_run, tmp_path / "a", name="run")
    second = copy_run(full_run, tmp_path / "b", name="run")
    labels = {m.series for m in expand_model_refs([str(first.out), str(second.out)])}
    assert labels == {str(first.out.resolve()), str(second.out.resolve())}


def test_expansion_reads_no_weights_and_imports_no_torch(full_run: TrainerRun, adapter_run: TrainerRun) -> None:
    script = ("import json, sys\nfrom evalkit.models.series import expand_model_refs\n"
              f"members = expand_model_refs({[str(full_run.out), str(adapter_run.out)]!r})\n"
              "print(json.dumps([len(members), 'torch' in sys.modules, 'transformers' in sys.modules]))\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [6, False, False]
