"""A prefix shared across documents, computed once into a key/value cache, gives the numbers of
the plain path (and of lm-eval's HFLM): planning, branching rows after the prefix, chunked
prefills, memory fallbacks, models without a usable cache, and a first_n few-shot task run."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from evalkit.scoring.packing import ScoreItem, build_row
from evalkit.scoring.prefix_cache import PrefixPolicy, plan_prefix_groups
from tests.scoring.conftest import instances

ATOL = 1e-4
SMALL = PrefixPolicy(min_length=8, min_saved=16)
SHOTS = "".join(f"Question: Which word comes {w} in the list?\nAnswer: {a}\n\n"
                for w, a in (("first", "alpha"), ("second", "beta gamma"), ("last", "delta")))
QUESTIONS = ["Is this sentence positive or negative?", "The capital of France is", "A man is sitting on a roof."]
CHOICES = [" positive", " negative", " positive and negative", " Paris", " Paris, France"]


def _requests(shots: str = SHOTS) -> list[tuple[str, str]]:
    return [(f"{shots}Question: {q}\nAnswer:", c) for q in QUESTIONS for c in CHOICES]


def _lm(tiny_lm: tuple[Any, Any], *, prefix_cache: bool, policy: PrefixPolicy = SMALL, plan: Any = None) -> Any:
    from evalkit.scoring import EvalkitLM

    model, tokenizer = tiny_lm
    lm = EvalkitLM(model, tokenizer)
    lm._causal.prefix_cache, lm._causal.policy = prefix_cache, policy
    if plan is not None:
        lm._causal.plan = plan
    return lm


def _assert_same(expected: list, got: list) -> None:
    assert len(expected) == len(got)
    worst = max(abs(e[0] - g[0]) for e, g in zip(expected, got))
    assert worst <= ATOL, worst
    assert [e[1] for e in expected] == [g[1] for g in got]


def _greedy(model: Any, tokenizer: Any, context: str, n: int) -> str:
    import torch

    ids = tokenizer(context, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        out = model.generate(ids, max_new_tokens=n, do_sample=False, pad_token_id=0)
    return tokenizer.decode(out[0, ids.shape[1]:])


# ----- planning (pure) ----------------------------------------------------------------------
def _items(contexts: list[tuple[int, ...]], continuations: list[tuple[int, ...]]) -> list[ScoreItem]:
    items = []
    for context in contexts:
        for continuation in continuations:
            seq = (context + continuation)[:-1]
            items.append(ScoreItem(len(items), seq, continuation))
    return items


def test_one_group_holds_every_document_after_a_shared_prefix():
    shared = tuple(range(100, 140))
    contexts = [shared + (i, i + 1, i + 2) for i in range(0, 30, 3)]
    items = _items(contexts, [(7, 8), (9,)])
    groups, rest = plan_prefix_groups(items, SMALL)
    assert rest == [] and len(groups) == 1
    assert groups[0].prefix == shared and sorted(it.index for it in groups[0].items) == list(range(len(items)))


def test_subjects_with_their_own_shots_get_their_own_groups():
    header = tuple(range(200, 210))  # shared by all subjects: too short to be worth the split
    subjects = [header + tuple(range(s * 100, s * 100 + 40)) for s in (3, 4)]
    contexts = [subject + (1000 + d,) for subject in subjects for d in range(6)]
    groups, rest = plan_prefix_groups(_items(contexts, [(5,), (6, 7)]), SMALL)
    assert rest == [] and sorted(g.prefix for g in groups) == sorted(subjects)


def test_short_or_rarely_shared_prefixes_stay_on_plain_rows():
    shared = tuple(range(100, 105))  # 5 tokens: under min_length
    items = _items([shared + (i,) for i in range(10)], [(7,)])
    assert plan_prefix_groups(items, SMALL) == ([], sorted(items, key=lambda it: it.seq))
    one_context = _items([tuple(range(100, 160))], [(7,), (8,), (9,)])  # one document: nothing to share
    assert plan_prefix_groups(one_context, SMALL)[0] == []
    many = _items([tuple(range(100, 160)) + (i,) for i in range(3)], [(7,)])
    assert plan_prefix_groups(many, PrefixPolicy(min_length=8, min_saved=10**6))[0] == []


def test_the_prefix_stops_before_the_first_scored_position():
    # two contexts that are prefixes of each other: the shorter one is scored right after 20 tokens
    base = tuple(range(300, 340))
    items = [ScoreItem(0, base[:20], base[20:22]), ScoreItem(1, base, (1,)), ScoreItem(2, base[:30], (2,))]
    groups, _ = plan_prefix_groups(items, PrefixPolicy(min_length=8, min_saved=8))
    (group,) = groups
    assert group.length == 20 - 2  # item 0 predicts its first target at position 18
    row = build_row(group.items, start=group.length)
    assert min(row.depth) == group.length and row.is_chain  # prefixes of each other: one chain
    with pytest.raises(ValueError, match="inside the cached prefix"):
        build_row(items, start=25)


# ----- the cached path on the tiny model ------------------------------------------------------
def test_cached_path_gives_the_plain_numbers_and_pushes_fewer_tokens(tiny_lm, tiny_hflm):
    model, tokenizer = tiny_lm
    pairs = _requests()
    context = pairs[0][0]
    pairs += [(context, _greedy(model, tokenizer, context, 2)), (context, _greedy(model, tokenizer, context, 1))]
    reqs = instances("loglikelihood", pairs)
    cached, plain = _lm(tiny_lm, prefix_cache=True), _lm(tiny_lm, prefix_cache=False)
    got, expected = cached.loglikelihood(reqs), plain.loglikelihood(reqs)
    _assert_same(expected, got)
    _assert_same(tiny_hflm.loglikelihood(reqs), got)
    assert any(greedy for _, greedy in got), "the requests must exercise is_greedy=True"
    assert cached._causal.scorer.mode.prefix_cache
    shots = len(tokenizer.encode(SHOTS))
    assert cached.stats.prefix_tokens >= shots - 2 and plain.stats.prefix_tokens == 0
    assert cached.stats.prefix_reused_tokens >= cached.stats.prefix_tokens * len(QUESTIONS)
    assert cached.stats.input_tokens < plain.stats.input_tokens - (len(QUESTIONS) - 1) * (shots - 2)


def test_rows_branch_after_the_prefix(tiny_lm):
    from evalkit.scoring.loglikelihood import causal_items

    lm = _lm(tiny_lm, prefix_cache=True)
    tokens = [(None, *lm.encode_request(*pair)) for pair in _requests()]
    groups, rest = plan_prefix_groups(causal_items(tokens, lm.max_length), SMALL)
    assert len(groups) == 1 and rest == []
    rows = [build_row([it for it in groups[0].items if it.shared_key == key], groups[0].length)
            for key in {it.shared_key for it in groups[0].items}]
    assert all(not row.is_chain for row in rows)  # " positive" / " positive and negative" / " Paris, France"


def test_a_prefix_longer_than_the_token_budget_is_computed_in_chunks(tiny_lm):
    from evalkit.scoring.budget import BatchPlan

    reqs = instances("loglikelihood", _requests())
    plan = BatchPlan(token_budget=16, memory_budget=2**40, bytes_per_token=1, bytes_per_pair=1,
                     bytes_per_cached_token=1)
    lm = _lm(tiny_lm, prefix_cache=True, plan=plan)
    calls: list[int] = []
    original = lm._causal.scorer.prefill
    lm._causal.scorer.prefill = lambda tokens, chunk: calls.append(chunk) or original(tokens, chunk)
    got = lm.loglikelihood(reqs)
    _assert_same(_lm(tiny_lm, prefix_cache=False).loglikelihood(reqs), got)
    assert calls[1:] == [16] and lm.stats.prefix_tokens > 3 * 16  # calls[0]: the probe


def test_too_little_memory_for_the_prefix_falls_back_to_plain_rows(tiny_lm):
    from evalkit.scoring.budget import BatchPlan

    reqs = instances("loglikelihood", _requests())
    plan = BatchPlan(token_budget=4096, memory_budget=10**6, bytes_per_token=1, bytes_per_pair=1,
                     bytes_per_cached_token=10**5)  # one row's copy of the prefix: > 10**6 bytes
    lm = _lm(tiny_lm, prefix_cache=True, plan=plan)
    got = lm.loglikelihood(reqs)
    _assert_same(_lm(tiny_lm, prefix_cache=False).loglikelihood(reqs), got)
    assert lm._causal.scorer.mode.prefix_cache and lm.stats.prefix_tokens == 0


def test_a_model_whose_cache_is_not_used_falls_back(tiny_model_dir, tiny_hflm):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from evalkit.scoring import EvalkitLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    model.eval()
    original = model.model.forward

    def forward(*args, cache=None, **kwargs):  # as if the model dropped a cache it was given
        return original(*args, **kwargs)

    model.model.forward = forward
    lm = EvalkitLM(model, AutoTokenizer.from_pretrained(tiny_model_dir))
    lm._causal.policy = SMALL
    reqs = instances("loglikelihood", _requests())
    got = lm.loglikelihood(reqs)
    assert lm._causal.scorer.mode.share and not lm._causal.scorer.mode.prefix_cache
    assert lm.stats.prefix_tokens == 0
    _assert_same(tiny_hflm.loglikelihood(reqs), got)


def test_the_switch_reads_the_environment(monkeypatch):
    from evalkit.errors import InputError
    from evalkit.scoring.prefix_cache import prefix_cache_enabled

    monkeypatch.setenv("EVALKIT_PREFIX_CACHE", "off")
    assert prefix_cache_enabled() is False
    monkeypatch.setenv("EVALKIT_PREFIX_CACHE", "on")
    assert prefix_cache_enabled() is True
    monkeypatch.setenv("EVALKIT_PREFIX_CACHE", "sometimes")
    with pytest.raises(InputError, match="EVALKIT_PREFIX_CACHE"):
        prefix_cache_enabled()


# ----- a first_n few-shot task through `evalkit run` -------------------------------------------
def _first_n_task(folder: Path) -> str:
    folder.mkdir()
    words = ["alpha", "beta", "gamma", "delta", "roof", "Paris", "France", "journey", "charming", "bleak"]
    train = [{"question": f"Which technology was developed most recently, the {w} or the telephone?",
              "choices": [f" the {w}", " the telephone"], "label": i % 2} for i, w in enumerate(words[:5])]
    test = [{"question": f"Is the {w} positive or negative?", "choices": [" positive", " negative", " neither"],
             "label": i % 3} for i, w in enumerate(words * 2)]
    for name, rows in (("train", train), ("test", test)):
        (folder / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (folder / "first_n.yaml").write_text(
        "task: toy_first_n\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    train: train.jsonl\n"
        "    test: test.jsonl\noutput_type: multiple_choice\ntraining_split: train\nfewshot_split: train\n"
        "test_split: test\nnum_fewshot: 5\nfewshot_config:\n  sampler: first_n\n"
        "description: \"The following are questions about words, with answers.\\n\\n\"\n"
        "doc_to_text: \"Question: {{question}}\\nAnswer:\"\ndoc_to_target: label\ndoc_to_choice: choices\n"
        "metric_list:\n  - metric: acc\n  - metric: acc_norm\nmetadata:\n  version: 1.0\n")
    return str(folder / "first_n.yaml")


def _stored(store: Path) -> tuple[list[tuple], dict[str, Any]]:
    conn = sqlite3.connect(store)
    try:
        samples = conn.execute("SELECT doc_id, prompt, prediction, scores_json, outputs_json FROM samples "
                               "ORDER BY doc_id").fetchall()
        (details,) = conn.execute("SELECT details_json FROM cells").fetchone()
    finally:
        conn.close()
    return samples, json.loads(details)


def test_first_n_task_run_gives_the_same_samples_with_and_without_the_cache(
        tiny_model_dir, tmp_path, evalkit_cli, monkeypatch):
    task = _first_n_task(tmp_path / "task")
    runs = {}
    for switch in ("on", "off"):
        monkeypatch.setenv("EVALKIT_PREFIX_CACHE", switch)
        store = tmp_path / f"{switch}.db"
        result = evalkit_cli("run", "-m", tiny_model_dir, "-t", task, "--no-cache", "--store", store)
        assert result.exit_code == 0, result.output
        runs[switch] = _stored(store)
    (on, on_details), (off, off_details) = runs["on"], runs["off"]
    assert len(on) == 20 and [s[:3] for s in on] == [s[:3] for s in off]
    for a, b in zip(on, off):
        assert json.loads(a[3]) == pytest.approx(json.loads(b[3]), abs=ATOL)
        outputs_a, outputs_b = json.loads(a[4]), json.loads(b[4])
        assert len(_loglikelihoods(outputs_a)) >= 3  # one log-likelihood per choice at least
        assert _loglikelihoods(outputs_a) == pytest.approx(_loglikelihoods(outputs_b), abs=ATOL)
    assert on_details["compute"]["prefix_tokens"] > 0 and off_details["compute"]["prefix_tokens"] == 0
    assert on_details["compute"]["input_tokens"] < off_details["compute"]["input_tokens"]


def _loglikelihoods(outputs: Any) -> list[float]:
    """The numbers in a sample's stored outputs (the per-choice log-likelihoods and greedy flags)."""
    if isinstance(outputs, bool):
        return [float(outputs)]
    if isinstance(outputs, (int, float)):
        return [float(outputs)]
    if isinstance(outputs, dict):
        return [x for key in sorted(outputs) for x in _loglikelihoods(outputs[key])]
    if isinstance(outputs, list):
        return [x for item in outputs for x in _loglikelihoods(item)]
    return []


