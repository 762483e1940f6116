"""Real SmolLM2-135M at float32 on the built-in task YAMLs: same numbers as lm-eval's HFLM."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow


def load_task(name: str) -> Any:
    """A built-in task through evalkit's own loader (data paths resolved against the YAML)."""
    from evalkit.tasks.discovery import TaskRegistry
    from evalkit.tasks.loading import load_task as load

    return load(TaskRegistry.discover().resolve(name)).task


@pytest.fixture(scope="module")
def smollm(real_model_home: Path) -> tuple[Any, Any]:
    """HFLM and EvalkitLM on the same float32 SmolLM2-135M object."""
    import torch
    from lm_eval.models.huggingface import HFLM

    from evalkit.models.loading import load_model
    from evalkit.models.spec import resolve_model_spec
    from evalkit.scoring import EvalkitLM

    torch.set_num_threads(max(1, torch.get_num_threads()))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EVALKIT_HOME", str(real_model_home))
        loaded = load_model(resolve_model_spec("smollm2-135m", dtype="float32", device="cpu"))
    hf = HFLM(pretrained=loaded.model, tokenizer=loaded.tokenizer, batch_size=16)
    return hf, EvalkitLM.from_loaded(loaded)


def _predictions(instances: list[Any], scores: list[tuple[float, bool]]) -> dict[int, list[float]]:
    per_doc: dict[int, list[float]] = defaultdict(list)
    for inst, (logprob, _) in sorted(zip(instances, scores), key=lambda p: (p[0].doc_id, p[0].idx)):
        per_doc[inst.doc_id].append(logprob)
    return per_doc


def _check_task(smollm: tuple[Any, Any], name: str, limit: int) -> tuple[float, float]:
    hf, ours = smollm
    task = load_task(name)
    task.build_all_requests(limit=limit, rank=0, world_size=1)
    instances = task.instances
    expected = hf.loglikelihood(instances)
    got = ours.loglikelihood(instances)
    worst = max(abs(e[0] - g[0]) for e, g in zip(expected, got, strict=True))
    assert worst <= 1e-4, f"{name}: largest loglikelihood difference {worst:.2e}"
    assert [e[1] for e in expected] == [g[1] for g in got]
    theirs, mine = _predictions(instances, expected), _predictions(instances, got)
    assert len(mine) == limit
    for doc_id, lls in theirs.items():
        ranked = sorted(lls, reverse=True)
        if len(ranked) > 1 and ranked[0] - ranked[1] <= 1e-4:
            continue  # a tie within tolerance may break either way
        assert lls.index(max(lls)) == mine[doc_id].index(max(mine[doc_id])), f"{name} doc {doc_id}"
    return _accuracy(task, theirs), _accuracy(task, mine)


def _accuracy(task: Any, per_doc: dict[int, list[float]]) -> float:
    docs = list(task.eval_docs)
    hits = [lls.index(max(lls)) == task.doc_to_target(docs[d]) for d, lls in per_doc.items()]
    return sum(hits) / len(hits)


def test_sst2_first_100_docs_match_hflm(smollm):
    theirs, mine = _check_task(smollm, "sst2", 100)
    assert mine == theirs == pytest.approx(0.61)


def test_arc_easy_first_50_docs_match_hflm(smollm):
    theirs, mine = _check_task(smollm, "arc_easy", 50)
    assert mine == theirs
