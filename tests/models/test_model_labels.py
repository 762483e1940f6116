"""A run's model labels are unique: tables, gates and exports key on them."""

from __future__ import annotations

from pathlib import Path

from evalkit.models.spec import resolve_model_spec
from evalkit.plan import make_plan
from evalkit.plan.settings import parse_setting


def _checkpoint(folder: Path) -> str:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    (folder / "model.safetensors").write_bytes(b"")
    return str(folder)


def _labels(tmp_path: Path, refs: list[str]) -> list[str]:
    specs = [resolve_model_spec(ref) for ref in refs]
    cells = make_plan(specs, ["sst2"], [parse_setting("zero-shot")], seed=1, batch_size=1)
    return [cell.model.label for cell in cells]


def test_two_folders_of_the_same_name_are_labelled_by_their_parent(tmp_path: Path) -> None:
    refs = [_checkpoint(tmp_path / "a" / "final"), _checkpoint(tmp_path / "b" / "final")]
    assert _labels(tmp_path, refs) == ["a/final", "b/final"]


def test_only_as_much_path_as_tells_them_apart_and_other_models_keep_their_name(tmp_path: Path) -> None:
    refs = [_checkpoint(tmp_path / "x" / "run" / "final"), _checkpoint(tmp_path / "y" / "run" / "final"),
            _checkpoint(tmp_path / "other")]
    assert _labels(tmp_path, refs) == ["x/run/final", "y/run/final", "other"]


def test_the_same_model_given_twice_is_evaluated_once(tmp_path: Path) -> None:
    ref = _checkpoint(tmp_path / "a" / "final")
    assert _labels(tmp_path, [ref, ref]) == ["final"]
