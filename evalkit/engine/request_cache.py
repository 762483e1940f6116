"""Resumable evaluation: every model request's result is saved the moment it is computed.

Results are keyed by the model's identity (fingerprint incl. adapter, dtype, evalkit version)
and a hash of the request (type + arguments), so they do not depend on batch size, device
or the number of processes. Re-running a crashed command reuses every saved result and
computes only the rest. The cache is an SQLite file under EVALKIT_HOME (WAL mode, one
small transaction per result, a busy timeout: safe with concurrent processes).

With several processes (evalkit.engine.processes) each saves what it computed, and they first agree on
what is missing (a request any of them lacks is computed), so a run killed with N processes resumes
with any other number.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

from evalkit.home import caching_off, evalkit_home, is_disk_full

REQUEST_TYPES = ("loglikelihood", "loglikelihood_rolling", "generate_until")


def request_cache_path() -> Path:
    return evalkit_home() / "requests.db"


_SQLITE_MAGIC = b"SQLite format 3\x00"


def check_request_cache(path: Path) -> None:
    """InputError (exit 2, at the door, before any model loads) when the request cache file exists but
    cannot be used: not a regular file, not SQLite, malformed, or holding a foreign `results` table."""
    from evalkit.errors import InputError
    from evalkit.regular_files import non_regular_kind

    if not path.exists() and not path.is_symlink():
        return
    kind = non_regular_kind(path)
    problem = f"is {kind}, not a database file" if kind else _database_problem(path)
    if problem:
        raise InputError(f"The request cache '{path}' {problem}.",
                         hint=f"It only saves computed results for resuming: move it away (mv '{path}' "
                              f"'{path}.broken') to start a fresh one, or run with --no-cache.")


def _database_problem(path: Path) -> str | None:
    try:
        with path.open("rb") as handle:
            if handle.read(len(_SQLITE_MAGIC)) not in (_SQLITE_MAGIC, b""):
                return "is not an SQLite database"
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=60)
        try:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "results" in tables:
                columns = [row[1] for row in conn.execute("PRAGMA table_info(results)")]
                if columns != ["key", "value"]:
                    return f"has a 'results' table with columns {columns}, not evalkit's (key, value)"
                conn.execute("SELECT key, value FROM results LIMIT 1").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return f"is damaged or not an SQLite database ({exc})"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    return None


def request_key(model_key: str, request_type: str, args: Any) -> str:
    payload = json.dumps([request_type, list(args)], default=str, ensure_ascii=False)
    return hashlib.sha256(f"{model_key}\x00{payload}".encode()).hexdigest()


class RequestCache:
    """SQLite table request key -> pickled result."""

    def __init__(self, path: Path) -> None:
        self.path, self.full = path, False
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = _open(path)
        except (sqlite3.OperationalError, OSError) as exc:
            if not _disk_full(exc):
                raise
            self.full = True  # no room even to open it: answer from an empty cache, save nothing
            caching_off("request cache", path, exc)
            self.conn = _open(":memory:")

    def get_many(self, keys: list[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            rows = self.conn.execute(f"SELECT key, value FROM results WHERE key IN ({','.join('?' * len(chunk))})", chunk)
            found.update((k, _decode(v)) for k, v in rows)
        return found

    def put(self, key: str, value: Any) -> None:
        """Save one result; when the disk is full, warn once and go on without saving (the cache only
        spares recomputing after a crash)."""
        if self.full:
            return
        try:
            self.conn.execute("INSERT OR REPLACE INTO results VALUES (?, ?)", (key, json.dumps(value)))
        except (sqlite3.OperationalError, OSError) as exc:
            if not _disk_full(exc):
                raise
            self.full = True
            caching_off("request cache", self.path, exc)

    def close(self) -> None:
        self.conn.close()


class _SavingHook:
    """lm-eval's cache-hook protocol: backends call add_partial for each result as computed."""

    def __init__(self, cache: RequestCache, model_key: str, counter: dict[str, int]) -> None:
        self.cache, self.model_key, self.counter = cache, model_key, counter
        self.saved: set[str] = set()

    def add_partial(self, attr: str, req: Any, res: Any) -> None:
        if req is None:
            return
        key = request_key(self.model_key, attr, req)
        self.cache.put(key, res)
        self.saved.add(key)
        self.counter["saved"] += 1


class ResumableLM:
    """Wraps an lm-eval LM: answers saved requests from the cache, saves new ones as computed."""

    def __init__(self, lm: Any, cache: RequestCache, model_key: str, processes: Any = None) -> None:
        self.lm = lm
        self.cache = cache
        self.model_key = model_key
        self.processes = processes  # evalkit.engine.processes.Processes, or None: one process
        self.stats = {"reused": 0, "computed": 0, "saved": 0}
        self.hook = _SavingHook(cache, model_key, self.stats)
        lm.set_cache_hook(self.hook)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.lm, name)
        if name not in REQUEST_TYPES:
            return attr
        return lambda requests: self._answer(name, requests)

    def _answer(self, request_type: str, requests: list[Any]) -> list[Any]:
        keys = [request_key(self.model_key, request_type, r.args) for r in requests]
        sampling = request_type == "generate_until"
        cached = self.cache.get_many(keys)
        missing = self._agreed([i for i, k in enumerate(keys)
                                if k not in cached or (sampling and requests[i].args[1].get("do_sample", False))])
        computed = getattr(self.lm, request_type)([requests[i] for i in missing]) if missing else []
        answers = [cached.get(k) for k in keys]
        here = set(getattr(self.lm, "computed_here", range(len(missing)))) if missing else set()
        for position, (i, value) in enumerate(zip(missing, computed, strict=True)):
            answers[i] = value
            if keys[i] not in self.hook.saved and position in here:  # a backend that does not report results
                self.cache.put(keys[i], value)
        self.stats["reused"] += len(requests) - len(missing)
        self.stats["computed"] += len(missing)
        return answers

    def _agreed(self, missing: list[int]) -> list[int]:
        """The positions missing on any process (they read the cache at slightly different moments)."""
        if self.processes is None or not self.processes.distributed:
            return missing
        return sorted(set().union(*self.processes.gather(missing)))


def _open(path: Path | str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)  # busy timeout
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    return conn


def _disk_full(exc: BaseException) -> bool:
    return is_disk_full(exc) or getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL


def _decode(text: str) -> Any:
    """JSON back to lm-eval's shapes: (logprob, is_greedy) pairs are tuples."""
    value = json.loads(text)
    return tuple(value) if isinstance(value, list) else value
