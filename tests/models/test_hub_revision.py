"""A hub model's fingerprint names the commit its revision resolves to (transformers 5 no longer
sets config._commit_hash): a new version pushed to the same branch is another model. A fake HF cache
(models--ORG--NAME/snapshots/<sha>, refs/main) stands in for the Hub, offline."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from evalkit.models.hub_revision import hub_commit
from tests.executors.store_rows import FIXTURES, cells, computed, runs

REPO = "evalkit-test/tiny"
SHA_1, SHA_2 = "1" * 40, "2" * 40


@pytest.fixture
def hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from huggingface_hub import constants

    cache = tmp_path / "hf-home" / "hub"
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    return cache


def _publish(cache: Path, source: Path, sha: str) -> None:
    """What downloading `sha` as the new main leaves in the HF cache."""
    repo = cache / f"models--{REPO.replace('/', '--')}"
    shutil.copytree(source, repo / "snapshots" / sha)
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(sha)


def test_the_commit_is_the_snapshot_the_branch_points_at(hub_cache: Path, tiny_model_dir: Path) -> None:
    assert hub_commit(REPO, None, ask_hub_first=True) is None  # nothing cached, offline
    _publish(hub_cache, tiny_model_dir, SHA_1)
    assert hub_commit(REPO, None, ask_hub_first=True) == SHA_1
    _publish(hub_cache, tiny_model_dir, SHA_2)
    assert hub_commit(REPO, "main", ask_hub_first=False) == SHA_2
    assert hub_commit(REPO, SHA_1, ask_hub_first=False) == SHA_1


def test_a_new_version_of_a_hub_model_is_not_answered_with_the_old_numbers(
        hub_cache: Path, tiny_model_dir: Path, tmp_path: Path, evalkit_cli) -> None:
    from tests.tiny_model import save_tiny_checkpoint

    _publish(hub_cache, tiny_model_dir, SHA_1)
    store = tmp_path / "r.db"
    args = ["run", "-m", REPO, "--include-path", FIXTURES, "-t", "toy_sentiment", "--limit", "4", "--store", store]
    first = evalkit_cli(*args)
    assert first.exit_code == 0, first.output
    _publish(hub_cache, save_tiny_checkpoint(tmp_path / "v2", seed=7), SHA_2)
    again = evalkit_cli(*args)
    assert again.exit_code == 0, again.output
    second = runs(store)[1][0]
    assert computed(store, second) == 1
    (details,) = cells(store, second).values()
    assert details["requests"]["reused"] == 0 and details["requests"]["computed"] > 0
    with sqlite3.connect(store) as conn:
        prints = [r[0] for r in conn.execute("SELECT model_fingerprint FROM cells ORDER BY rowid")]
    assert len(set(prints)) == 2
