"""A request cache ($EVALKIT_HOME/requests.db) that cannot be used is bad input found at the door
(issue 24 item 8): exit 2 naming the file and what to do, before any model loads; --no-cache runs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.executors.store_rows import run_count

SENTIMENT = str(Path(__file__).resolve().parents[1] / "fixtures" / "tasks" / "toy_sentiment" / "toy_sentiment.yaml")


@pytest.fixture
def no_model_load(monkeypatch: pytest.MonkeyPatch) -> None:
    import evalkit.models.loading as loading

    def refuse(spec):  # noqa: ANN001
        raise AssertionError(f"model {spec.name} was loaded before the input was checked")

    monkeypatch.setattr(loading, "load_model", refuse)


def _malformed(path: Path) -> None:
    """A file with SQLite's header whose pages are garbage."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE results (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.commit()
    conn.close()
    data = bytearray(path.read_bytes())
    data[100:] = b"\xff" * (len(data) - 100)
    path.write_bytes(bytes(data))


def _foreign(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE results (id INTEGER)")
    conn.commit()
    conn.close()


BREAKERS = {
    "directory": lambda p: p.mkdir(),
    "not sqlite": lambda p: p.write_text("hello, this is not a database\n" * 10),
    "malformed": _malformed,
    "foreign table": _foreign,
}


@pytest.mark.parametrize("how", list(BREAKERS))
def test_an_unusable_request_cache_is_refused_before_the_model_loads(how: str, isolated_home: Path, tiny_model_dir,
                                                                     tmp_path: Path, evalkit_cli,
                                                                     no_model_load) -> None:
    cache = isolated_home / "requests.db"
    isolated_home.mkdir(parents=True, exist_ok=True)
    BREAKERS[how](cache)
    store = tmp_path / "r.db"
    r = evalkit_cli("run", "-m", tiny_model_dir, "-t", SENTIMENT, "--limit", 2, "--store", store)
    assert r.exit_code == 2, r.output
    assert f"request cache '{cache}'" in r.stderr and "--no-cache" in r.stderr and "move it away" in r.stderr
    assert "Traceback" not in r.output
    assert not store.exists() or run_count(store) == 0


def test_no_cache_runs_past_a_broken_request_cache(isolated_home: Path, tiny_model_dir, tmp_path: Path,
                                                  evalkit_cli) -> None:
    isolated_home.mkdir(parents=True, exist_ok=True)
    (isolated_home / "requests.db").write_text("garbage")
    r = evalkit_cli("run", "-m", tiny_model_dir, "-t", SENTIMENT, "--limit", 2, "--no-cache", "--dtype", "float32",
                    "--store", tmp_path / "r.db")
    assert r.exit_code == 0, r.output


def test_a_good_request_cache_passes(tmp_path: Path) -> None:
    from evalkit.engine.request_cache import RequestCache, check_request_cache

    cache = RequestCache(tmp_path / "requests.db")
    cache.put("k", [1.0, True])
    cache.close()
    check_request_cache(tmp_path / "requests.db")
    check_request_cache(tmp_path / "absent.db")
