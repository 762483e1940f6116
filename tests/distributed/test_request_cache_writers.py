"""Two processes writing the request cache at once (what every process of a data parallel run does)."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

PER_PROCESS = 300


def _write(path: str, rank: int, start: "multiprocessing.synchronize.Event") -> None:
    from evalkit.engine.request_cache import RequestCache

    start.wait()
    cache = RequestCache(Path(path))  # both open the fresh file together: WAL switch and table creation race
    try:
        for i in range(PER_PROCESS):
            cache.put(f"{rank}-{i}", [-float(i), True])
    finally:
        cache.close()


def test_two_processes_write_the_same_fresh_cache(tmp_path):
    from evalkit.engine.request_cache import RequestCache

    path = tmp_path / "requests.db"
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    writers = [context.Process(target=_write, args=(str(path), rank, start)) for rank in (0, 1)]
    for writer in writers:
        writer.start()
    start.set()
    for writer in writers:
        writer.join(timeout=120)
    assert [w.exitcode for w in writers] == [0, 0]
    cache = RequestCache(path)
    try:
        found = cache.get_many([f"{rank}-{i}" for rank in (0, 1) for i in range(PER_PROCESS)])
    finally:
        cache.close()
    assert len(found) == 2 * PER_PROCESS and found["1-7"] == (-7.0, True)
