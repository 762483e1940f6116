"""evalkit.calibrate: the re-run's options are the source run's with only the nuisance changed."""

from __future__ import annotations

import pytest

from evalkit.calibrate import Nuisance, check_changed, parse_nuisance, rerun_options
from evalkit.errors import InputError

CONFIG = {"models": ["m"], "tasks": ["t"], "include_paths": [], "seed": 1234, "fewshot_seed": None,
          "batch_size": "auto", "dtype": "float32", "request_cache": True, "finetune": None, "limit": 5}


def test_a_new_sampling_seed_keeps_the_few_shot_examples_of_the_source() -> None:
    options = rerun_options(CONFIG, parse_nuisance("seed=7"))
    assert options["seed"] == 7 and options["fewshot_seed"] == 1234
    assert options["request_cache"] is False and options["limit"] == 5 and "models" not in options


def test_batch_size_and_dtype_change_only_themselves() -> None:
    assert rerun_options(CONFIG, parse_nuisance("batch-size=2"))["batch_size"] == 2
    options = rerun_options(CONFIG, parse_nuisance("dtype=bfloat16"))
    assert options["dtype"] == "bfloat16" and options["fewshot_seed"] is None


def test_the_seed_the_run_used_is_refused() -> None:
    with pytest.raises(InputError, match="already ran with seed 1234"):
        check_changed(CONFIG, Nuisance("seed", 1234), "Run 'x'")


def test_a_dtype_auto_resolved_to_the_same_value_is_refused() -> None:
    config = {**CONFIG, "dtype": "auto"}
    with pytest.raises(InputError, match=r"already ran with dtype float32 \(given as auto\)"):
        check_changed(config, Nuisance("dtype", "float32"), "Run 'x'", [{"dtype": "float32"}])
    check_changed(config, Nuisance("dtype", "bfloat16"), "Run 'x'", [{"dtype": "float32"}])
