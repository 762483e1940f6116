"""Fake Hugging Face Trainer output directories built from the tiny random Llama.

The fixtures (tests/series/conftest.py) are session-scoped and read-only: `full_run` (full
checkpoints) and `adapter_run` (LoRA adapter checkpoints on `tiny_model_dir`), both at steps
5, 9 and 10 so that lexical order (checkpoint-10 < checkpoint-5 < checkpoint-9) differs
from training order. Tests that need a
broken variant copy a run into their own tmp_path with `copy_run` and damage the copy.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

STEPS = (5, 9, 10)
STEPS_PER_EPOCH = 10
TOKENS_PER_STEP = 128
FLOS_PER_STEP = 1.0e9


@dataclass(frozen=True)
class TrainerRun:
    """A fake training output directory: OUT/checkpoint-N for each step."""

    out: Path
    steps: tuple[int, ...]

    def checkpoint(self, step: int) -> Path:
        """The folder of the checkpoint at `step`."""
        return self.out / f"checkpoint-{step}"


def trainer_state(step: int, *, tokens_in_state: bool) -> dict[str, object]:
    """trainer_state.json as Trainer writes it (tokens counted in the state or only in the log)."""
    log = [{"step": s, "epoch": s / STEPS_PER_EPOCH, "loss": 3.0 - 0.1 * s,
            "num_input_tokens_seen": s * TOKENS_PER_STEP} for s in range(1, step + 1)]
    return {"global_step": step, "epoch": step / STEPS_PER_EPOCH, "max_steps": 10,
            "num_input_tokens_seen": step * TOKENS_PER_STEP if tokens_in_state else 0,
            "total_flos": step * FLOS_PER_STEP, "log_history": log}


def write_state(folder: Path, state: dict[str, object]) -> None:
    """Write a trainer_state.json into `folder`."""
    (folder / "trainer_state.json").write_text(json.dumps(state, indent=2))


def copy_run(run: TrainerRun, tmp_path: Path, name: str = "run") -> TrainerRun:
    """A private copy of a session run that a test may damage."""
    target = (tmp_path / name).resolve()
    shutil.copytree(run.out, target)
    return TrainerRun(target, run.steps)


def edit_json(path: Path, **changes: object) -> None:
    """Set keys of a JSON file in place."""
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))