# ----- the real model on the benchmark's first_n task ------------------------------------------
@pytest.mark.slow
def test_real_model_first_n_arc_easy_matches_hflm_and_the_uncached_path(real_model_home):
    from lm_eval.models.huggingface import HFLM

    from evalkit.models.loading import load_model
    from evalkit.models.spec import resolve_model_spec
    from evalkit.scoring import EvalkitLM
    from evalkit.tasks.discovery import TaskRegistry, TaskSource
    from evalkit.tasks.loading import load_task

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EVALKIT_HOME", str(real_model_home))
        loaded = load_model(resolve_model_spec("smollm2-135m", dtype="float32", device="cpu"))
    bench_tasks = Path(__file__).resolve().parents[2] / "bench" / "tasks"
    task = load_task(TaskRegistry([TaskSource("bench", bench_tasks)]).resolve("arc_easy_first_n")).task
    task.build_all_requests(limit=8, rank=0, world_size=1)
    cached, plain = EvalkitLM.from_loaded(loaded), EvalkitLM.from_loaded(loaded)
    cached._causal.prefix_cache, plain._causal.prefix_cache = True, False
    got = cached.loglikelihood(task.instances)
    _assert_same(plain.loglikelihood(task.instances), got)
    _assert_same(HFLM(pretrained=loaded.model, tokenizer=loaded.tokenizer, batch_size=16).loglikelihood(task.instances),
                 got)
    assert cached.stats.prefix_tokens > 100 and cached.stats.input_tokens < plain.stats.input_tokens / 2
