"""`import evalkit.scoring` registers the backend with lm-eval, without importing torch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def test_import_registers_without_torch():
    code = ("import sys, evalkit.scoring\n"
            "from lm_eval.api.registry import model_registry\n"
            "assert 'evalkit' in model_registry\n"
            "assert 'torch' not in sys.modules, 'torch imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])


def test_import_evalkit_keeps_lm_evals_own_models():
    """Issue 24 item 6: registering "evalkit" first left lm-eval's registry non-empty, so lm-eval
    never filled it: `get_model("hf")` failed after `import evalkit`."""
    code = ("import evalkit\n"
            "from lm_eval.api.registry import get_model\n"
            "assert get_model('hf').__name__ == 'HFLM'\n"
            "assert get_model('dummy').__name__ == 'DummyLM'\n"
            "assert get_model('evalkit').__name__ == 'EvalkitLM'\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])


def test_registry_resolves_to_the_backend_class():
    import evalkit.scoring
    from evalkit.scoring.backend import EvalkitLM
    from lm_eval.api.registry import get_model

    evalkit.scoring.register()  # idempotent
    assert get_model("evalkit") is EvalkitLM
    assert evalkit.scoring.EvalkitLM is EvalkitLM


def test_unknown_model_argument_is_named(tiny_model_dir):
    from evalkit.errors import ModelError
    from evalkit.scoring.backend import EvalkitLM

    with pytest.raises(ModelError, match="btach_size.*Did you mean: batch_size"):
        EvalkitLM.create_from_arg_string(f"pretrained={tiny_model_dir},btach_size=4")


def _tiny_task(tmp_path: Path) -> dict:
    rows = [{"question": q, "choices": c, "label": l} for q, c, l in [
        ("The capital of France is", [" Paris.", " Rome.", " a roof"], 0),
        ("Is this sentence positive or negative? charming", [" positive", " negative"], 0),
        ("Janet sells duck eggs", [" #### 18", " #### 9", " eggs a day"], 1),
        ("Which technology was developed most recently?", [" cellular telephone", " television"], 0),
    ]]
    data = tmp_path / "tiny.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return {"task": "tiny_mc", "dataset_path": "json", "dataset_kwargs": {"data_files": {"test": str(data)}},
            "test_split": "test", "output_type": "multiple_choice", "doc_to_text": "{{question}}",
            "doc_to_choice": "{{choices}}", "doc_to_target": "{{label}}",
            "metric_list": [{"metric": "acc"}, {"metric": "acc_norm"}]}


def test_simple_evaluate_runs_on_evalkit_and_matches_hflm(tiny_model_dir, tiny_hflm, tmp_path):
    import lm_eval

    import evalkit.scoring  # noqa: F401 - registers "evalkit"

    task = _tiny_task(tmp_path)
    ours = lm_eval.simple_evaluate(model="evalkit", model_args=f"pretrained={tiny_model_dir},dtype=float32,device=cpu",
                                   tasks=[dict(task)], log_samples=True)
    theirs = lm_eval.simple_evaluate(model=tiny_hflm, tasks=[dict(task)], log_samples=True)
    assert ours["results"]["tiny_mc"]["acc,none"] == theirs["results"]["tiny_mc"]["acc,none"]
    ours_ll = [r[0][0] for s in ours["samples"]["tiny_mc"] for r in s["resps"]]
    theirs_ll = [r[0][0] for s in theirs["samples"]["tiny_mc"] for r in s["resps"]]
    assert len(ours_ll) == 10
    assert ours_ll == pytest.approx(theirs_ll, abs=1e-4)
