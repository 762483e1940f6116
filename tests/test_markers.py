"""The heavy kinds of test are marked by the fixture that makes them heavy (tests/conftest.py), so
the fast inner loop (`-m "not slow and not ray and not postgres and not browser and not multiprocess"`)
leaves out every test that starts a server, a cluster or a browser."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from tests.conftest import pytest_collection_modifyitems


class _Item:
    def __init__(self, fixtures: tuple[str, ...], params: dict[str, Any] | None = None) -> None:
        self.fixturenames = fixtures
        self.callspec = SimpleNamespace(params=params or {})
        self.marks: list[str] = []

    def add_marker(self, mark: pytest.MarkDecorator) -> None:
        self.marks.append(mark.name)


@pytest.mark.parametrize(("fixtures", "params", "expected"), [
    (("tmp_path", "pg_url"), {}, ["postgres"]),
    (("pg_server",), {}, ["postgres"]),
    (("store_at",), {"store_at": "postgresql"}, ["postgres"]),
    (("store_at",), {"store_at": "sqlite"}, []),
    (("ray_cluster", "tiny_model_dir"), {}, ["ray"]),
    (("tiny_model_dir", "evalkit_cli"), {}, []),
])
def test_heavy_fixtures_mark_their_tests(fixtures: tuple[str, ...], params: dict[str, Any],
                                         expected: list[str]) -> None:
    item = _Item(fixtures, params)
    pytest_collection_modifyitems([item])  # type: ignore[list-item]
    assert item.marks == expected


def test_every_heavy_marker_is_registered(pytestconfig: pytest.Config) -> None:
    registered = {line.split(":")[0] for line in pytestconfig.getini("markers")}
    assert {"slow", "multiprocess", "ray", "postgres", "browser"} <= registered
    assert "--strict-markers" in pytestconfig.getini("addopts")
