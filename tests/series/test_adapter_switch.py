"""Adapter checkpoints evaluated on one base model: switching equals loading afresh, the base stays."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from evalkit.models.adapter_switch import AdapterSwitcher, SharedBaseLoader, base_spec_of
from tests.series.trainer_dirs import TrainerRun

torch = pytest.importorskip("torch")


def _base(tiny_model_dir: Path) -> Any:
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()


def _logits(model: Any) -> Any:
    ids = torch.tensor([[1, 5, 9, 42, 7, 3, 100, 11]])
    with torch.no_grad():
        return model(input_ids=ids).logits


def _fresh_logits(tiny_model_dir: Path, adapter: Path) -> Any:
    from peft import PeftModel

    return _logits(PeftModel.from_pretrained(_base(tiny_model_dir), str(adapter)).eval())


def test_switched_adapter_equals_a_fresh_load(tiny_model_dir: Path, adapter_run: TrainerRun) -> None:
    base = _base(tiny_model_dir)
    embedding = base.get_input_embeddings().weight
    switcher = AdapterSwitcher(base)
    seen = []
    for step in adapter_run.steps:
        model = switcher.activate(adapter_run.checkpoint(step))
        got = _logits(model)
        assert torch.allclose(got, _fresh_logits(tiny_model_dir, adapter_run.checkpoint(step)), atol=1e-6)
        assert model.get_base_model() is base
        assert base.get_input_embeddings().weight is embedding
        assert list(model.peft_config) == [model.active_adapter]  # the previous adapter was deleted
        seen.append(got)
    assert not torch.allclose(seen[0], seen[1]) and not torch.allclose(seen[1], seen[2])
    assert switcher.active == str(adapter_run.checkpoint(adapter_run.steps[-1]))


def test_switching_back_to_an_earlier_adapter(tiny_model_dir: Path, adapter_run: TrainerRun) -> None:
    switcher = AdapterSwitcher(_base(tiny_model_dir))
    first = _logits(switcher.activate(adapter_run.checkpoint(5)))
    switcher.activate(adapter_run.checkpoint(10))
    assert torch.allclose(_logits(switcher.activate(adapter_run.checkpoint(5))), first, atol=1e-6)


def test_a_broken_adapter_is_a_model_error(tiny_model_dir: Path, adapter_run: TrainerRun, tmp_path: Path) -> None:
    from evalkit.errors import ModelError

    switcher = AdapterSwitcher(_base(tiny_model_dir))
    switcher.activate(adapter_run.checkpoint(5))
    with pytest.raises(ModelError, match=str(tmp_path)):
        switcher.activate(tmp_path)


def _specs(tiny_model_dir: Path, adapter_run: TrainerRun) -> list[Any]:
    from evalkit.models.spec import resolve_model_spec

    return [resolve_model_spec(str(tiny_model_dir), adapter=str(adapter_run.checkpoint(s)), device="cpu",
                               dtype="float32") for s in adapter_run.steps]


def test_shared_base_loader_loads_the_base_once(tiny_model_dir: Path, adapter_run: TrainerRun) -> None:
    from evalkit.models.loading import load_model

    calls: list[Any] = []
    loader = SharedBaseLoader(lambda spec: calls.append(spec) or load_model(spec))
    specs = _specs(tiny_model_dir, adapter_run)
    loaded = [loader.load(spec) for spec in specs]
    assert calls == [base_spec_of(specs[0])] and calls[0].adapter is None
    assert loader.base_loads == 1
    assert [item.spec for item in loaded] == specs
    fresh = load_model(specs[-1])
    assert loaded[-1].fingerprint == fresh.fingerprint  # request-cache keys match a plain load
    assert len({item.fingerprint for item in loaded}) == len(specs)
    assert torch.allclose(_logits(loaded[-1].model), _logits(fresh.model), atol=1e-6)


def test_shared_base_loader_reloads_for_a_bare_model(tiny_model_dir: Path, adapter_run: TrainerRun) -> None:
    from evalkit.models.loading import load_model

    calls: list[Any] = []
    loader = SharedBaseLoader(lambda spec: calls.append(spec) or load_model(spec))
    first, second = _specs(tiny_model_dir, adapter_run)[:2]
    loader.load(first)
    bare = loader.load(base_spec_of(first))  # the base in memory carries adapter layers: load it clean
    assert loader.load(base_spec_of(first)) is bare
    loader.load(second)
    assert [spec.adapter for spec in calls] == [None, None, None]
    assert not hasattr(bare.model, "peft_config")
