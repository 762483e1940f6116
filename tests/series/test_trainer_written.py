"""Series written by transformers' own Trainer (full fine-tuning and a peft LoRA model, a few steps of
the tiny random Llama): the tokenizer it saves into each checkpoint carries the truncation and padding
it was last called with, which decide no token id, so the series is accepted; a different vocabulary
is still refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from evalkit.errors import ModelError
from evalkit.models.series import expand_model_refs
from evalkit.models.series_checks import tokenizer_digest

TEXTS = ["The capital of France is Paris.", "unflinchingly bleak and desperate",
         "it 's a charming and often affecting journey .", "true false yes no"] * 2


def train(base: Path, out: Path, *, lora: bool) -> Path:
    """Trainer.train for 4 steps with save_steps=2 (checkpoint-2, checkpoint-4), the tokenizer saved
    into OUT before it was called with truncation and padding, then into each checkpoint by Trainer."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainingArguments

    tokenizer = AutoTokenizer.from_pretrained(base)
    tokenizer.save_pretrained(out)  # as a training script does first
    batch = tokenizer(TEXTS, truncation=True, max_length=12, padding="max_length")
    rows = [{"input_ids": torch.tensor(ids), "attention_mask": torch.tensor(mask), "labels": torch.tensor(ids)}
            for ids, mask in zip(batch["input_ids"], batch["attention_mask"])]
    model = AutoModelForCausalLM.from_pretrained(base)
    if lora:
        from peft import LoraConfig, get_peft_model

        model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]))
    args = TrainingArguments(output_dir=str(out), max_steps=4, save_steps=2, per_device_train_batch_size=4,
                             report_to=[], use_cpu=True, disable_tqdm=True, logging_steps=1)
    Trainer(model=model, args=args, train_dataset=rows, processing_class=tokenizer).train()
    return out


@pytest.fixture(scope="module")
def trainer_runs(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """{'full': OUT, 'lora': OUT}, each with checkpoint-2 and checkpoint-4 written by Trainer."""
    return {kind: train(tiny_model_dir, tmp_path_factory.mktemp(kind).resolve(), lora=kind == "lora")
            for kind in ("full", "lora")}


@pytest.mark.parametrize("kind", ["full", "lora"])
def test_trainer_written_series_is_accepted(trainer_runs: dict[str, Path], tiny_model_dir: Path, kind: str) -> None:
    out = trainer_runs[kind]
    saved = json.loads((out / "checkpoint-2" / "tokenizer.json").read_text())
    assert saved["truncation"]["max_length"] == 12 and saved["padding"] is not None  # what was refused
    members = expand_model_refs([str(out)])
    assert [m.step for m in members] == [2, 4]
    assert {m.kind for m in members} == {"adapter" if kind == "lora" else "full"}
    assert {m.tokenizer for m in members} == {str(tiny_model_dir) if kind == "lora" else str(out)}


@pytest.mark.parametrize("kind", ["full", "lora"])
def test_trainer_written_series_with_another_vocabulary_is_refused(trainer_runs: dict[str, Path], tmp_path: Path,
                                                                  kind: str) -> None:
    out = shutil.copytree(trainer_runs[kind], tmp_path / "out")
    path = out / "checkpoint-4" / "tokenizer.json"
    data = json.loads(path.read_text())
    vocab = data["model"]["vocab"]
    vocab["zz-not-in-the-series"] = vocab.pop(next(iter(vocab)))
    path.write_text(json.dumps(data))
    with pytest.raises(ModelError) as caught:
        expand_model_refs([str(out)])
    assert "different tokenizer" in caught.value.message and "tokenizer.json (model)" in caught.value.message
    assert str(out / "checkpoint-4") in caught.value.message


def edited(folder: Path, target: Path, name: str, **changes: object) -> Path:
    """A copy of a tokenizer folder with keys of one JSON file set."""
    shutil.copytree(folder, target)
    data = json.loads((target / name).read_text())
    data.update(changes)
    (target / name).write_text(json.dumps(data))
    return target


def test_digest_ignores_call_state_but_not_what_decides_ids(tiny_model_dir: Path, tmp_path: Path) -> None:
    digest = tokenizer_digest(tiny_model_dir)
    same = [edited(tiny_model_dir, tmp_path / "a", "tokenizer.json", truncation={"max_length": 7}, padding={}),
            edited(tiny_model_dir, tmp_path / "b", "tokenizer_config.json", model_max_length=128,
                   padding_side="left", truncation_side="left", clean_up_tokenization_spaces=True)]
    assert [tokenizer_digest(folder) for folder in same] == [digest, digest]
    differ = [edited(tiny_model_dir, tmp_path / "c", "tokenizer_config.json", add_bos_token=True),
              edited(tiny_model_dir, tmp_path / "d", "tokenizer_config.json", eos_token="<unk>"),
              edited(tiny_model_dir, tmp_path / "e", "tokenizer_config.json", chat_template="{{ messages }}"),
              edited(tiny_model_dir, tmp_path / "f", "tokenizer.json", post_processor=None, normalizer={"type": "NFC"})]
    assert all(tokenizer_digest(folder) != digest for folder in differ)


def test_chat_template_file_counts_as_the_config_key(tiny_model_dir: Path, tmp_path: Path) -> None:
    in_config = edited(tiny_model_dir, tmp_path / "a", "tokenizer_config.json", chat_template="{{ messages }}")
    in_file = shutil.copytree(tiny_model_dir, tmp_path / "b")
    (in_file / "chat_template.jinja").write_text("{{ messages }}")
    assert tokenizer_digest(in_file) == tokenizer_digest(in_config) != tokenizer_digest(tiny_model_dir)
