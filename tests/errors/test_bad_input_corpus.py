"""A corpus of malformed inputs: each gets its exit code (2 input, 1 run time), a message that
names the culprit, no traceback without --debug, and no run recorded as complete."""

from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tasks"


@dataclass
class Case:
    name: str
    build: Callable[[Path, Path], list[str]]  # (tmp_path, tiny_model_dir) -> argv
    code: int
    message: str


def toy_task(tmp: Path, edit: Callable[[str], str] | None = None, data: dict[str, bytes] | None = None) -> Path:
    """A copy of the toy_sentiment task with an edited YAML and/or replaced data files."""
    root = tmp / "task"
    if not root.exists():
        shutil.copytree(FIXTURES / "toy_sentiment", root)
    path = root / "toy_sentiment.yaml"
    if edit:
        path.write_text(edit(path.read_text()))
    for name, content in (data or {}).items():
        (root / "data" / name).write_bytes(content)
    return path


def run_args(tmp: Path, model: Path, task: Path | str, *extra: str) -> list[str]:
    return ["run", "-m", str(model), "-t", str(task), "--store", str(tmp / "r.db"), "--limit", "4", *extra]


def write(tmp: Path, name: str, content: bytes) -> Path:
    path = tmp / name
    path.write_bytes(content)
    return path


def bad_model_dir(tmp: Path, model: Path, mutate: Callable[[Path], None]) -> Path:
    target = tmp / "model"
    shutil.copytree(model, target)
    mutate(target)
    return target


def big_vocab_tokenizer(directory: Path) -> None:
    from tests.tiny_model import build_tokenizer

    tokenizer = build_tokenizer()
    tokenizer.add_tokens([f"extra_token_{i}" for i in range(500)])
    tokenizer.save_pretrained(directory)


def store_file(tmp: Path, content: bytes) -> Path:
    return write(tmp, "r.db", content)


