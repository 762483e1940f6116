"""The backend's two greedy generation paths (evalkit's loop, transformers' model.generate)
give the same texts as lm-eval's HFLM; the choice is an option of the backend."""

from __future__ import annotations

import pytest

from tests.scoring.conftest import instances
from tests.scoring.test_parity_tiny import GEN_REQUESTS


def test_model_generate_path_matches_the_loop_and_hflm(tiny_lm, tiny_hflm):
    from evalkit.scoring import EvalkitLM

    model, tokenizer = tiny_lm
    reqs = instances("generate_until", GEN_REQUESTS)
    loop = EvalkitLM(model, tokenizer).generate_until(reqs)
    generate = EvalkitLM(model, tokenizer, generation="generate")
    assert generate.generate_until(reqs) == loop == tiny_hflm.generate_until(reqs)


def test_unknown_generation_mode_is_refused(tiny_lm):
    from evalkit.scoring import EvalkitLM

    with pytest.raises(ValueError, match="generation"):
        EvalkitLM(*tiny_lm, generation="beam")


def test_generation_longer_than_the_context_names_task_and_document(tiny_lm):
    from lm_eval.api.instance import Instance

    from evalkit.errors import RunFailedError
    from evalkit.scoring import EvalkitLM

    lm = EvalkitLM(*tiny_lm, max_length=16)
    request = Instance("generate_until", {}, ("Question: sky?", {"until": ["\n"], "max_gen_toks": 16}), 0,
                       metadata=("toy_gen", 3, 1))
    with pytest.raises(RunFailedError, match="task 'toy_gen', document 3"):
        lm.generate_until([request])
