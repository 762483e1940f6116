"""`-t bias` stands for the built-in bias tasks: expanded in place, without repeats, before the plan."""

from __future__ import annotations

from evalkit.api import build_cells
from evalkit.bias import SUITES, expand_suites
from tests.tasks_builtin.shipped import registry


def test_a_suite_name_becomes_its_tasks_in_place_without_repeats() -> None:
    assert expand_suites(["sst2", "bias", "bbq", "copa"]) == ["sst2", *SUITES["bias"], "copa"]
    assert SUITES["bias"][:3] == ("bbq", "crows_pairs_english", "winogender_all")
    assert expand_suites(["sst2", "sst2"]) == ["sst2"]


def test_every_suite_task_is_a_shipped_task() -> None:
    for tasks in SUITES.values():
        assert all(registry().resolve(name).source == "builtin" for name in tasks), tasks


def test_the_plan_has_one_cell_per_bias_task_and_limits_by_name_apply(tiny_model_dir) -> None:
    cells = build_cells([str(tiny_model_dir)], ["bias"], settings=["zero-shot"], limit={"bbq": 5, "*": 3})
    assert [(c.task, c.limit) for c in cells] == [("bbq", 5)] + [(t, 3) for t in SUITES["bias"][1:]]
