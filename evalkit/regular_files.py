"""Reading only regular files: the one rule behind every task YAML, data file and output evalkit
opens by a name the user (or a folder the user named) gave.

Opening a FIFO blocks until something writes to it, and a symlink to /dev/zero reads forever;
`Path.is_file()` alone says such a file "does not exist". `non_regular_kind` names what a path
really is (after following symlinks) without opening it, and `read_regular_bytes` opens without
blocking, checks the opened file is regular and reads at most a limit.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


class NotRegularFileError(OSError):
    """A path that exists but is not a regular file (`kind` says what it is)."""

    def __init__(self, path: Path, kind: str) -> None:
        super().__init__(f"'{path}' is {kind}, not a regular file")
        self.path = path
        self.kind = kind


class FileTooLargeError(OSError):
    """A regular file larger than the reader's limit."""

    def __init__(self, path: Path, size: int, limit: int) -> None:
        super().__init__(f"'{path}' is {size:,} bytes (limit {limit:,})")
        self.size = size
        self.limit = limit


def kind_of_mode(mode: int) -> str | None:
    """None for a regular file, else what the mode says it is ('a FIFO (named pipe)', ...)."""
    if stat.S_ISREG(mode):
        return None
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def non_regular_kind(path: Path) -> str | None:
    """What `path` is when it exists (symlinks followed) but is not a regular file; None when it is
    a regular file or does not exist. Never opens the file."""
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    return kind_of_mode(mode)


def is_regular_file(path: Path) -> bool:
    """True only for an existing regular file (symlinks followed); never opens it."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def read_regular_bytes(path: Path, limit: int) -> bytes:
    """The bytes of the regular file `path`. NotRegularFileError for a FIFO, device, socket or
    directory (opened without blocking), FileTooLargeError above `limit` bytes, else OSError."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(fd).st_mode
        if (kind := kind_of_mode(mode)) is not None:
            raise NotRegularFileError(path, kind)
        os.set_blocking(fd, True)
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise FileTooLargeError(path, os.stat(path).st_size, limit)
    return data
