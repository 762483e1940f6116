"""Model fingerprints follow the files' content: a file replaced with its mtime restored (`cp -p`,
`rsync -a`, an unpacked archive) and tokenizer files are part of what a fingerprint hashes."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from evalkit.models.fingerprint import directory_fingerprint, file_sha256


def _replace_keeping_mtime(path: Path, content: bytes) -> None:
    stat = path.stat()
    path.write_bytes(content)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_mtime_ns == stat.st_mtime_ns and path.stat().st_size == stat.st_size


def test_same_size_content_with_restored_mtime_is_hashed_again(tmp_path: Path) -> None:
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"old weights")
    first = file_sha256(weights)
    _replace_keeping_mtime(weights, b"new weights")
    assert file_sha256(weights) != first


def test_a_checkpoint_copied_over_with_cp_p_changes_the_fingerprint(tmp_path: Path) -> None:
    old, new, target = tmp_path / "old", tmp_path / "new", tmp_path / "model"
    for folder, content in ((old, b"A" * 64), (new, b"B" * 64)):
        folder.mkdir()
        (folder / "config.json").write_text('{"model_type": "llama"}')
        (folder / "model.safetensors").write_bytes(content)
    stat = (old / "model.safetensors").stat()
    os.utime(new / "model.safetensors", ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size, same mtime
    shutil.copytree(old, target)
    before = directory_fingerprint(target)
    shutil.copy2(new / "model.safetensors", target / "model.safetensors")  # what `cp -p` does
    assert (target / "model.safetensors").stat().st_mtime_ns == stat.st_mtime_ns
    assert directory_fingerprint(target) != before


def test_tokenizer_files_are_part_of_a_directory_fingerprint(tiny_model_dir: Path, tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    before = directory_fingerprint(model)
    config = model / "tokenizer_config.json"
    config.write_text(config.read_text().replace("{", '{"add_bos_token": true, ', 1))
    after = directory_fingerprint(model)
    assert after != before
    (model / "chat_template.jinja").write_text("{{ messages }}")
    assert directory_fingerprint(model) != after


def test_a_tokenizer_read_from_another_folder_is_part_of_the_source_fingerprint(tiny_model_dir: Path,
                                                                                tmp_path: Path) -> None:
    """A checkpoint series reads its one tokenizer from the training folder: its content counts."""
    import dataclasses

    from evalkit.engine.cell_reuse import source_fingerprint
    from evalkit.models.spec import resolve_model_spec

    shared = tmp_path / "tokenizer"
    shutil.copytree(tiny_model_dir, shared)
    spec = dataclasses.replace(resolve_model_spec(str(tiny_model_dir)), tokenizer=str(shared))
    before = source_fingerprint(spec)
    config = shared / "tokenizer_config.json"
    config.write_text(config.read_text().replace("{", '{"add_bos_token": true, ', 1))
    assert source_fingerprint(spec) != before
