"""PostgreSQL vs SQLite as the results store: write one 10,000-document cell, read its samples back
as a DataFrame, on each backend, in one run.

    .venv/bin/python bench/store_backends.py [--docs N] [--repeat R] [--pg-url postgresql://...]

Without --pg-url a throw-away local server is started (tests/pg_server.py: initdb into a temporary
folder, fsync off, the same server the tests use), so the PostgreSQL figures are a local server over
TCP on 127.0.0.1, not a remote one. Each write goes through `evalkit.store.writer.write_cell` (one
transaction: the cell row, its metric and every sample) into a fresh store; each read is
`evalkit.store.reader.samples_frame` (rows -> DataFrame, scores JSON parsed). The best of R repeats
is printed for each, with the PostgreSQL / SQLite ratio.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from evalkit.store.reader import samples_frame  # noqa: E402
from evalkit.store.schema import open_for_reading, open_for_writing  # noqa: E402
from evalkit.store.writer import begin_run, write_cell  # noqa: E402
from tests.store.synthetic import synthetic_run  # noqa: E402


def best_of(repeat: int, step: Callable[[int], float]) -> float:
    return min(step(i) for i in range(repeat))


def measure(make_store: Callable[[int], str], docs: int, repeat: int) -> tuple[float, float, int]:
    """(best write seconds, best read seconds, rows read) for one backend."""
    info, cells = synthetic_run("bench", n_cells=1, n_docs=docs)
    stores: list[str] = []

    def write(i: int) -> float:
        location = make_store(i)
        stores.append(location)
        conn = open_for_writing(location)
        begin_run(conn, info)
        start = time.perf_counter()
        write_cell(conn, "bench", cells[0])
        elapsed = time.perf_counter() - start
        conn.close()
        return elapsed

    rows: list[int] = []

    def read(i: int) -> float:
        conn = open_for_reading(stores[-1])
        start = time.perf_counter()
        frame = samples_frame(conn, "bench", "cell0")
        elapsed = time.perf_counter() - start
        conn.close()
        rows.append(len(frame))
        return elapsed

    return best_of(repeat, write), best_of(repeat, read), rows[-1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pg-url", default=None, help="an existing server's maintenance URL (default: start one)")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="evalkit-bench-"))
    sqlite = measure(lambda i: str(folder / f"s{i}.db"), args.docs, args.repeat)
    if args.pg_url:
        postgres = _on_server(args.pg_url, args.docs, args.repeat)
    else:
        from tests.pg_server import running_server, server_binaries

        binaries = server_binaries()
        if binaries is None:
            raise SystemExit("PostgreSQL binaries not found (make postgres), and no --pg-url given.")
        with running_server(binaries) as server:
            postgres = _on_server(server.url(), args.docs, args.repeat)
    _report(args.docs, args.repeat, sqlite, postgres)


def _on_server(url: str, docs: int, repeat: int) -> tuple[float, float, int]:
    import psycopg

    def fresh(i: int) -> str:
        name = f"evalkit_bench_{i}"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name}")
            conn.execute(f"CREATE DATABASE {name}")
        return url.rsplit("/", 1)[0] + f"/{name}"

    return measure(fresh, docs, repeat)


def _report(docs: int, repeat: int, sqlite: Any, postgres: Any) -> None:
    print(f"One cell of {docs:,} documents, best of {repeat}:")
    print(f"{'':12}{'write cell (s)':>16}{'read samples (s)':>18}{'rows':>8}")
    for label, (write, read, rows) in (("SQLite", sqlite), ("PostgreSQL", postgres)):
        print(f"{label:12}{write:16.3f}{read:18.3f}{rows:8d}")
    print(f"{'PG / SQLite':12}{postgres[0] / sqlite[0]:15.2f}x{postgres[1] / sqlite[1]:17.2f}x")


if __name__ == "__main__":
    main()
