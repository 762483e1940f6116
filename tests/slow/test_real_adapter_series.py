"""A 2-checkpoint adapter series on the embedded SmolLM2-135M, end to end through `evalkit run -m OUT`:
tiny random LoRA adapters saved as Trainer checkpoints, one cell per checkpoint with its step,
the base loaded once, and a trajectory frame over the two steps."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import evalkit

pytestmark = pytest.mark.slow
STEPS = (10, 20)


@pytest.fixture
def real_home(real_model_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("EVALKIT_HOME", str(real_model_home))
    return real_model_home


def save_adapter_run(out: Path) -> Path:
    """OUT/checkpoint-N: random LoRA adapters (r=2 on q/v, a seed per step) on the embedded model."""
    import torch
    from peft import LoraConfig, get_peft_model

    from evalkit.models.loading import load_model
    from evalkit.models.spec import resolve_model_spec

    base = load_model(resolve_model_spec("smollm2-135m", dtype="float32", device="cpu")).model  # loaded once
    for step in STEPS:
        torch.manual_seed(step)
        config = LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
        folder = out / f"checkpoint-{step}"
        adapted = get_peft_model(base, config)
        adapted.save_pretrained(folder)
        base = adapted.unload()  # the bare base again (LoRA layers removed, nothing merged) for the next step
        adapter_config = json.loads((folder / "adapter_config.json").read_text())
        adapter_config["base_model_name_or_path"] = "smollm2-135m"  # evalkit's alias for the embedded model
        (folder / "adapter_config.json").write_text(json.dumps(adapter_config))
        state = {"global_step": step, "epoch": step / 20, "num_input_tokens_seen": step * 640,
                 "log_history": [{"step": step, "loss": 1.0}]}
        (folder / "trainer_state.json").write_text(json.dumps(state))
    return out


def test_adapter_series_on_the_real_model(real_home: Path, tmp_path: Path, evalkit_cli: Any,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import evalkit.models.loading as loading

    monkeypatch.chdir(tmp_path)
    out = save_adapter_run(tmp_path / "sst2-lora")
    loads: list[Any] = []
    real = loading.load_model
    monkeypatch.setattr(loading, "load_model", lambda spec: loads.append(spec) or real(spec))
    store = tmp_path / "r.db"
    result = evalkit_cli("run", "-m", out, "-t", "sst2", "--limit", "8", "--dtype", "float32", "--device", "cpu",
                         "--store", store)
    assert result.exit_code == 0, result.output
    assert len(loads) == 1 and loads[0].adapter is None  # the base once; adapters switched on it
    frame = evalkit.trajectory(store, "latest", metrics=("acc",))
    assert list(frame.step) == list(STEPS) and set(frame.series) == {"sst2-lora"}
    assert list(frame.tokens_seen) == [s * 640 for s in STEPS] and (frame.n == 8).all()
    assert frame.vs_prev_step.iloc[1] == STEPS[0]
    assert list(frame.model) == [f"sst2-lora@step{s}" for s in STEPS]
