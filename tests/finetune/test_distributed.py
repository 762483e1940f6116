"""Fine-tuning under several processes (DDP on gloo, two real CPU processes) and gradient
accumulation: the same optimiser steps as one process, one adapter written, every rank the same."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
import torch

from evalkit.finetune.training import TrainingPlan, micro_batches, train
from tests.finetune.conftest import make_cell

OPTIONS = dict(max_steps=3, batch_size=6, max_examples=18)


def _worker(rank: int, model_dir: str, home: str, out: str, port: int) -> None:
    """One launched process: the environment torchrun would give it, then a fine-tuned cell."""
    os.environ.update({"RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": "2", "LOCAL_WORLD_SIZE": "2",
                       "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "OMP_NUM_THREADS": "1",
                       "EVALKIT_HOME": home, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"})
    os.chdir(out)
    from evalkit.engine.processes import current_processes
    from evalkit.finetune import finetuned_model
    from evalkit.models.loading import load_model
    from evalkit.models.spec import resolve_model_spec
    from tests.finetune.conftest import RecordingSink, load_fixture_task

    assert current_processes().size == 2
    loaded = load_model(resolve_model_spec(model_dir, device="cpu", dtype="float32"))
    cell = make_cell(loaded.spec, "toy_sentiment", **OPTIONS)
    tuned, adapter, details = finetuned_model(loaded, load_fixture_task("toy_sentiment"), cell, RecordingSink())
    torch.save(tuned.model.state_dict(), Path(out) / f"weights-{rank}.pt")
    (Path(out) / f"details-{rank}.json").write_text(json.dumps({**details, "adapter": adapter}, default=str))
    current_processes().barrier()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.multiprocess
def test_two_processes_train_one_adapter_that_both_ranks_hold(tiny_model_dir, tiny_loaded, toy_sentiment, sink,
                                                              tmp_path):
    import torch.multiprocessing as mp

    from evalkit.finetune import finetuned_model

    home = tmp_path / "home"
    mp.start_processes(_worker, args=(str(tiny_model_dir), str(home), str(tmp_path), _free_port()), nprocs=2,
                       start_method="spawn")
    details = [json.loads((tmp_path / f"details-{r}.json").read_text()) for r in (0, 1)]
    weights = [torch.load(tmp_path / f"weights-{r}.pt") for r in (0, 1)]
    assert details[0]["adapter"] == details[1]["adapter"] and details[0]["cache_hit"] is False
    entries = [p.name for p in (home / "adapters").iterdir()]
    assert entries == [details[0]["adapter_key"]]  # one entry, no temporary leftovers
    for name, tensor in weights[0].items():
        torch.testing.assert_close(weights[1][name], tensor, atol=0, rtol=0)
    assert details[1]["train_loss_first"] == details[0]["train_loss_first"]

    # One process, same cell: the same adapter key and the same training within float noise.
    single, _, alone = finetuned_model(tiny_loaded, toy_sentiment, make_cell(tiny_loaded.spec, "toy_sentiment",
                                                                            **OPTIONS), sink)
    assert alone["adapter_key"] == details[0]["adapter_key"]
    assert alone["train_loss_first"] == pytest.approx(details[0]["train_loss_first"], rel=1e-5)
    assert alone["train_loss_last"] == pytest.approx(details[0]["train_loss_last"], rel=1e-4)
    # Float order (each process pads its own share of chains to its own longest row, so the matmul shapes
    # differ, and DDP sums gradients in another order) moves the weights by a small fraction of what
    # training moved them (in norm: Adam turns a near-zero gradient's rounding into a +-lr step on that
    # element); a lost share or a doubled gradient would move them by about the update itself.
    base = tiny_loaded.model.state_dict()
    for name, tensor in single.model.state_dict().items():
        update = float((tensor - base[name]).norm())
        assert float((weights[0][name] - tensor).norm()) <= max(1e-6, 0.05 * update), name


def test_micro_batches_share_out_every_example_once():
    batch = list(range(7))
    pieces = [micro_batches(batch, rank, 2, 2) for rank in (0, 1)]
    assert all(len(p) == 2 for p in pieces)  # every process runs as many passes as the others
    seen = sorted(x for p in pieces for piece, weight in p if weight for x in piece)
    assert seen == batch
    empty = micro_batches([5], 1, 2, 1)  # rank 1 has nothing: a zero-weight pass keeps DDP in step
    assert empty == [([5], 0.0)]


def test_gradient_accumulation_is_the_same_optimiser_step(tiny_loaded, toy_sentiment):
    from evalkit.finetune.examples import build_training_set
    from evalkit.finetune.methods import trainable_copy
    from evalkit.finetune.objectives import PairEncoder
    from evalkit.scoring import make_backend

    training = build_training_set(toy_sentiment, split=None, num_fewshot=0, max_examples=12, seed=1,
                                  exclude_overlap=True)
    encoder = PairEncoder(make_backend(tiny_loaded))
    encoded = [encoder.encode_example(e, gold_only=False) for e in training.examples]
    plan = TrainingPlan("lora", "choice-ce", lr=1e-2, epochs=1.0, max_steps=3, batch_size=6, seed=1,
                        target_modules=("q_proj", "v_proj"))
    runs = []
    for accumulate in (1, 3):
        model = trainable_copy(tiny_loaded.model, plan)
        result = train(model, encoded, plan, pad_id=0, report=lambda *a: None, grad_accum=accumulate)
        runs.append((result.losses, {k: v for k, v in model.state_dict().items() if "lora" in k}))
    assert runs[0][0] == pytest.approx(runs[1][0], abs=1e-5)
    for name, tensor in runs[0][1].items():
        torch.testing.assert_close(runs[1][1][name], tensor, atol=1e-5, rtol=1e-4)



def test_grad_accum_leaves_the_cell_identity_of_earlier_runs_alone(tiny_loaded):
    default = make_cell(tiny_loaded.spec, "toy_sentiment", **OPTIONS)
    assert "grad_accum" not in default.to_dict()["finetune"]
    assert make_cell(tiny_loaded.spec, "toy_sentiment", grad_accum=2, **OPTIONS).cell_id != default.cell_id
