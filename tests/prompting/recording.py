"""Recording what a backend is asked: the Instance arguments lm-eval's evaluator hands it."""

from __future__ import annotations

from typing import Any

import pytest

REQUEST_TYPES = ("loglikelihood", "generate_until")


def record_requests(monkeypatch: pytest.MonkeyPatch, backend: type) -> dict[str, list[tuple[Any, ...]]]:
    """Wrap `backend`'s request methods so every request's arguments are kept, in order."""
    seen: dict[str, list[tuple[Any, ...]]] = {kind: [] for kind in REQUEST_TYPES}
    for kind in REQUEST_TYPES:
        original = getattr(backend, kind)

        def recorder(self: Any, requests: list, *args: Any, _kind: str = kind, _original: Any = original,
                     **kwargs: Any) -> Any:
            seen[_kind].extend(tuple(r.args) for r in requests)
            return _original(self, requests, *args, **kwargs)

        monkeypatch.setattr(backend, kind, recorder)
    return seen
