"""What a task's numbers depend on in its data, by content (never by file name or mtime).

Three facts live here:
- the local files a task reads (data_files, globs expanded, and every file of a local
  `dataset_path` folder, which resolves against the YAML's folder like data_files do);
- a `datasets` cache folder keyed by those files' content: `datasets` keys its cache of local
  json/csv files by path and mtime, so a label edited with its mtime kept (an editor that keeps
  it, `cp -p`, `rsync -a`, an unpacked archive) would be served from the old cache, even with
  `--rerun`, `--no-cache` or a fresh EVALKIT_HOME;
- a hash over every loaded document (evaluation, few-shot and training splits, after any
  process_docs hook, so files a hook reads are covered too): a stored cell is reused only
  when it was computed from the same documents.
"""

from __future__ import annotations

import glob
import hashlib
import json
from pathlib import Path
from typing import Any, Iterable, Iterator

from evalkit.tasks import data_files


def resolve_dataset_path(config: dict[str, Any], yaml_path: Path | None) -> None:
    """A relative `dataset_path` naming a folder next to the YAML becomes that folder's absolute
    path (as data_files are relative to the YAML), not whatever the working directory holds."""
    folder = local_dataset_folder(config, yaml_path.parent if yaml_path is not None else None)
    if folder is not None:
        config["dataset_path"] = str(folder)


def local_dataset_folder(config: dict[str, Any], base: Path | None) -> Path | None:
    """The local folder `dataset_path` names (relative to `base`, the YAML's folder), or None."""
    name = config.get("dataset_path")
    if not isinstance(name, str) or not name or "://" in name:
        return None
    path = Path(name).expanduser()
    if not path.is_absolute():
        if base is None:
            return None
        path = base / path
    return path.resolve() if path.is_dir() else None


def local_data_files(config: dict[str, Any], base: Path | None) -> list[Path]:
    """Every local file the task's data is read from: declared data files (globs expanded) and the
    files of a local dataset_path folder (hidden ones aside), sorted."""
    found: set[Path] = set()
    for path in data_files.declared_files(config, base):
        if any(ch in str(path) for ch in "*?["):
            found.update(Path(p) for p in glob.glob(str(path), recursive=True))
        else:
            found.add(path)
    folder = local_dataset_folder(config, base)
    if folder is not None:
        found.update(p for p in folder.rglob("*") if not _hidden(p.relative_to(folder)))
    return sorted(p for p in found if p.is_file())


def content_digest(paths: Iterable[Path]) -> str:
    """sha256 over each file's path and content hash (memoised by evalkit.models.fingerprint)."""
    from evalkit.models.fingerprint import file_sha256

    digest = hashlib.sha256()
    for path in paths:
        digest.update(f"{path}\x00{file_sha256(path)}\x00".encode())
    return digest.hexdigest()[:16]


def use_content_keyed_cache(config: dict[str, Any]) -> None:
    """Point `datasets` at a cache folder named by the local data's content (paths already absolute),
    so an edited file is read again whatever its mtime. It lies in `datasets`' own cache (shared by
    every EVALKIT_HOME: content-named, it cannot be stale). A task with no local data is left alone."""
    from datasets import config as datasets_config

    files = local_data_files(config, Path.cwd())  # paths are absolute; a relative dataset_path is the cwd's
    if not files:
        return
    kwargs = config.get("dataset_kwargs")
    if not isinstance(kwargs, dict):
        kwargs = config["dataset_kwargs"] = {}
    base = kwargs.get("cache_dir") or Path(datasets_config.HF_DATASETS_CACHE) / "evalkit-local"
    kwargs["cache_dir"] = str(Path(base) / content_digest(files))


def documents_hash(task: Any) -> str:
    """Hash over the doc_hash (lm-eval's) of every document the task evaluates, shows as few-shot
    examples or trains on, split by split."""
    from lm_eval.utils import handle_non_serializable, hash_string

    digest = hashlib.sha256()
    for label, docs in _document_sets(task):
        digest.update(f"\x00{label}\x00".encode())
        for doc in docs:
            text = json.dumps(doc, indent=2, default=handle_non_serializable, ensure_ascii=False)
            digest.update(hash_string(text).encode())
    return digest.hexdigest()[:16]


def _document_sets(task: Any) -> Iterator[tuple[str, Iterable[Any]]]:
    yield "eval", task.eval_docs
    if task.has_training_docs():
        yield "train", task.training_docs()
    fewshot = task.fewshot_docs()
    if fewshot is not None:
        yield "fewshot", fewshot


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)
