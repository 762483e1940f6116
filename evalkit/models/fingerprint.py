"""Model fingerprints: a stable hash of configuration and weights, so two runs can be checked
as comparable. File hashes are memoised under EVALKIT_HOME by the file's path, inode, size, mtime and
ctime: `cp -p`, `rsync -a` or an unpacked archive restore mtime, but any write of the content
changes ctime (which no user tool sets), so a swapped file is hashed again."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from evalkit.home import caching_off, evalkit_home, is_disk_full

_WEIGHT_SUFFIXES = {".safetensors", ".bin", ".gguf", ".pt", ".pth"}
_CHUNK = 1 << 22


def file_sha256(path: Path) -> str:
    """sha256 of a file, memoised by path, inode, size, mtime and ctime (never by mtime alone)."""
    stat = path.stat()
    key = f"{path.resolve()}|{stat.st_ino}|{stat.st_size}|{stat.st_mtime_ns}|{stat.st_ctime_ns}"
    memo_path = evalkit_home() / "file-hashes.json"
    memo = _read_memo(memo_path)
    if key in memo:
        return memo[key]
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    memo[key] = digest.hexdigest()
    _write_memo(memo_path, memo)
    return memo[key]


def directory_fingerprint(directory: Path) -> str:
    """Hash of config.json (canonical) plus the content hash of every weight file and every tokenizer
    file (vocabulary, merges, special tokens, add_bos_token, chat template: they decide the token ids)."""
    digest = hashlib.sha256()
    config = directory / "config.json"
    if config.is_file():
        digest.update(json.dumps(json.loads(config.read_text()), sort_keys=True).encode())
    for path in sorted(directory.iterdir()):
        named = path.suffix in _WEIGHT_SUFFIXES or path.name == "adapter_config.json" or _is_tokenizer_file(path)
        if named and path.is_file():
            digest.update(path.name.encode())
            digest.update(file_sha256(path).encode())
    return digest.hexdigest()[:16]


def tokenizer_fingerprint(directory: Path) -> str:
    """Hash of the content of a folder's tokenizer files (a tokenizer read from another folder)."""
    digest = hashlib.sha256()
    for path in sorted(directory.iterdir()) if directory.is_dir() else []:
        if _is_tokenizer_file(path) and path.is_file():
            digest.update(path.name.encode())
            digest.update(file_sha256(path).encode())
    return digest.hexdigest()[:16]


def _is_tokenizer_file(path: Path) -> bool:
    from evalkit.models.series_checks import CHAT_TEMPLATE_FILES, TOKENIZER_FILES

    return path.name in TOKENIZER_FILES or path.name in CHAT_TEMPLATE_FILES


def combine(*parts: str) -> str:
    """Fingerprint of a model plus its adapter (or other parts), order-sensitive."""
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def _read_memo(path: Path) -> dict[str, str]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _write_memo(path: Path, memo: dict[str, str]) -> None:
    tmp = path.with_suffix(f".{os.getpid()}-{id(memo)}.tmp")  # unique per process and call
    try:
        tmp.write_text(json.dumps(memo))
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if not is_disk_full(exc):
            raise
        caching_off("file-hash memo", path, exc)  # only an optimisation: the hash is still returned