CASES = [
    Case("yaml syntax error", lambda t, m: run_args(t, m, toy_task(t, lambda s: s + "doc_to_text: [oops\n")), 2, "not valid YAML (line"),
    Case("unknown key", lambda t, m: run_args(t, m, toy_task(t, lambda s: s + "metrics_list: []\n")), 2, "unknown key 'metrics_list'"),
    Case("missing data file", lambda t, m: run_args(t, m, toy_task(t, lambda s: s.replace("data/train.jsonl", "data/nope.jsonl"))), 2, "data file 'data/nope.jsonl' does not exist"),
    Case("wrong split name", lambda t, m: run_args(t, m, toy_task(t, lambda s: s.replace("validation_split: validation", "validation_split: dev"))), 2, "split 'dev' is not in the data"),
    Case("target index out of range", lambda t, m: run_args(t, m, toy_task(t, data={"validation.jsonl": b'{"sentence": "x", "label": 7}\n'})), 2, "key 'doc_to_target'"),
    Case("later target index out of range", lambda t, m: run_args(t, m, toy_task(t, data={"validation.jsonl": b'{"sentence": "x", "label": 1}\n{"sentence": "y", "label": 2}\n'})), 2, "document 1: key 'doc_to_target': target index 2 is out of range for 2 choices"),
    Case("empty dataset", lambda t, m: run_args(t, m, toy_task(t, data={"validation.jsonl": b""})), 2, "toy_sentiment"),
    Case("non-UTF-8 yaml", lambda t, m: run_args(t, m, write(t, "latin1.yaml", "task: caf\u00e9\n".encode("latin-1"))), 2, "is not UTF-8 text"),
    Case("non-UTF-8 data file", lambda t, m: run_args(t, m, toy_task(t, data={"validation.jsonl": '{"sentence": "caf\u00e9", "label": 1}\n'.encode("latin-1")})), 2, "validation.jsonl', line 1: not UTF-8 text"),
    Case("binary yaml", lambda t, m: run_args(t, m, write(t, "bin.yaml", bytes(range(256)))), 2, "is a binary file"),
    Case("10 MB single-line yaml", lambda t, m: run_args(t, m, write(t, "huge.yaml", b"task: " + b"x" * 10_000_000)), 2, "task YAML files are limited"),
    Case("10 MB single-line data", lambda t, m: run_args(t, m, toy_task(t, data={"validation.jsonl": b"{" + b"x" * 10_000_000})), 2, "validation.jsonl', line 1, column 2: not valid JSON"),
    Case("yaml is a list", lambda t, m: run_args(t, m, write(t, "list.yaml", b"- task: a\n- task: b\n")), 2, "must hold a mapping"),
    Case("yaml without task key", lambda t, m: run_args(t, m, write(t, "nokey.yaml", b"dataset_path: json\n")), 2, "has no `task:` key"),
    Case("include cycle", lambda t, m: run_args(t, m, write(t, "cycle.yaml", b"include: cycle.yaml\ntask: c\n")), 2, "includes itself"),
    Case("missing include", lambda t, m: run_args(t, m, write(t, "inc.yaml", b"include: base.yaml\ntask: c\n")), 2, "file 'base.yaml' does not exist"),
    Case("missing !function module", lambda t, m: run_args(t, m, toy_task(t, lambda s: s + "process_docs: !function nowhere.fn\n")), 2, "cannot import `!function nowhere.fn`"),
    Case("invalid output_type", lambda t, m: run_args(t, m, toy_task(t, lambda s: s.replace("output_type: multiple_choice", "output_type: multi_choice"))), 2, "multi_choice"),
    Case("python object tag in yaml", lambda t, m: run_args(t, m, toy_task(t, lambda s: s + "x: !!python/object/apply:os.system ['true']\n")), 2, "not valid YAML"),
    Case("duplicate task names", lambda t, m: ["run", "-m", str(m), "--include-path", str(_duplicated(t)), "-t", "toy_gen", "--store", str(t / "r.db")], 2, "Duplicate task name 'toy_gen'"),
    Case("unknown task", lambda t, m: run_args(t, m, "sst"), 2, "Did you mean: sst2"),
    Case("task path does not exist", lambda t, m: run_args(t, m, str(t / "nope.yaml")), 2, "does not exist"),
    Case("include path not a directory", lambda t, m: ["run", "-m", str(m), "--include-path", str(write(t, "f.txt", b"x")), "-t", "sst2"], 2, "--include-path"),
    Case("unknown model", lambda t, m: run_args(t, "not a model!", "sst2"), 2, "Unknown model 'not a model!'"),
    Case("model directory without weights", lambda t, m: run_args(t, bad_model_dir(t, m, lambda d: (d / "model.safetensors").unlink()), FIXTURES / "toy_gen" / "toy_gen.yaml"), 2, "has no weights"),
    Case("tokenizer mismatch", lambda t, m: run_args(t, bad_model_dir(t, m, big_vocab_tokenizer), FIXTURES / "toy_gen" / "toy_gen.yaml"), 2, "Tokenizer mismatch"),
    Case("corrupt weights", lambda t, m: run_args(t, bad_model_dir(t, m, lambda d: (d / "model.safetensors").write_bytes(b"garbage")), FIXTURES / "toy_gen" / "toy_gen.yaml"), 2, "Cannot load the weights"),
    Case("garbage gguf file", lambda t, m: run_args(t, write(t, "bad.gguf", b"GGUF" + b"\x00" * 64), FIXTURES / "toy_gen" / "toy_gen.yaml"), 2, "Cannot read GGUF file"),
    Case("empty model text", lambda t, m: run_args(t, "", FIXTURES / "toy_gen" / "toy_gen.yaml"), 2, "The model is empty text"),
    Case("local checkpoint with broken config.json", lambda t, m: run_args(t, bad_model_dir(t, m, lambda d: (d / "config.json").write_text('{"model_type": "llama", "hidden_size": ')), FIXTURES / "toy_gen" / "toy_gen.yaml"), 2, "config.json': it must be a transformers model configuration"),
    Case("gguf truncated after its header", lambda t, m: run_args(t, write(t, "cut.gguf", b"GGUF\x03\x00\x00\x00"), FIXTURES / "toy_gen" / "toy_gen.yaml"), 2, "Cannot read GGUF file"),
    Case("adapter without adapter_config", lambda t, m: run_args(t, m, "sst2", "--adapter", str(_empty_dir(t))), 2, "not a PEFT adapter directory"),
    Case("offline hub id not cached", lambda t, m: run_args(t, "nobody-xyz/no-such-model", FIXTURES / "toy_gen" / "toy_gen.yaml", "--offline"), 2, "Cannot load model 'nobody-xyz/no-such-model'"),
    Case("bad --limit", lambda t, m: run_args(t, m, "sst2", "--limit", "-3"), 2, "--limit"),
    Case("bad --num-fewshot", lambda t, m: run_args(t, m, "sst2", "--num-fewshot", "many"), 2, "--num-fewshot"),
    Case("bad --setting", lambda t, m: run_args(t, m, "sst2", "--setting", "fine-tuned+few-shot:x"), 2, "Invalid --setting"),
    Case("bad --batch-size", lambda t, m: run_args(t, m, "sst2", "--batch-size", "0"), 2, "must be at least 1"),
    Case("bad --dtype", lambda t, m: run_args(t, m, "sst2", "--dtype", "int3"), 2, "--dtype"),
    Case("cuda requested without cuda", lambda t, m: run_args(t, m, FIXTURES / "toy_gen" / "toy_gen.yaml", "--device", "cuda"), 2, "CUDA is not available"),
    Case("few-shot without a source split", lambda t, m: run_args(t, m, _test_only_task(t), "--setting", "few-shot:2"), 2, "no training, validation or fewshot split"),
    Case("unknown run ref", lambda t, m: ["results", "show", "nope", "--store", str(_store_with_run(t))], 2, "Unknown run 'nope'"),
    Case("missing store", lambda t, m: ["results", "list", "--store", str(t / "missing.db")], 2, "does not exist"),
    Case("corrupt database", lambda t, m: ["results", "list", "--store", str(store_file(t, b"\x13garbage" * 500))], 2, "not a readable SQLite database"),
    Case("corrupt database on run", lambda t, m: run_args(t, m, FIXTURES / "toy_gen" / "toy_gen.yaml") if store_file(t, b"\x13garbage" * 500) else [], 2, "left untouched"),
    Case("malformed baseline file", lambda t, m: ["gate", "--baseline", str(write(t, "b.json", b'{"format": "evalkit-results"')), "--store", str(_store_with_run(t))], 2, "b.json"),
    Case("baseline of another format", lambda t, m: ["gate", "--baseline", str(write(t, "b.json", json.dumps({"format": "other"}).encode())), "--store", str(_store_with_run(t))], 2, "b.json"),
    Case("NaN model outputs", lambda t, m: run_args(t, bad_model_dir(t, m, _nan_weights), FIXTURES / "toy_sentiment" / "toy_sentiment.yaml"), 1, "NaN or infinite log-likelihoods"),
]


