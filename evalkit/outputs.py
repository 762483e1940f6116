"""Writing an output file (export, report) without ever losing what was there.

Every command that writes a file the user named goes through `output_file`: a results
database is never written over (not even with --force), an existing file is replaced only
with --force, a file the same command reads (the store, a baseline) is never the output, and
the content is written to a temporary file beside the target and renamed over it only once
complete, so a failed write leaves the old file as it was.
"""

from __future__ import annotations

import os
import secrets
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

from evalkit.errors import InputError
from evalkit.regular_files import kind_of_mode, non_regular_kind

_SQLITE_MAGIC = b"SQLite format 3\x00"
_COMPANIONS = ("-wal", "-shm", "-journal")


def is_sqlite_file(path: Path) -> bool:
    """True when `path` starts with SQLite's header (any SQLite database, evalkit's or not).
    Only a regular file is opened: reading a FIFO would block until something writes to it."""
    try:
        if not Path(path).is_file():
            return False
        with Path(path).open("rb") as handle:
            return handle.read(len(_SQLITE_MAGIC)) == _SQLITE_MAGIC
    except OSError:
        return False


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _is_database_companion(path: Path) -> bool:
    """`x.db-wal`, `x.db-shm` or `x.db-journal` next to an SQLite database `x.db`."""
    text = str(path)
    return any(text.endswith(s) and is_sqlite_file(Path(text[: -len(s)])) for s in _COMPANIONS)


def check_output_path(path: Path, *, force: bool, inputs: Sequence[Path] = (), option: str = "-o") -> None:
    """Refuse an output path that is a directory, a database, an input of this command, or an
    existing file without --force. InputError (exit 2) names the path and what to do."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"Output path '{path}' ({option}) is a directory.", hint="Give a file name.")
    for source in inputs:
        if _same_file(path, Path(source)) or Path(os.path.abspath(path)) == Path(os.path.abspath(source)):
            raise InputError(f"Output path '{path}' ({option}) is also an input of this command "
                             f"('{source}'); writing it would destroy what is being read. Nothing was written.",
                             hint="Choose another output file.")
    if _is_database_companion(path):
        raise InputError(f"Output path '{path}' ({option}) is the journal of an SQLite database; writing it "
                         "would lose that database's latest changes. Nothing was written.",
                         hint="Choose another output file.")
    if is_sqlite_file(path) or any(Path(f"{path}{suffix}").exists() for suffix in _COMPANIONS):
        raise InputError(f"Output path '{path}' ({option}) is an SQLite database (a results store?); "
                         "evalkit never writes over a database, with or without --force. Nothing was written.",
                         hint="Choose another output file.")
    if path.exists() and not path.is_file():
        raise InputError(f"Output path '{path}' ({option}) is not a regular file (a device, pipe or socket); "
                         "evalkit writes a new file and renames it into place, which would replace it. "
                         "Nothing was written.", hint="Choose a file name; leave -o out to print to stdout.")
    if path.exists() and not force:
        raise InputError(f"Output file '{path}' ({option}) already exists; it was left untouched.",
                         hint="Pass --force to replace it, or choose another file.")
    _check_folder(path, option)


def _check_folder(path: Path, option: str) -> None:
    """The folder `path` goes in must be (or be creatable inside) a writable directory: found
    before any work, not after the report was computed."""
    folder = Path(os.path.abspath(path)).parent
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(f"Output path '{path}' ({option}): '{existing}' is a file, not a folder, so nothing can "
                         "be written under it. Nothing was written.", hint=f"Pass {option} with a file in a folder.")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(f"Output path '{path}' ({option}): the folder '{existing}' is not writable. "
                         "Nothing was written.", hint=f"Pass {option} with a writable location.")


def check_step_summary(inputs: Sequence[Path] = ()) -> None:
    """$GITHUB_STEP_SUMMARY (when set) must be a file markdown can be appended to: not a directory,
    not in a missing folder, not a database or a file this command reads. Checked before any work,
    so a misconfigured CI step fails at once (exit 2) instead of passing without its summary."""
    text = os.environ.get("GITHUB_STEP_SUMMARY")
    if not text:
        return
    path, option = Path(text), "$GITHUB_STEP_SUMMARY"
    why = None
    kind = non_regular_kind(path)
    if path.is_dir():
        why = "is a directory"
    elif kind is not None:
        why = f"is {kind}, not a regular file (appending to it could block forever)"
    elif is_sqlite_file(path) or _is_database_companion(path):
        why = "is an SQLite database (a results store?); appending to it would damage it"
    elif any(_same_file(path, Path(source)) for source in inputs):
        why = "is also an input of this command"
    elif not path.parent.is_dir():
        why = f"is in a folder that does not exist ('{path.parent}')"
    if why:
        raise InputError(f"{option} '{path}' {why}; nothing was written.",
                         hint="Point GITHUB_STEP_SUMMARY at a file (GitHub Actions sets it for you), or unset it.")


def append_regular(path: Path, text: str) -> None:
    """Append `text` to `path` (created if absent), which must be a regular file: opened without
    blocking, so a FIFO with no reader is an OSError at once instead of a hang."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK, 0o644)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        if (kind := kind_of_mode(os.fstat(fd).st_mode)) is not None:
            raise OSError(f"it is {kind}, not a regular file")
        os.set_blocking(fd, True)
        handle.write(text)


@contextmanager
def output_file(path: Path, *, force: bool, inputs: Sequence[Path] = (), option: str = "-o") -> Iterator[Path]:
    """Check `path` (see check_output_path), yield a temporary path beside it to write to, and
    rename that over `path` only when the block finishes without error."""
    path = Path(path)
    check_output_path(path, force=force, inputs=inputs, option=option)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"Cannot create the folder of output file '{path}': {exc.strerror or exc}.",
                         hint=f"Pass {option} with a writable location.") from exc
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        yield temporary
        os.replace(temporary, path)
    except OSError as exc:
        raise InputError(f"Cannot write output file '{path}': {exc.strerror or exc}; "
                         "any earlier file there is unchanged.",
                         hint=f"Pass {option} with a writable location.") from exc
    finally:
        temporary.unlink(missing_ok=True)
