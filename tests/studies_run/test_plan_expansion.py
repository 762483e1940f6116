"""The study settings as the plan expands them (no model): labels, the cells per step, the
transfer wildcard, the order, --retrain once per training, and trajectory details that never collide."""

from __future__ import annotations

import pytest

from evalkit.engine.cell import with_trajectory
from evalkit.errors import InputError
from evalkit.models.spec import ModelSpec
from evalkit.plan import FineTuneOptions, StudyFacts, expand_cells, make_plan, snapshot_steps
from evalkit.plan.settings import parse_setting, reference_label, setting_family

MODEL = ModelSpec("tiny", "local", "/tmp/tiny")
FACTS = StudyFacts(names={"a.yaml": "a", "b": "b", "c": "c"}, sources=("a", "b"), total_steps={"a": 7, "b": 4})


def _plan(tasks: list[str], settings: list[str], **options) -> list:
    return make_plan([MODEL], tasks, [parse_setting(s) for s in settings], limit=8, seed=1, batch_size=4,
                     finetune=FineTuneOptions(**options))


@pytest.mark.parametrize(("text", "label"), [("fine-tuned-on:sst2", "fine-tuned-on:sst2"),
                                             ("Fine-Tuned-On:My_Task", "fine-tuned-on:My_Task"),
                                             ("fine-tuned-on:*", "fine-tuned-on:*"), ("fine-tuned", "fine-tuned")])
def test_setting_labels(text: str, label: str) -> None:
    assert parse_setting(text).label == label


def test_step_settings_are_made_by_the_plan_not_typed() -> None:
    with pytest.raises(InputError, match="Invalid --setting") as info:
        parse_setting("fine-tuned@step:4")
    assert "--ft-eval-steps" in (info.value.hint or "")


@pytest.mark.parametrize(("label", "family", "reference"), [
    ("fine-tuned@step:50", "fine-tuned", "zero-shot"), ("fine-tuned+few-shot:5@step:5", "fine-tuned+few-shot:5",
                                                        "few-shot:5"),
    ("fine-tuned-on:a", "fine-tuned-on:a", "zero-shot"), ("few-shot:3", "few-shot:3", "few-shot:3")])
def test_family_and_reference(label: str, family: str, reference: str) -> None:
    assert (setting_family(label), reference_label(label)) == (family, reference)


def test_snapshot_steps_stop_before_the_final_step() -> None:
    assert snapshot_steps(3, 7) == (3, 6) and snapshot_steps(2, 4) == (2,) and snapshot_steps(4, 4) == ()
    assert snapshot_steps(None, 9) == ()


def test_eval_steps_expand_only_fine_tuned_on_own_task() -> None:
    cells = expand_cells(_plan(["a.yaml"], ["zero-shot", "fine-tuned", "fine-tuned+few-shot:1", "fine-tuned-on:b"],
                               eval_steps=3), FACTS)
    assert [c.setting.label for c in cells] == [
        "zero-shot", "fine-tuned@step:3", "fine-tuned@step:6", "fine-tuned", "fine-tuned+few-shot:1@step:3",
        "fine-tuned+few-shot:1@step:6", "fine-tuned+few-shot:1", "fine-tuned-on:b"]
    assert len({c.cell_id for c in cells}) == len(cells)
    assert [c.cell_id for c in cells] == [c.cell_id for c in expand_cells(_plan(
        ["a.yaml"], ["zero-shot", "fine-tuned", "fine-tuned+few-shot:1", "fine-tuned-on:b"], eval_steps=3), FACTS)]


def test_the_wildcard_becomes_one_row_per_source_grouped_after_the_rest() -> None:
    cells = expand_cells(_plan(["a.yaml", "b", "c"], ["zero-shot", "fine-tuned-on:*"]), FACTS)
    assert [(c.task, c.setting.label) for c in cells] == [
        ("a.yaml", "zero-shot"), ("b", "zero-shot"), ("c", "zero-shot"),
        ("a.yaml", "fine-tuned-on:a"), ("b", "fine-tuned-on:a"), ("c", "fine-tuned-on:a"),
        ("a.yaml", "fine-tuned-on:b"), ("b", "fine-tuned-on:b"), ("c", "fine-tuned-on:b")]


def test_explicit_source_by_path_is_named_and_deduplicated_with_the_wildcard() -> None:
    cells = expand_cells(_plan(["b"], ["fine-tuned-on:a.yaml", "fine-tuned-on:*"]), FACTS)
    assert [c.setting.label for c in cells] == ["fine-tuned-on:a", "fine-tuned-on:b"]


def test_retrain_retrains_each_adapter_once() -> None:
    cells = expand_cells(_plan(["a.yaml", "b"], ["fine-tuned", "fine-tuned-on:a"], retrain=True, eval_steps=3), FACTS)
    retrained = [(c.task, c.setting.label) for c in cells if c.finetune.retrain]
    assert retrained == [("a.yaml", "fine-tuned@step:3"), ("b", "fine-tuned@step:3")]  # b: 4 steps


def test_fine_tuning_trajectory_wins_over_the_series_point() -> None:
    fine_tuning = {"series": "m fine-tuned on a", "step": 4, "kind": "fine-tuning"}
    checkpoint = {"series": "out", "step": 100, "kind": "checkpoint"}
    merged = with_trajectory({"trajectory": fine_tuning, "limit": 8}, checkpoint)
    assert merged["trajectory"] == fine_tuning and merged["series_checkpoint"] == checkpoint
    assert with_trajectory({"limit": 8}, checkpoint) == {"limit": 8, "trajectory": checkpoint}
    assert with_trajectory({"trajectory": fine_tuning}, None) == {"trajectory": fine_tuning}