def _duplicated(tmp: Path) -> Path:
    for sub in ("a", "b"):
        shutil.copytree(FIXTURES / "toy_gen", tmp / "dups" / sub)
    return tmp / "dups"


def _empty_dir(tmp: Path) -> Path:
    (tmp / "adapter").mkdir()
    return tmp / "adapter"


def _test_only_task(tmp: Path) -> Path:
    root = tmp / "testonly"
    shutil.copytree(FIXTURES / "toy_gen", root)
    path = root / "toy_gen.yaml"
    path.write_text(path.read_text().replace("training_split: train\n", ""))
    return path


def _store_with_run(tmp: Path) -> Path:
    from evalkit.store.schema import open_for_writing
    from evalkit.store.writer import begin_run, finish_run, write_cell
    from tests.store.synthetic import synthetic_run

    conn = open_for_writing(tmp / "r.db")
    info, cells = synthetic_run("20260101-000000-aaaaaa")
    begin_run(conn, info)
    for cell in cells:
        write_cell(conn, info.run_id, cell)
    finish_run(conn, info.run_id, "complete")
    conn.close()
    return tmp / "r.db"


def _nan_weights(directory: Path) -> None:
    import torch
    from safetensors.torch import load_file, save_file

    state = load_file(directory / "model.safetensors")
    state = {k: torch.full_like(v, float("nan")) if "norm" in k else v for k, v in state.items()}
    save_file(state, directory / "model.safetensors", metadata={"format": "pt"})


def _complete_runs(store: Path) -> int:
    if not store.exists():
        return 0
    try:
        return sqlite3.connect(store).execute("SELECT COUNT(*) FROM runs WHERE status='complete'").fetchone()[0]
    except sqlite3.DatabaseError:
        return 0


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(case: Case, tmp_path: Path, tiny_model_dir: Path, evalkit_cli) -> None:
    argv = case.build(tmp_path, tiny_model_dir)
    complete_before = _complete_runs(tmp_path / "r.db")
    result = evalkit_cli(*argv)
    assert result.exit_code == case.code, result.output
    assert case.message in result.output, result.output
    assert "Traceback" not in result.output
    assert _complete_runs(tmp_path / "r.db") == complete_before


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 30
